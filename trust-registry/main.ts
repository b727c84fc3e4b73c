import { createLogger } from '../core/log/logger.ts';
import { runMain } from '../core/service/main-wrapper.ts';
import { loadRegistryConfig } from './config.ts';
import { startRegistry } from './service.ts';

const logger = createLogger('trust-registry');
await runMain('trust-registry', logger, async () => {
  const config = loadRegistryConfig();
  for (const line of config.notices) console.log(line);
  const s = await startRegistry(config, logger);
  return { close: s.close, port: s.port, url: config.publicUrl, mode: config.mode };
});
