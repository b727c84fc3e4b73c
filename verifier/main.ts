import { createLogger } from '../core/log/logger.ts';
import { runClustered } from '../core/service/clustered.ts';
import { loadVerifierConfig } from './config.ts';
import { createVerifierService, startVerifier } from './service.ts';

/** VERIFIER_WORKERS (default 1): with more, a cluster of that many workers on the port (core/service/clustered.ts). */
const logger = createLogger('verifier');
await runClustered({
  name: 'verifier',
  logger,
  workers: Math.max(1, Number(process.env.VERIFIER_WORKERS ?? 1) || 1),
  loadConfig: () => loadVerifierConfig(),
  prepare: async (config) => (await createVerifierService(config, logger)).close(),
  start: (config) => startVerifier(config, logger),
});
