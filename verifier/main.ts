import { loadCommonConfig } from '../core/config/env.ts';
import { RELYING_PARTIES } from '../core/demo/leipzig.ts';
import { createLogger } from '../core/log/logger.ts';
import { startDidHostService } from '../core/service/did-host.ts';
import { runMain } from '../core/service/main-wrapper.ts';

// Verifier: until the OID4VP issue lands it serves /health and the relying parties' DID documents.
const logger = createLogger('verifier');
await runMain('verifier', logger, async () => {
  const config = loadCommonConfig('verifier');
  for (const line of config.notices) console.log(line);
  const s = await startDidHostService(config, logger, 'verifiers', RELYING_PARTIES.map((r) => r.slug));
  return { close: s.close, port: s.port, url: config.publicUrl, mode: config.mode };
});
