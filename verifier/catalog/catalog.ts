import { DcqlQuery } from 'dcql';
import { type CredentialTypeDef, type RelyingPartyDef, zCredentialTypeDef, zRelyingPartyDef } from '../../core/catalog/model.ts';
import { badRequest } from '../../core/http/errors.ts';
import type { DidIdentity } from '../../core/keys/did-identity.ts';
import type { Logger } from '../../core/log/logger.ts';
import { hostIdentity, type HostedIdentities } from '../../core/service/did-host.ts';
import { Mutex } from '../../core/util/mutex.ts';
import type { RelyingParty, Template } from '../deps.ts';
import type { CatalogStore } from './store.ts';
import type { RelyingPartyCertificates } from '../x509-clients.ts';

/**
 * A relying party's templates, each DCQL query parsed and validated with `dcql` (OID4VP 1.0 §6)
 * once, when the definition is stored or first loaded, never per request. A query the library
 * refuses is a 400 naming `templates.<n>.dcql_query`.
 */
export function compileTemplates(def: RelyingPartyDef): Map<string, Template> {
  const out = new Map<string, Template>();
  def.templates.forEach((t, i) => {
    if (out.has(t.id)) throw badRequest(`templates.${i}.id: template ${t.id} appears twice`, { field: `templates.${i}.id` });
    let parsed: DcqlQuery;
    try {
      parsed = DcqlQuery.parse(t.dcql_query as never);
      DcqlQuery.validate(parsed);
    } catch (e) {
      throw badRequest(`templates.${i}.dcql_query: ${(e as Error).message.split('\n')[0]!.slice(0, 300)}`, { field: `templates.${i}.dcql_query` });
    }
    out.set(t.id, { id: t.id, name: t.name, dcql_query: t.dcql_query, parsed });
  });
  return out;
}

/**
 * The catalogue in memory: credential types (display definitions) and the relying parties in
 * `rps` (the map the routes read at request time; entries are replaced in place). `refresh()` is one
 * cheap query for the revision and reloads only when it moved; every process polls it every
 * CATALOG_REFRESH seconds, and the process that made a change refreshes at once.
 */
export class VerifierCatalog {
  /** -1 until the first load. */
  revision = -1;
  readonly types = new Map<string, CredentialTypeDef>();
  private readonly rpBodies = new Map<string, string>();
  private readonly lock = new Mutex();
  /** Creating a key twice for one new slug in this process would race in the key store. */
  private readonly identities = new Mutex();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly store: CatalogStore,
    readonly hosted: HostedIdentities,
    readonly rps: Map<string, RelyingParty>,
    private readonly logger: Logger,
    /** HAIP: counters configured for `x509_hash:` get their certificate and client_id here (verifier/x509-clients.ts). */
    private readonly certificates?: RelyingPartyCertificates,
  ) {}

  typeByVct(vct: string): CredentialTypeDef | undefined {
    for (const t of this.types.values()) if (t.vct === vct) return t;
    return undefined;
  }

  typeByW3cType(name: string): CredentialTypeDef | undefined {
    for (const t of this.types.values()) if (t.w3c_type === name) return t;
    return undefined;
  }

  /** Reloads when the revision in the database is not the one in memory; true when it did. */
  refresh(): Promise<boolean> {
    return this.lock.run(async () => {
      if ((await this.store.revision()) === this.revision) return false;
      await this.load();
      return true;
    });
  }

  /** A relying party's did:web identity: loaded (or, for a new one, created) in the service's key store. */
  identityFor(slug: string): Promise<DidIdentity> {
    return this.identities.run(() => hostIdentity(this.hosted, slug));
  }

  private async load(): Promise<void> {
    const all = await this.store.readAll();
    // Stored rows are validated like API bodies: a row that no longer validates is left out, loudly.
    const types = new Map<string, CredentialTypeDef>();
    for (const row of all.types) {
      const r = zCredentialTypeDef.safeParse(JSON.parse(row.body));
      if (r.success) types.set(row.key, r.data);
      else this.logger.error({ credential_type: row.key }, 'catalogue: stored credential type does not validate; left out');
    }
    for (const key of [...this.types.keys()]) if (!types.has(key)) this.types.delete(key);
    for (const [key, t] of types) this.types.set(key, t);

    const seen = new Set<string>();
    for (const row of all.relyingParties) {
      seen.add(row.key);
      if (this.rpBodies.get(row.key) === row.body && this.rps.has(row.key)) continue;
      try {
        const def = zRelyingPartyDef.parse(JSON.parse(row.body));
        const templates = compileTemplates(def);
        const identity = await this.identityFor(def.slug);
        const rp: RelyingParty = { slug: def.slug, name: def.name, identity, clientId: `decentralized_identifier:${identity.did}`, templates, def };
        await this.certificates?.apply(rp);
        this.rps.set(def.slug, rp);
        this.rpBodies.set(row.key, row.body);
      } catch {
        this.logger.error({ relying_party: row.key }, 'catalogue: stored relying party does not validate; left out');
      }
    }
    for (const slug of [...this.rps.keys()]) {
      if (!seen.has(slug)) {
        this.rps.delete(slug);
        this.rpBodies.delete(slug);
      }
    }
    this.revision = all.revision;
  }

  /** Polls the revision every `seconds` (CATALOG_REFRESH). */
  start(seconds: number): void {
    this.timer = setInterval(() => {
      this.refresh().catch((e: unknown) => this.logger.warn({ err: (e as Error).message }, 'catalogue refresh failed; trying again'));
    }, seconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
