import { loadCommonConfig } from '../core/config/env.ts';
import { OFFICES } from '../core/demo/leipzig.ts';
import { createLogger } from '../core/log/logger.ts';
import { startDidHostService } from '../core/service/did-host.ts';
import { runMain } from '../core/service/main-wrapper.ts';

// Issuer: until the OID4VCI issue lands it serves /health and the offices' DID documents.
const logger = createLogger('issuer');
await runMain('issuer', logger, async () => {
  const config = loadCommonConfig('issuer');
  for (const line of config.notices) console.log(line);
  const s = await startDidHostService(config, logger, 'offices', OFFICES.map((o) => o.slug));
  return { close: s.close, port: s.port, url: config.publicUrl, mode: config.mode };
});
