import cluster from 'node:cluster';
import type { Logger } from '../log/logger.ts';
import { runMain } from './main-wrapper.ts';

/**
 * A service on one process or, with `workers` > 1, on a cluster (ISSUER_WORKERS, VERIFIER_WORKERS):
 * the primary prepares the database once (migrations, keys: `prepare` builds the service and closes
 * it again), then forks workers that share the port; a worker that dies is replaced. Everything a
 * request may use only once (codes, nonces, responses) is decided by conditional database updates,
 * so it holds across workers as it does across instances.
 */
export async function runClustered<C extends { port: number; publicUrl: string; mode: string; notices: string[] }>(opts: {
  name: string;
  logger: Logger;
  workers: number;
  loadConfig: () => C;
  prepare: (config: C) => Promise<void>;
  start: (config: C) => Promise<{ close(): Promise<void>; port: number }>;
}): Promise<void> {
  const { name, logger } = opts;
  if (opts.workers > 1 && cluster.isPrimary) {
    await runMain(name, logger, async () => {
      const config = opts.loadConfig();
      for (const line of config.notices) console.log(line);
      await opts.prepare(config);
      let stopping = false;
      for (let i = 0; i < opts.workers; i++) cluster.fork();
      cluster.on('exit', (w, code, signal) => {
        if (!stopping) {
          logger.error({ worker: w.id, code, signal }, 'worker exited; starting another');
          cluster.fork();
        }
      });
      return {
        port: config.port,
        url: config.publicUrl,
        mode: config.mode,
        close: async () => {
          stopping = true;
          for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
          await new Promise((r) => setTimeout(r, 500));
        },
      };
    });
    return;
  }
  await runMain(name, logger, async () => {
    const config = opts.loadConfig();
    if (cluster.isPrimary) for (const line of config.notices) console.log(line);
    const s = await opts.start(config);
    return { close: s.close, port: s.port, url: config.publicUrl, mode: config.mode };
  });
}
