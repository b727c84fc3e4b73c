import type { EntityManager } from 'typeorm';
import { CONFORMANCE } from '../../core/demo/leipzig.ts';
import { zCredentialTypeDef, zOfficeDef, type CredentialTypeDef, type OfficeDef } from '../../core/catalog/model.ts';
import { badRequest, ProblemError } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import { hostIdentity } from '../../core/service/did-host.ts';
import { toIso } from '../../core/util/time.ts';
import type { IssuerCatalog, CatalogHost } from './catalog.ts';
import type { PutOutcome } from './catalog-store.ts';
import { requireIssueGrants } from './registry-check.ts';

/**
 * The catalogue's changes (issue 15), one path for the admin API and the demo seed: validate the
 * definition at the edge (400 naming the field), check it against what is stored and against the
 * registry (409, nothing stored), store it with its audit entry in one transaction (nothing when it
 * is unchanged), and reload this process's view at once.
 */
export interface CatalogContext extends CatalogHost {
  catalog: IssuerCatalog;
}

export interface PutResult<T> extends PutOutcome {
  definition: T;
}

const conflictI18n = (code: string, de: string, en: string) => new ProblemError({ status: 409, code, title: 'Conflict', detail: en, extra: { detail_i18n: { de, en } } });

export async function putCredentialType(ctx: CatalogContext, id: string, body: unknown, actor: string): Promise<PutResult<CredentialTypeDef>> {
  const def = parseOrThrow(zCredentialTypeDef, body, { what: 'request body' });
  if (def.id !== id) throw badRequest(`request body: id: must be ${id}, the id in the path`, { field: 'id' });
  const outcome = await ctx.store.putType(def, actor, toIso(ctx.deps.clock()), async (m, current) => {
    const types = await ctx.store.types(m);
    // SD-JWT VC §3.2.2.1.1: a vct names one type; two definitions for one vct would be ambiguous.
    const clash = types.find((t) => t.vct === def.vct && t.id !== def.id);
    if (clash) throw conflictI18n('vct-in-use', `Der vct ${def.vct} gehört schon zum Nachweistyp ${clash.id}; nichts wurde gespeichert.`, `The vct ${def.vct} already belongs to credential type ${clash.id}; nothing was stored.`);
    if (!current) return;
    const users = (await ctx.store.offices(m)).filter((o) => o.credential_configurations.some((c) => c.type === def.id));
    // The registry authorized those offices for the old vct: a new vct goes through a new type (and the registry).
    if (current.vct !== def.vct && users.length > 0) {
      const names = users.map((o) => o.slug).join(', ');
      throw conflictI18n('type-in-use', `Der vct eines Nachweistyps, den Ämter ausstellen (${names}), kann nicht geändert werden; nichts wurde gespeichert.`, `The vct of a credential type offices issue (${names}) cannot be changed; nothing was stored.`);
    }
    if (!def.w3c_type && users.some((o) => o.credential_configurations.some((c) => c.type === def.id && c.format === 'jwt_vc_json'))) {
      throw conflictI18n('type-in-use', `Ämter stellen ${def.id} als jwt_vc_json aus; dafür braucht der Typ w3c_type. Nichts wurde gespeichert.`, `Offices issue ${def.id} as jwt_vc_json, which needs w3c_type; nothing was stored.`);
    }
  });
  if (outcome.changed) await ctx.catalog.reload();
  return { ...outcome, definition: def };
}

/** Options of an office change; the demo seed skips the registry (see issuer/catalog/seed.ts). */
export interface PutOfficeOptions {
  registryCheck: boolean;
}

export async function putOffice(ctx: CatalogContext, slug: string, body: unknown, actor: string, opts: PutOfficeOptions = { registryCheck: true }): Promise<PutResult<OfficeDef>> {
  const def = parseOrThrow(zOfficeDef, body, { what: 'request body' });
  if (def.slug !== slug) throw badRequest(`request body: slug: must be ${slug}, the slug in the path`, { field: 'slug' });
  // The W3C conformance office is a code-defined test fixture (ISSUER_CONFORMANCE_OFFICE), never catalogue data.
  if (def.slug === CONFORMANCE.office.slug) throw conflictI18n('reserved-office', `Der Name ${slug} ist für die Konformitätsprüfstelle reserviert.`, `The slug ${slug} is reserved for the conformance test office.`);
  const check = async (m: EntityManager) => {
    const vcts = checkConfigurations(def, await ctx.store.types(m));
    return vcts;
  };
  const vcts = await ctx.store.read(check);
  const did = ctx.hosted.didFor(slug);
  if (opts.registryCheck) await requireIssueGrants(ctx.deps.trust, slug, did, vcts, ctx.deps.clock());
  // The key of a new office exists before the row naming it is committed (core/service/did-host.ts hostIdentity).
  if (!ctx.deps.offices.has(slug)) await hostIdentity(ctx.hosted, slug);
  const outcome = await ctx.store.putOffice(def, actor, toIso(ctx.deps.clock()), async (m) => void (await check(m)));
  if (outcome.changed) await ctx.catalog.reload();
  return { ...outcome, definition: def };
}

/**
 * An office's configurations against the stored types: each names a type the catalogue has, ids are
 * unique within the office (OID4VCI 1.0 §12.2.4: keys of `credential_configurations_supported`), and
 * jwt_vc_json needs the type's W3C `type`. Returns the vcts the registry must authorize.
 */
function checkConfigurations(def: OfficeDef, types: CredentialTypeDef[]): string[] {
  const seen = new Set<string>();
  const vcts = new Set<string>();
  def.credential_configurations.forEach((c, i) => {
    const field = `credential_configurations.${i}`;
    if (seen.has(c.id)) throw badRequest(`request body: ${field}.id: ${c.id} appears twice`, { field: `${field}.id` });
    seen.add(c.id);
    const t = types.find((x) => x.id === c.type);
    if (!t) throw badRequest(`request body: ${field}.type: unknown credential type ${c.type}; PUT /api/catalog/credential-types/${c.type} first`, { field: `${field}.type` });
    if (c.format === 'jwt_vc_json' && !t.w3c_type) throw badRequest(`request body: ${field}.format: type ${t.id} has no w3c_type, which jwt_vc_json needs`, { field: `${field}.format` });
    vcts.add(t.vct);
  });
  return [...vcts];
}
