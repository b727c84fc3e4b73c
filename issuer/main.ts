import { createLogger } from '../core/log/logger.ts';
import { runMain } from '../core/service/main-wrapper.ts';
import { loadIssuerConfig } from './config.ts';
import { startIssuer } from './service.ts';

const logger = createLogger('issuer');
await runMain('issuer', logger, async () => {
  const config = loadIssuerConfig();
  for (const line of config.notices) console.log(line);
  const s = await startIssuer(config, logger);
  return { close: s.close, port: s.port, url: config.publicUrl, mode: config.mode };
});
