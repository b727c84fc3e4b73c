import type { Server } from 'node:http';
import type { Express } from 'express';
import type { DataSource } from 'typeorm';
import { ApiKeyStore, apiKeyTable } from '../core/access/api-key-store.ts';
import { adminAccess } from '../core/http/admin-auth.ts';
import { createBaseApp, finish } from '../core/http/app.ts';
import { rateLimit } from '../core/http/rate-limit.ts';
import { setErrorStyle } from '../core/http/error-exit.ts';
import { createKeyAgent } from '../core/keys/agent.ts';
import { loadDidWebIdentity, type DidIdentity } from '../core/keys/did-identity.ts';
import { createDidResolver } from '../core/did/resolver.ts';
import { didWebFor } from '../core/did/did-web.ts';
import { DEPARTMENTS } from '../core/demo/leipzig.ts';
import type { Logger } from '../core/log/logger.ts';
import { serve } from '../core/service/run.ts';
import { openDataSource } from '../core/store/data-source.ts';
import { systemClock, type Clock } from '../core/util/time.ts';
import type { RegistryConfig } from './config.ts';
import { Registry } from './registry.ts';
import { adminRoutes } from './routes/admin.ts';
import { publicRoutes } from './routes/public.ts';
import { trqpRoutes } from './routes/trqp.ts';
import { verifierRegistrationRoutes } from './routes/verifier-registration.ts';
import { seedDemoLeipzig } from './seed/demo-leipzig.ts';
import { registryMigrations } from './store/migrations/0001-registry.ts';
import { AuditTable, registryTables } from './store/schema.ts';
import { RegistryStore } from './store/registry-store.ts';
import { indexRoute } from '../core/http/index-page.ts';
import { AuthorityKeys } from './authority-keys.ts';
import { openApiDocument } from './openapi.ts';

/** API keys of registry operators (core/access; created with `npm run apikey`). */
export const RegistryApiKeyTable = apiKeyTable('registry_api_keys');

export interface RegistryService {
  app: Express;
  registry: Registry;
  dataSource: DataSource;
  close(): Promise<void>;
}

export async function openRegistryDataSource(config: Pick<RegistryConfig, 'dataDir' | 'databaseUrl'> & { databaseSchemaPrefix?: string; databasePoolSize?: number | undefined }, name = config.databaseUrl ? `${config.databaseSchemaPrefix ?? ''}registry` : 'registry'): Promise<DataSource> {
  return openDataSource({ name, dataDir: config.dataDir, databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, entities: [...registryTables, RegistryApiKeyTable], migrations: registryMigrations, veramo: true });
}

/** Builds the registry (database, keys, seed, routes) without listening. */
export async function createRegistryService(config: RegistryConfig, logger: Logger, clock: Clock = systemClock): Promise<RegistryService> {
  const dataSource = await openRegistryDataSource(config);
  const hosted = new Map<string, DidIdentity>();
  const resolver = createDidResolver({ local: (did) => hosted.get(did)?.document() });
  const keys = createKeyAgent(dataSource, config.keyEncryptionSecret, resolver);

  const registryDid = didWebFor(config.publicUrl);
  const identity = await loadDidWebIdentity(keys, registryDid);
  hosted.set(registryDid, identity);
  const rootAuthority = didWebFor(config.publicUrl, 'authorities', config.rootSlug);
  const slugs = [config.rootSlug, ...(config.seedDemo ? DEPARTMENTS.map((d) => d.slug) : [])];
  for (const slug of slugs) {
    const did = didWebFor(config.publicUrl, 'authorities', slug);
    hosted.set(did, await loadDidWebIdentity(keys, did));
  }
  // Authorities created earlier (e.g. by a former demo seed) keep being served.
  for (const id of await keys.agent.didManagerFind({ provider: 'did:web' })) {
    if (!hosted.has(id.did)) hosted.set(id.did, await loadDidWebIdentity(keys, id.did));
  }
  const authorities = new Map([...hosted].filter(([did]) => did !== registryDid));
  // Departments registered at runtime get their key at once (issue 15); same map the registry signs with.
  const authorityKeys = new AuthorityKeys(keys, authorities, registryDid);

  const registry = new Registry({
    store: new RegistryStore(dataSource),
    identity,
    rootAuthority,
    hosted: authorities,
    resolver,
    clock,
    logger,
    snapshotTtl: config.snapshotTtl,
  });
  if (config.seedDemo) {
    const n = await seedDemoLeipzig(registry, config.urls, { conformanceOffice: config.conformanceOffice });
    if (n > 0) logger.info({ created: n }, 'seeded demo Leipzig');
  }
  await registry.latestSnapshot();

  // Hardening: client addresses behind a proxy (TRUST_PROXY), per-client limits on TRQP.
  const limits = rateLimit({ perMinute: config.rateLimits.trqp, match: (path) => path.startsWith('/trqp/') });
  const app = createBaseApp({ logger, bodyLimit: '64kb', trustProxy: config.trustProxy, beforeBody: [limits] });
  app.use((_req, res, next) => {
    setErrorStyle(res, 'problem');
    next();
  });
  const access = adminAccess({ token: config.adminToken, keys: new ApiKeyStore(dataSource, { keys: RegistryApiKeyTable, audit: AuditTable }), failuresPerMinute: config.rateLimits.authFailures });
  app.use(
    indexRoute(
      { de: 'Vertrauensregister', en: 'Trust registry' },
      { de: 'Wer welche Nachweise ausstellen und welche Angaben abfragen darf (TRQP v2, signierte Snapshots).', en: 'Who may issue which credentials and ask for which claims (TRQP v2, signed snapshots).' },
      () => [
        { href: '/.well-known/trust-registry', de: 'Metadaten des Registers', en: 'Registry metadata' },
        { href: '/snapshots/latest', de: 'Aktueller signierter Snapshot', en: 'Latest signed snapshot' },
        { href: '/.well-known/did.json', de: 'DID-Dokument des Registers', en: 'Registry DID document' },
        { href: '/openapi.json', de: 'Verwaltungs- und öffentliche API (OpenAPI)', en: 'Admin and public API (OpenAPI)' },
      ],
    ),
  );
  const openapi = openApiDocument(config.publicUrl);
  app.get('/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(openapi);
  });
  app.use(publicRoutes(registry, config.publicUrl, authorityKeys));
  app.use(trqpRoutes(registry));
  // OID4VP 1.0 §5.1 verifier_info: a relying party's registration, signed by the registry (issue 17).
  app.use(verifierRegistrationRoutes(registry, { perMinute: config.rateLimits.public }));
  app.use(adminRoutes(registry, access, authorityKeys));
  finish(app, logger);

  return {
    app,
    registry,
    dataSource,
    close: async () => {
      await dataSource.destroy();
    },
  };
}

export async function startRegistry(config: RegistryConfig, logger: Logger, clock?: Clock): Promise<RegistryService & { server: Server; port: number }> {
  return serve(await createRegistryService(config, logger, clock), config.host, config.port);
}
