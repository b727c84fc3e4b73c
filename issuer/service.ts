import type { RequestListener, Server } from 'node:http';
import { setGlobalConfig } from '@openid4vc/openid4vci';
import { Sealer } from '../core/crypto/seal.ts';
import { VcJwtIssuer } from '../core/formats/vc-jwt/vc-jwt-issuer.ts';
import { CONFORMANCE, LEIPZIG } from '../core/demo/leipzig.ts';
import { didWebFor } from '../core/did/did-web.ts';
import { createDidResolver } from '../core/did/resolver.ts';
import { ApiKeyStore, apiKeyTable } from '../core/access/api-key-store.ts';
import { adminAccess, authorize, scopeParam } from '../core/http/admin-auth.ts';
import { createBaseApp, finish } from '../core/http/app.ts';
import { limitMiddleware, rateLimiter } from '../core/http/rate-limit.ts';
import { createFastLane } from '../core/http/fast-lane.ts';
import type { Logger } from '../core/log/logger.ts';
import { didDocumentRoutes, openHostedIdentities } from '../core/service/did-host.ts';
import { serve } from '../core/service/run.ts';
import { SnapshotClient } from '../core/trust/snapshot.ts';
import { systemClock, type Clock } from '../core/util/time.ts';
import type { IssuerConfig } from './config.ts';
import { CatalogStore } from './catalog/catalog-store.ts';
import { IssuerCatalog } from './catalog/catalog.ts';
import type { CatalogContext } from './catalog/catalog-changes.ts';
import { catalogRoutes } from './catalog/catalog-routes.ts';
import { seedDemoCatalog } from './catalog/seed.ts';
import { CodeKeys, type IssuerDeps, type Office } from './deps.ts';
import { buildOfficeMetadata, type OfficeMetadata } from './metadata.ts';
import { createLibraries } from './oid4vci-lib.ts';
import { adminRoutes } from './routes/admin.ts';
import { createOfferRoute } from './routes/create-offer.ts';
import { vcApiRoutes } from './routes/vc-api.ts';
import { loadOfficeIdentity, refreshChangedKeys } from './office-keys.ts';
import { openApiDocument } from './openapi.ts';
import { oid4vciRoutes } from './routes/oid4vci.ts';
import { authorizeRoutes } from './routes/authorize.ts';
import { attestationChallengeRoutes } from './routes/attestation-challenge.ts';
import { AuthorizationStore } from './oauth/authorization-store.ts';
import { deskRoutes } from './routes/desk.ts';
import { OfficeCertificates, officeCertificateRoutes } from './office-certificates.ts';
import { jwtVcIssuerMetadataRoutes } from './routes/jwt-vc-issuer-metadata.ts';
import { OfficeCertificateTable } from './store/certificate-table.ts';
import { openCityCa } from '../core/x509/city-ca.ts';
import { statusListRoutes } from './routes/status-lists.ts';
import { issuerMigrations } from './store/migrations/0001-issuer.ts';
import { releasePooledSlots } from './allocate-status-slots.ts';
import { IssuerStore } from './store/issuer-store.ts';
import { IssuerAuditCheckpointTable, IssuerAuditTable, issuerTables } from './store/schema.ts';
import { auditAnchorRoutes } from '../core/audit/anchor-routes.ts';
import { openAuditAnchor } from '../core/audit/open-anchor.ts';
import { indexRoute } from '../core/http/index-page.ts';

/** A status slot reservation older than this without its credential belongs to an issuance that died (signing takes milliseconds). */
const STALE_RESERVATION_MS = 10 * 60_000;

/** API keys per office (core/access; created with `npm run apikey`). */
export const IssuerApiKeyTable = apiKeyTable('issuer_api_keys');

export interface IssuerService {
  app: RequestListener;
  deps: IssuerDeps;
  close(): Promise<void>;
}

export async function createIssuerService(config: IssuerConfig, logger: Logger, clock: Clock = systemClock): Promise<IssuerService> {
  // @openid4vc refuses http URLs unless told; docs/contract.md allows http only for localhost, in demo mode.
  if (config.mode === 'demo' && config.publicUrl.startsWith('http://')) setGlobalConfig({ allowInsecureUrls: true });

  // The offices come from the catalogue (issuer/catalog/), loaded below. Only the W3C conformance office
  // (ISSUER_CONFORMANCE_OFFICE=1, issuer/config.ts) is code-defined: a test fixture for the W3C suites,
  // VC-API only, no OID4VCI configuration, never catalogue data.
  const fixed = config.conformanceOffice ? [CONFORMANCE.office] : [];
  const hosted = await openHostedIdentities(config, 'offices', fixed.map((o) => o.slug), { entities: [...issuerTables, IssuerApiKeyTable, OfficeCertificateTable], migrations: issuerMigrations });
  const offices = new Map<string, Office>();
  for (const o of fixed) {
    offices.set(o.slug, { slug: o.slug, name: o.name, identity: hosted.identities.get(o.slug)!, issuerId: `${config.publicUrl}/offices/${o.slug}`, configurations: new Map() });
  }
  const resolver = createDidResolver({ local: (did) => [...offices.values()].find((o) => o.identity.did === did)?.identity.document() });
  const store = new IssuerStore(hosted.dataSource);
  // Keys in the order the key table gives them, revoked ones marked (rotation).
  for (const o of offices.values()) {
    o.identity = await loadOfficeIdentity({ store, clock }, hosted.keys, o.slug, o.identity.did);
    hosted.identities.set(o.slug, o.identity);
  }
  // HAIP: the city CA (the operator's from CITY_CA_CERT_FILE/CITY_CA_KEY_FILE; in demo mode one created on first start).
  const cityCa = await openCityCa({ mode: config.mode, dataDir: config.dataDir, keyEncryptionSecret: config.keyEncryptionSecret, now: clock(), ...config.cityCa });
  const deps: IssuerDeps = {
    publicUrl: config.publicUrl,
    walletUrl: config.urls.wallet,
    offices,
    store,
    resolver,
    sealer: new Sealer(config.keyEncryptionSecret, 'issuer-offer-claims'),
    codes: new CodeKeys(config.keyEncryptionSecret),
    trust: new SnapshotClient({ registryUrl: config.urls.registry, registryDid: didWebFor(config.urls.registry), resolver, clock, graceMs: 3600_000, maxAgeMs: config.settings.trustMaxAge * 1000 }),
    vcJwt: await VcJwtIssuer.create([...offices.values()].map((o) => o.identity), resolver),
    clock,
    logger,
    settings: config.settings,
    certificates: new OfficeCertificates(hosted.dataSource, cityCa, clock),
    walletProviders: config.walletProviders,
    // Self-service logins at the city IdP (issue 17; issuer/routes/authorize.ts).
    ...(config.oidc ? { oidc: config.oidc } : {}),
  };
  const libs = createLibraries(offices);
  // The audit trail anchored in signed checkpoints (issue 18): at start, every minute, on shutdown, on each check.
  const anchor = await openAuditAnchor({ hosted, publicUrl: config.publicUrl, service: 'issuer', audit: IssuerAuditTable, checkpoints: IssuerAuditCheckpointTable, clock, logger });

  // Library-checked metadata per office (the shape it accepts as OID4VCI 1.0), rebuilt by the catalogue when an office changes.
  const metadata = new Map<string, OfficeMetadata>();
  for (const o of offices.values()) metadata.set(o.slug, buildOfficeMetadata(libs, o, config.settings.batchSize));
  // The catalogue (issue 15): offices, credential types and configurations as data. Demo mode seeds Demo
  // Leipzig into an empty catalogue on first start; changes made by other processes arrive within CATALOG_REFRESH seconds.
  const catalogStore = new CatalogStore(hosted.dataSource);
  const catalog = new IssuerCatalog({ deps, hosted, libs, metadata, store: catalogStore });
  const catalogCtx: CatalogContext = { deps, hosted, libs, metadata, store: catalogStore, catalog };
  if (config.mode === 'demo') await seedDemoCatalog(catalogCtx, LEIPZIG);
  await catalog.reload();

  // OAuth-family endpoints answer errors as {error, error_description}, also when the body cannot be parsed.
  const oauthPath = /^\/offices\/[^/]+\/(token|nonce|credential|deferred_credential|par|challenge)$/;
  // Hardening: client addresses behind a proxy (TRUST_PROXY), per-client limits on the wallet-facing endpoints.
  // The citizen's self-service pages (authorize, login callback) count against the same per-client limit.
  const selfServicePath = /^\/offices\/[^/]+\/(authorize|login\/callback|self-service(\/.*)?)$/;
  const limiter = rateLimiter({ perMinute: config.rateLimits.public, match: (path) => oauthPath.test(path) || selfServicePath.test(path) });
  const errorStyle = (path: string) => (oauthPath.test(path) ? 'oauth' : 'problem') as 'oauth' | 'problem';
  const bodyLimit = '64kb';
  const app = createBaseApp({ logger, bodyLimit, errorStyle, trustProxy: config.trustProxy, beforeBody: [limitMiddleware(limiter)] });
  // The wallet's hot routes (OID4VCI) on the fast lane; every other request goes on to the Express app.
  const lane = createFastLane({ logger, bodyLimit, errorStyle, limiter, trustProxy: app.get('trust proxy fn'), fallback: app });
  const access = adminAccess({ token: config.adminToken, keys: new ApiKeyStore(hosted.dataSource, { keys: IssuerApiKeyTable, audit: IssuerAuditTable }), failuresPerMinute: config.rateLimits.authFailures });
  app.use(
    indexRoute(
      { de: 'Ausgabestelle (Issuer)', en: 'Issuer' },
      { de: 'Ämter der Stadt stellen hier digitale Nachweise aus (OpenID for Verifiable Credential Issuance 1.0).', en: 'City offices issue digital credentials here (OpenID for Verifiable Credential Issuance 1.0).' },
      () => [
        ...[...deps.offices.values()].map((o) => ({ href: `/offices/${o.slug}/desk`, de: `Schreibtisch: ${o.name.de}`, en: `Desk: ${o.name.en}` })),
        ...[...deps.offices.values()].map((o) => ({ href: `/.well-known/openid-credential-issuer/offices/${o.slug}`, de: `Metadaten: ${o.name.de}`, en: `Metadata: ${o.name.en}` })),
        { href: '/openapi.json', de: 'Verwaltungs-API (OpenAPI)', en: 'Admin API (OpenAPI)' },
      ],
    ),
  );
  app.use(didDocumentRoutes('offices', hosted));
  app.use(officeCertificateRoutes(() => deps.offices, deps.certificates!));
  // SD-JWT VC §5: JWT VC Issuer Metadata for the https `iss` of the offices' x5c credentials (issue 17).
  app.use(jwtVcIssuerMetadataRoutes(() => deps.offices, clock));
  oid4vciRoutes(lane.app, deps, libs, metadata);
  // Wallet attestation challenges (draft-ietf-oauth-attestation-based-client-auth-07 "Challenge Endpoint").
  app.use(attestationChallengeRoutes(deps));
  // Self-service: PAR, authorization endpoint, login at the city IdP (issue 17, HAIP 1.0).
  app.use(authorizeRoutes(deps, libs, metadata));
  // The clerk's desk page (issue 15), its own CSP.
  app.use(deskRoutes(deps));
  app.use(statusListRoutes(deps));
  // Built once per catalogue revision: the claims schemas and office slugs it lists are the live catalogue's.
  let openapi = { revision: -1, doc: {} as Record<string, unknown> };
  app.get('/openapi.json', (_req, res) => {
    if (openapi.revision !== catalog.revision) openapi = { revision: catalog.revision, doc: openApiDocument(config.publicUrl, deps.offices) };
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.json(openapi.doc);
  });
  app.use(auditAnchorRoutes(anchor));
  app.use(catalogRoutes(catalogCtx, access));
  createOfferRoute(lane.app, deps, access);
  app.use(adminRoutes(deps, access, hosted, anchor));
  // W3C VC-API for office back-ends (issue 7): the admin API's authentication, a clerk of the office.
  app.use(vcApiRoutes(deps, [access.authenticate, authorize({ role: 'clerk', scope: scopeParam('office') })]));
  finish(app, logger);

  // Expired nonces; status slot reservations a crash left behind (issuer/allocate-status-slots.ts).
  const purge = setInterval(() => {
    void deps.store.purgeExpiredNonces(clock()).catch(() => undefined);
    void new AuthorizationStore(hosted.dataSource).purgeExpired(clock()).catch(() => undefined);
    void deps.store.statusLists.purgeStaleReservations(new Date(clock() - STALE_RESERVATION_MS).toISOString()).catch(() => undefined);
  }, 60_000);
  purge.unref();
  // Key changes made by another process (worker or instance) reach this one within ISSUER_KEY_REFRESH seconds.
  const seenKeys = new Map<string, string>();
  await refreshChangedKeys(deps, hosted, seenKeys);
  const keyRefresh = setInterval(() => void refreshChangedKeys(deps, hosted, seenKeys).catch((e) => logger.error({ err: { name: (e as Error).name } }, 'key refresh failed')), config.settings.keyRefresh * 1000);
  keyRefresh.unref();
  const catalogRefresh = setInterval(() => void catalog.refresh().catch((e) => logger.error({ err: { name: (e as Error).name } }, 'catalogue refresh failed')), config.settings.catalogRefresh * 1000);
  catalogRefresh.unref();
  await anchor.start();
  return {
    app: await lane.handler(),
    deps,
    close: async () => {
      clearInterval(purge);
      clearInterval(keyRefresh);
      clearInterval(catalogRefresh);
      await anchor.close();
      await releasePooledSlots(deps);
      await hosted.dataSource.destroy();
    },
  };
}

export async function startIssuer(config: IssuerConfig, logger: Logger, clock?: Clock): Promise<IssuerService & { server: Server; port: number }> {
  return serve(await createIssuerService(config, logger, clock), config.host, config.port);
}
