import { createLogger } from '../core/log/logger.ts';
import { runMain } from '../core/service/main-wrapper.ts';
import { loadVerifierConfig } from './config.ts';
import { startVerifier } from './service.ts';

const logger = createLogger('verifier');
await runMain('verifier', logger, async () => {
  const config = loadVerifierConfig();
  for (const line of config.notices) console.log(line);
  const s = await startVerifier(config, logger);
  return { close: s.close, port: s.port, url: config.publicUrl, mode: config.mode };
});
