import { loadCommonConfig } from '../core/config/env.ts';
import { createBaseApp, finish } from '../core/http/app.ts';
import { createLogger } from '../core/log/logger.ts';
import { closeServer, listen } from '../core/service/run.ts';
import { runMain } from '../core/service/main-wrapper.ts';

// Wallet demo: until the wallet issue lands it serves /health and a page saying so.
const logger = createLogger('wallet-demo');
await runMain('wallet-demo', logger, async () => {
  const config = loadCommonConfig('wallet');
  for (const line of config.notices) console.log(line);
  const app = createBaseApp({ logger });
  app.get('/', (_req, res) => {
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('html').send(`<!doctype html><html lang="de"><head><meta charset="utf-8"><title>ID-Ideal Wallet</title></head>
<body><main><h1>ID-Ideal Wallet</h1><p>Die Wallet-Demo ist in Vorbereitung.</p><p lang="en">The wallet demo is being built.</p></main></body></html>`);
  });
  finish(app, logger);
  const { server, port } = await listen(app, config.host, config.port);
  return { close: () => closeServer(server), port, url: config.publicUrl, mode: config.mode };
});
