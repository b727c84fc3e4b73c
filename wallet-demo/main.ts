import { resolve } from 'node:path';
import { loadCommonConfig } from '../core/config/env.ts';
import { createBaseApp, finish } from '../core/http/app.ts';
import { createLogger } from '../core/log/logger.ts';
import { closeServer, listen } from '../core/service/run.ts';
import { runMain } from '../core/service/main-wrapper.ts';
import { LEIPZIG } from '../core/demo/leipzig.ts';
import { walletHostCheck, walletRoutes } from './web/app.ts';
import { loadWalletWebConfig } from './web/config.ts';

/**
 * The web wallet (German default, English switch) at WALLET_PUBLIC_URL, on the same core as the CLI.
 * The citizen unlocks it in the browser; WALLET_PASSPHRASE is for the CLI only (a passphrase in the
 * environment would unlock the wallet for every local client).
 */
const logger = createLogger('wallet-demo');
await runMain('wallet-demo', logger, async () => {
  const config = loadCommonConfig('wallet');
  const web = loadWalletWebConfig();
  for (const line of config.notices) console.log(line);
  // The Host allow-list runs before everything, /health included (DNS rebinding).
  const app = createBaseApp({ logger, beforeBody: [walletHostCheck({ publicUrl: config.publicUrl, extraHosts: web.extraHosts })] });
  app.use(
    walletRoutes({
      // The web wallet's own store, apart from the CLI's (WALLET_DIR): each is set up with its own
      // passphrase, so one never finds the other's file and refuses it as "wrong passphrase".
      dir: resolve(process.env.WALLET_WEB_DIR ?? `${config.dataDir}/wallet-web`),
      registryUrl: config.urls.registry,
      allowLocalHttp: config.mode === 'demo',
      publicUrl: config.publicUrl,
      idleTimeoutMs: web.idleTimeoutMs,
      extraHosts: web.extraHosts,
      // "Online beantragen / Apply online" (docs/self-service.md): in demo mode the demo catalogue's
      // offices marked `self_service`, at the demo issuer. Production lists none (see docs/self-service.md).
      selfServiceOffices: config.mode === 'demo' ? LEIPZIG.offices.filter((o) => o.self_service).map((o) => ({ url: `${config.urls.issuer}/offices/${o.slug}`, name: o.name })) : [],
      logger,
    }),
  );
  finish(app, logger);
  const { server, port } = await listen(app, config.host, config.port);
  return { close: () => closeServer(server), port, url: config.publicUrl, mode: config.mode };
});
