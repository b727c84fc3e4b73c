import { Router } from 'express';
import type { DataSource } from 'typeorm';
import type { CommonConfig } from '../config/env.ts';
import { didWebFor } from '../did/did-web.ts';
import { createDidResolver } from '../did/resolver.ts';
import { publicCors } from '../http/app.ts';
import { notFound } from '../http/errors.ts';
import { createKeyAgent, type KeyAgentParts } from '../keys/agent.ts';
import { loadDidWebIdentity, type DidIdentity } from '../keys/did-identity.ts';
import { openDataSource, type DataSourceOptions } from '../store/data-source.ts';

/**
 * A service that hosts several organisations' did:web identities under one path segment
 * (`/offices/<slug>` on the issuer, `/verifiers/<slug>` on the verifier), each with its own key in
 * the service's encrypted key store, and serves their DID documents.
 */
export interface HostedIdentities {
  dataSource: DataSource;
  keys: KeyAgentParts;
  identities: Map<string, DidIdentity>;
  didFor(slug: string): string;
}

export async function openHostedIdentities(
  config: CommonConfig,
  collection: string,
  slugs: string[],
  tables: Pick<DataSourceOptions, 'entities' | 'migrations'> = { entities: [], migrations: [] },
): Promise<HostedIdentities> {
  const dataSource = await openDataSource({ name: config.databaseUrl ? `${config.databaseSchemaPrefix}${config.service}` : config.service, dataDir: config.dataDir, databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, ...tables, veramo: true });
  const identities = new Map<string, DidIdentity>();
  const resolver = createDidResolver({ local: (did) => [...identities.values()].find((i) => i.did === did)?.document() });
  const keys = createKeyAgent(dataSource, config.keyEncryptionSecret, resolver);
  const didFor = (slug: string) => didWebFor(config.publicUrl, collection, slug);
  for (const slug of slugs) identities.set(slug, await loadDidWebIdentity(keys, didFor(slug)));
  return { dataSource, keys, identities, didFor };
}

export function didDocumentRoutes(collection: string, hosted: HostedIdentities): Router {
  const r = Router();
  r.get(`/${collection}/:slug/did.json`, publicCors, (req, res) => {
    const identity = hosted.identities.get(String(req.params.slug));
    if (!identity) throw notFound('unknown-did', 'No DID document at this path.');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/did+json').send(JSON.stringify(identity.document()));
  });
  return r;
}

/**
 * Hosts one more identity at runtime (an office or relying party added through the catalogue): its
 * key is created in the key store on first use and loaded afterwards, so other processes that call
 * this for the same slug load the same key. Call it before the catalogue row that names the slug is
 * committed, so no other process can see the slug before its key exists.
 */
export async function hostIdentity(hosted: HostedIdentities, slug: string): Promise<DidIdentity> {
  const existing = hosted.identities.get(slug);
  if (existing) return existing;
  const identity = await loadDidWebIdentity(hosted.keys, hosted.didFor(slug));
  hosted.identities.set(slug, identity);
  return identity;
}
