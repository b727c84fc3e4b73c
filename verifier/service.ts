import type { RequestListener, Server } from 'node:http';
import { ConfigError } from '../core/config/config-error.ts';
import { openCityCa } from '../core/x509/city-ca.ts';
import { RelyingPartyCertificates } from './x509-clients.ts';
import { VerifierInfoClient } from './verifier-info.ts';
import { Sealer } from '../core/crypto/seal.ts';
import { LEIPZIG } from '../core/demo/leipzig.ts';
import { didWebFor } from '../core/did/did-web.ts';
import { createHolderResolver } from '../core/did/holder-resolver.ts';
import { createDidResolver } from '../core/did/resolver.ts';
import { ApiKeyStore, apiKeyTable, AuditLog } from '../core/access/api-key-store.ts';
import { auditTable } from '../core/audit/audit-table.ts';
import { adminAccess, authorize } from '../core/http/admin-auth.ts';
import { createBaseApp, finish } from '../core/http/app.ts';
import { limitMiddleware, rateLimiter } from '../core/http/rate-limit.ts';
import { createFastLane } from '../core/http/fast-lane.ts';
import type { Logger } from '../core/log/logger.ts';
import { didDocumentRoutes, openHostedIdentities } from '../core/service/did-host.ts';
import { serve } from '../core/service/run.ts';
import { StatusListClient } from '../core/status-list/status-list-client.ts';
import { BitstringStatusClient, vcJwtBitstringLoader } from '../core/status-list/bitstring-status-client.ts';
import { SnapshotClient } from '../core/trust/snapshot.ts';
import { systemClock, type Clock } from '../core/util/time.ts';
import type { VerifierConfig } from './config.ts';
import type { RelyingParty, VerifierDeps } from './deps.ts';
import { adminRoutes } from './routes/admin.ts';
import { requestRoutes } from './routes/requests.ts';
import { vcApiRoutes } from './routes/vc-api.ts';
import { oid4vpRoutes } from './routes/oid4vp.ts';
import { counterRoutes } from './routes/counter.ts';
import { dcApiRoutes } from './routes/dc-api.ts';
import { verifierMigrations } from './store/migrations/0001-verifier.ts';
import { VerifierAuditCheckpointTable, verifierTables } from './store/schema.ts';
import { auditAnchorRoutes } from '../core/audit/anchor-routes.ts';
import { openAuditAnchor } from '../core/audit/open-anchor.ts';
import { VerifierStore } from './store/verifier-store.ts';
import { indexRoute } from '../core/http/index-page.ts';
import { VerifierCatalog } from './catalog/catalog.ts';
import { catalogRoutes } from './catalog/catalog-routes.ts';
import { seedCatalog } from './catalog/seed.ts';
import { CatalogStore } from './catalog/store.ts';
import { openApiDocument } from './openapi.ts';

/** API keys per relying party (core/access; created with `npm run apikey`) and the audit trail of admin actions. */
export const VerifierApiKeyTable = apiKeyTable('verifier_api_keys');
export const VerifierAuditTable = auditTable('verifier_audit');

export interface VerifierService {
  app: RequestListener;
  deps: VerifierDeps;
  close(): Promise<void>;
}

export async function createVerifierService(config: VerifierConfig, logger: Logger, clock: Clock = systemClock): Promise<VerifierService> {
  // Relying parties come from the catalogue (issue 15); their identities are loaded as it loads.
  const hosted = await openHostedIdentities(config, 'verifiers', [], { entities: [...verifierTables, VerifierApiKeyTable, VerifierAuditTable], migrations: verifierMigrations });
  const rps = new Map<string, RelyingParty>();
  const audit = new AuditLog(hosted.dataSource, VerifierAuditTable);
  // Issuers' did:web documents are cached like status lists: a revoked key reaches this verifier within VERIFIER_DID_CACHE_MAX_AGE.
  const resolver = createDidResolver({ local: (did) => [...rps.values()].find((r) => r.identity.did === did)?.identity.document(), cacheMaxAgeMs: config.settings.didCacheMaxAge * 1000, clock });
  // HAIP: counters named in VERIFIER_X509_HASH_CLIENTS identify themselves by a certificate from the city CA.
  const wantsX509 = config.x509Clients.all || config.x509Clients.slugs.size > 0;
  const cityCa = wantsX509 ? await openCityCa({ mode: config.mode, dataDir: config.dataDir, keyEncryptionSecret: config.keyEncryptionSecret, now: clock(), ...config.cityCa }) : undefined;
  if (wantsX509 && !cityCa) throw new ConfigError('VERIFIER_X509_HASH_CLIENTS needs CITY_CA_CERT_FILE and CITY_CA_KEY_FILE');
  const rpCertificates = cityCa ? new RelyingPartyCertificates(cityCa, config.publicUrl, clock, config.x509Clients) : undefined;
  const deps: VerifierDeps = {
    publicUrl: config.publicUrl,
    walletUrl: config.urls.wallet,
    rps,
    catalog: new VerifierCatalog(new CatalogStore(hosted.dataSource, audit), hosted, rps, logger, rpCertificates),
    store: new VerifierStore(hosted.dataSource),
    sealer: new Sealer(config.keyEncryptionSecret, 'verifier-verdicts'),
    resolver,
    holders: createHolderResolver(),
    trust: new SnapshotClient({ registryUrl: config.urls.registry, registryDid: didWebFor(config.urls.registry), resolver, clock, maxAgeMs: config.settings.trustMaxAge * 1000 }),
    status: new StatusListClient({ resolver, clock, maxAgeMs: config.settings.statusListMaxAge * 1000 }),
    bitstring: new BitstringStatusClient({ clock, load: vcJwtBitstringLoader({ resolver, maxAgeMs: config.settings.statusListMaxAge * 1000 }) }),
    clock,
    logger,
    settings: config.settings,
    trustedCas: config.trustedCas,
    verifierInfo: new VerifierInfoClient({ registryUrl: config.urls.registry, logger, clock }),
  };
  await deps.catalog.refresh();
  if (config.seedDemo) {
    const n = await seedCatalog(deps, LEIPZIG);
    if (n > 0) logger.info({ stored: n }, 'seeded the catalogue from Demo Leipzig');
  }
  deps.catalog.start(config.settings.catalogRefresh);
  // Registration attestations fetched ahead of the first Request Object (verifier/verifier-info.ts).
  for (const rp of rps.values()) deps.verifierInfo?.prefetch(rp.identity.did);
  // The response endpoint is an OAuth-family endpoint: its errors are {error, error_description}.
  // Hardening: client addresses behind a proxy (TRUST_PROXY), per-client limits on the wallet-facing endpoints.
  const limiter = rateLimiter({ perMinute: config.rateLimits.public, match: (path) => /^\/verifiers\/[^/]+\/(response|requests\/[^/]+\/request\.jwt)$/.test(path) });
  const errorStyle = (path: string) => (/^\/verifiers\/[^/]+\/response$/.test(path) ? 'oauth' : 'problem') as 'oauth' | 'problem';
  const bodyLimit = '512kb';
  const app = createBaseApp({ logger, bodyLimit, errorStyle, trustProxy: config.trustProxy, beforeBody: [limitMiddleware(limiter)] });
  // The wallet's hot routes (OID4VP) on the fast lane; every other request goes on to the Express app.
  const lane = createFastLane({ logger, bodyLimit, errorStyle, limiter, trustProxy: app.get('trust proxy fn'), fallback: app });
  // The audit trail anchored in signed checkpoints (issue 18): at start, every minute, on shutdown, on each check.
  const anchor = await openAuditAnchor({ hosted, publicUrl: config.publicUrl, service: 'verifier', audit: VerifierAuditTable, checkpoints: VerifierAuditCheckpointTable, clock, logger });
  const access = adminAccess({ token: config.adminToken, keys: new ApiKeyStore(hosted.dataSource, { keys: VerifierApiKeyTable, audit: VerifierAuditTable }), failuresPerMinute: config.rateLimits.authFailures });
  app.use(
    indexRoute(
      { de: 'Prüfstelle (Verifier)', en: 'Verifier' },
      { de: 'Theken und Online-Dienste prüfen hier Nachweise (OpenID for Verifiable Presentations 1.0).', en: 'Counters and online services check credentials here (OpenID for Verifiable Presentations 1.0).' },
      () => [...deps.rps.values()].map((rp) => ({ href: `/verifiers/${rp.slug}/counter`, de: `Theke: ${rp.name.de}`, en: `Counter: ${rp.name.en}` })),
    ),
  );
  app.use(didDocumentRoutes('verifiers', hosted));
  oid4vpRoutes(lane.app, deps);
  app.use(counterRoutes(deps));
  // The counter page's W3C Digital Credentials API calls (OID4VP 1.0 Appendix A), behind the counter API's access.
  app.use(dcApiRoutes(deps, access, audit));
  const openapi = openApiDocument(config.publicUrl);
  app.get('/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(openapi);
  });
  app.use(auditAnchorRoutes(anchor));
  app.use(catalogRoutes(deps, access));
  requestRoutes(lane.app, deps, access, audit);
  app.use(adminRoutes(deps, access, audit, anchor));
  // W3C VC-API verification (issue 7): the admin API's authentication; not tied to one relying party.
  app.use(vcApiRoutes(deps, [access.authenticate, authorize({ role: 'clerk', scope: 'any' })]));
  finish(app, logger);

  const purge = setInterval(() => void deps.store.purge(clock()).catch(() => undefined), 60_000);
  purge.unref();
  await anchor.start();
  return {
    app: await lane.handler(),
    deps,
    close: async () => {
      clearInterval(purge);
      deps.catalog.stop();
      await anchor.close();
      await hosted.dataSource.destroy();
    },
  };
}

export async function startVerifier(config: VerifierConfig, logger: Logger, clock?: Clock): Promise<VerifierService & { server: Server; port: number }> {
  return serve(await createVerifierService(config, logger, clock), config.host, config.port);
}
