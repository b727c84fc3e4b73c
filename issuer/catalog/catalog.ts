import { jcs } from '../../core/crypto/canonical.ts';
import type { CredentialTypeDef, OfficeDef } from '../../core/catalog/model.ts';
import { VcJwtIssuer } from '../../core/formats/vc-jwt/vc-jwt-issuer.ts';
import { hostIdentity, type HostedIdentities } from '../../core/service/did-host.ts';
import { compileType, configurationsFor, type CompiledType } from '../credential-configurations.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { buildOfficeMetadata, type OfficeMetadata } from '../metadata.ts';
import type { Libraries } from '../oid4vci-lib.ts';
import { loadOfficeIdentity } from '../office-keys.ts';
import type { CatalogSnapshot, CatalogStore } from './catalog-store.ts';

export interface CatalogHost {
  deps: IssuerDeps;
  hosted: HostedIdentities;
  libs: Libraries;
  /** The metadata routes serve, per office; entries replaced when an office or its types change. */
  metadata: Map<string, OfficeMetadata>;
  store: CatalogStore;
}

/**
 * The issuer's catalogue in memory: the offices in `deps.offices` (the map routes read at request
 * time) with their configurations, the compiled claim schemas (once per type version: a type whose
 * canonical definition did not change keeps its compiled schema), and the revision they reflect.
 *
 * A change made in this process reloads at once; other processes (workers, instances on the same
 * database) poll the revision every CATALOG_REFRESH seconds and reload when it moved. A reload
 * creates the identity of a new office (its key is created by the process that stored the office,
 * before the row was committed), replaces an office's configurations and rebuilds its metadata only
 * when its definition or one of its types changed, never per request. Offices are not removed (the
 * API has no DELETE); the code-defined conformance office is not part of the catalogue.
 */
export class IssuerCatalog {
  revision = -1;
  private types = new Map<string, CompiledType>();
  private offices = new Map<string, { def: OfficeDef; fingerprint: string }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly host: CatalogHost) {}

  /** The catalogue as `GET /api/catalog` shows it. */
  view(): { revision: number; credential_types: CredentialTypeDef[]; offices: OfficeDef[] } {
    return { revision: this.revision, credential_types: [...this.types.values()].map((t) => t.def), offices: [...this.offices.values()].map((o) => o.def) };
  }

  /** Reloads when another process changed the revision (one query). */
  refresh(): Promise<void> {
    return this.serial(async () => {
      if ((await this.host.store.revision()) !== this.revision) await this.apply(await this.host.store.load());
    });
  }

  /** Reloads unconditionally (after a change made here). */
  reload(): Promise<void> {
    return this.serial(async () => this.apply(await this.host.store.load()));
  }

  /** One reload at a time: two must not create an office twice or interleave their replacements. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(snapshot: CatalogSnapshot): Promise<void> {
    const { deps, hosted, libs, metadata } = this.host;
    if (snapshot.unreadable.length > 0) deps.logger.error({ rows: snapshot.unreadable }, 'catalogue rows that do not validate were left out');
    const types = new Map<string, CompiledType>();
    for (const def of snapshot.types) {
      const fingerprint = jcs(def);
      const before = this.types.get(def.id);
      types.set(def.id, before?.fingerprint === fingerprint ? before : compileType(def, fingerprint));
    }
    let added = false;
    const offices = new Map<string, { def: OfficeDef; fingerprint: string }>();
    for (const def of snapshot.offices) {
      const configurations = configurationsFor(def, types);
      const fingerprint = jcs({ office: def, types: configurations.map((c) => types.get(c.type.id)!.fingerprint) });
      offices.set(def.slug, { def, fingerprint });
      const existing = deps.offices.get(def.slug);
      if (existing && this.offices.get(def.slug)?.fingerprint === fingerprint) continue;
      if (existing) {
        // In place: requests in flight keep a consistent office; the next ones see the new definition.
        existing.name = def.name;
        existing.configurations = new Map(configurations.map((c) => [c.id, c]));
        existing.oauth = officeOAuth(def);
        existing.selfService = deps.oidc ? def.self_service : undefined;
        metadata.set(def.slug, buildOfficeMetadata(libs, existing, deps.settings.batchSize));
        continue;
      }
      const hostedIdentity = await hostIdentity(hosted, def.slug);
      const identity = await loadOfficeIdentity(deps, hosted.keys, def.slug, hostedIdentity.did);
      hosted.identities.set(def.slug, identity);
      const office: Office = { slug: def.slug, name: def.name, identity, issuerId: `${deps.publicUrl}/offices/${def.slug}`, configurations: new Map(configurations.map((c) => [c.id, c])), oauth: officeOAuth(def), ...(deps.oidc && def.self_service ? { selfService: def.self_service } : {}) };
      // Metadata first: a route that finds the office finds its metadata.
      metadata.set(def.slug, buildOfficeMetadata(libs, office, deps.settings.batchSize));
      deps.offices.set(def.slug, office);
      added = true;
    }
    if (added) deps.vcJwt = await VcJwtIssuer.create([...deps.offices.values()].map((o) => o.identity), deps.resolver);
    this.types = types;
    this.offices = offices;
    this.revision = snapshot.revision;
  }

  /** The compiled type of an id, if the catalogue has it. */
  type(id: string): CompiledType | undefined {
    return this.types.get(id);
  }
}

/** The office's OAuth requirements (issue 17, HAIP); an office without `oauth` requires neither DPoP nor a wallet attestation. */
function officeOAuth(def: OfficeDef): Office['oauth'] {
  return { requireDpop: def.oauth?.require_dpop ?? false, requireWalletAttestation: def.oauth?.require_wallet_attestation ?? false, requireAttestationChallenge: def.oauth?.require_attestation_challenge ?? false };
}
