import { createLogger } from '../core/log/logger.ts';
import { runClustered } from '../core/service/clustered.ts';
import { loadIssuerConfig } from './config.ts';
import { createIssuerService, startIssuer } from './service.ts';

/** ISSUER_WORKERS (default 1): with more, a cluster of that many workers on the port (core/service/clustered.ts). */
const logger = createLogger('issuer');
await runClustered({
  name: 'issuer',
  logger,
  workers: Math.max(1, Number(process.env.ISSUER_WORKERS ?? 1) || 1),
  loadConfig: () => loadIssuerConfig(),
  prepare: async (config) => (await createIssuerService(config, logger)).close(),
  start: (config) => startIssuer(config, logger),
});
