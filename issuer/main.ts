import cluster from 'node:cluster';
import { createLogger } from '../core/log/logger.ts';
import { runMain } from '../core/service/main-wrapper.ts';
import { loadIssuerConfig } from './config.ts';
import { createIssuerService, startIssuer } from './service.ts';

/**
 * ISSUER_WORKERS (default 1): with more, the primary prepares the database (migrations, office
 * keys) once, then forks workers that share the port. Single use of codes, tx_code attempts and
 * c_nonces rests on conditional database updates, so it holds across the workers.
 */
const logger = createLogger('issuer');
const workers = Math.max(1, Number(process.env.ISSUER_WORKERS ?? 1) || 1);

if (workers > 1 && cluster.isPrimary) {
  await runMain('issuer', logger, async () => {
    const config = loadIssuerConfig();
    for (const line of config.notices) console.log(line);
    await (await createIssuerService(config, logger)).close();
    for (let i = 0; i < workers; i++) cluster.fork();
    cluster.on('exit', (w, code, signal) => {
      if (!stopping) {
        logger.error({ worker: w.id, code, signal }, 'worker exited; starting another');
        cluster.fork();
      }
    });
    let stopping = false;
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
} else {
  await runMain('issuer', logger, async () => {
    const config = loadIssuerConfig();
    if (cluster.isPrimary) for (const line of config.notices) console.log(line);
    const s = await startIssuer(config, logger);
    return { close: s.close, port: s.port, url: config.publicUrl, mode: config.mode };
  });
}
