import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBaseApp, finish } from '../../core/http/app.ts';
import { createLogger } from '../../core/log/logger.ts';
import { closeServer, listen } from '../../core/service/run.ts';
import { walletRoutes } from '../../wallet-demo/web/app.ts';
import { freePort } from './net.ts';

/** The web wallet in this process on a loopback port (given, when the stack must know its URL first), with a fresh store. */
export async function startWebWallet(opts: { registryUrl: string; port?: number }): Promise<{ url: string; dir: string; close(): Promise<void> }> {
  const port = opts.port ?? (await freePort());
  const url = `http://localhost:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'idideal-webwallet-'));
  const logger = createLogger('wallet-demo', process.env.TEST_LOG_LEVEL ?? 'silent');
  const app = createBaseApp({ logger });
  app.use(walletRoutes({ dir, registryUrl: opts.registryUrl, allowLocalHttp: true, publicUrl: url, logger }));
  finish(app, logger);
  const { server } = await listen(app, '127.0.0.1', port);
  return { url, dir, close: () => closeServer(server) };
}
