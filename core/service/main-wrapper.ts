import { ConfigError } from '../config/env.ts';
import type { Logger } from '../log/logger.ts';
import { shutdownOnSignals } from './run.ts';

/** Runs a service's start function with the shared handling of configuration errors and signals. */
export async function runMain(name: string, logger: Logger, start: () => Promise<{ close(): Promise<void>; port: number; url: string; mode: string }>): Promise<void> {
  try {
    const s = await start();
    logger.info({ url: s.url, port: s.port, mode: s.mode }, `${name} listening`);
    shutdownOnSignals(logger, s.close);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`${name}: configuration error: ${e.message}`);
      process.exit(2);
    }
    logger.fatal({ err: { name: (e as Error).name, message: (e as Error).message, stack: (e as Error).stack } }, 'start-up failed');
    process.exit(1);
  }
}
