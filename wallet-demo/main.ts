import { resolve } from 'node:path';
import { loadCommonConfig } from '../core/config/env.ts';
import { createBaseApp, finish } from '../core/http/app.ts';
import { createLogger } from '../core/log/logger.ts';
import { closeServer, listen } from '../core/service/run.ts';
import { runMain } from '../core/service/main-wrapper.ts';
import { walletRoutes } from './web/app.ts';

/** The web wallet (German default, English switch) at WALLET_PUBLIC_URL, on the same core as the CLI. */
const logger = createLogger('wallet-demo');
await runMain('wallet-demo', logger, async () => {
  const config = loadCommonConfig('wallet');
  for (const line of config.notices) console.log(line);
  const app = createBaseApp({ logger });
  app.use(
    walletRoutes({
      dir: resolve(process.env.WALLET_DIR ?? `${config.dataDir}/wallet`),
      passphrase: process.env.WALLET_PASSPHRASE || undefined,
      registryUrl: config.urls.registry,
      allowLocalHttp: config.mode === 'demo',
      publicUrl: config.publicUrl,
      logger,
    }),
  );
  finish(app, logger);
  const { server, port } = await listen(app, config.host, config.port);
  return { close: () => closeServer(server), port, url: config.publicUrl, mode: config.mode };
});
