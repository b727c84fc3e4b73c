import { z } from 'zod';
import { jcs } from '../crypto/canonical.ts';
import type { ClaimPath, GrantConstraints, I18nText } from '../trust/model.ts';
import { type CityConfig, type CredentialTypeDef, type OfficeDef, type RelyingPartyDef, zCredentialTypeDef, zOfficeDef, zRelyingPartyDef } from './model.ts';

/**
 * What `npm run config -- apply city.yaml` would change (issue 15): the current state of the trust
 * registry, the issuer and the verifier plus the desired city configuration give an ordered list of
 * requests, each with a German and an English line for the operator. Pure: no I/O, so the plan is
 * unit-tested without services and `--dry-run` prints exactly what `apply` would send.
 *
 * Order (docs/configuration.md): the registry first, since it is the source of truth the issuer and
 * verifier check against (types; departments and their accreditations; offices and their issue
 * grants; relying parties and their verify grants), then the issuer (types, offices), then the
 * verifier (types, relying parties). Nothing is ever deleted: what exists only on a server is listed
 * as kept. A verify grant whose claims or purpose changed is replaced: the new grant is created first,
 * then the old one revoked with a reason, so the counter is never without a grant in between.
 */

export type Service = 'registry' | 'issuer' | 'verifier';

/** A registry grant as `GET /api/grants` shows it (only what the plan reads). */
export interface GrantView {
  id: string;
  authority_id: string;
  entity_id: string;
  action: string;
  resource: string;
  constraints: GrantConstraints;
  status: 'active' | 'suspended' | 'revoked';
}

export interface CurrentState {
  registry: {
    /** The root authority (the city), from `/.well-known/trust-registry`. */
    root: string;
    /** Credential types with a full definition (`GET /api/catalog`). */
    credential_types: unknown[];
    entities: { id: string; kind: string; name: I18nText }[];
    grants: GrantView[];
  };
  issuer: { credential_types: unknown[]; offices: unknown[] };
  verifier: { credential_types: unknown[]; relying_parties: unknown[] };
}

/** How the organisations of the file are named as did:web (the services' public URLs decide). */
export interface Dids {
  department(slug: string): string;
  office(slug: string): string;
  relyingParty(slug: string): string;
}

export interface Change {
  service: Service;
  /** What it is about, for error messages ("credential type archivausweis"). */
  item: string;
  kind: 'create' | 'update' | 'revoke';
  request: { method: 'PUT' | 'POST'; path: string; body: unknown };
  text: I18nText;
}

export interface Kept {
  service: Service;
  text: I18nText;
}

export interface Plan {
  changes: Change[];
  kept: Kept[];
}

/** The file cannot be applied to these services as it stands (exit code 2, naming the field). */
export class PlanError extends Error {
  constructor(
    readonly field: string,
    readonly text: I18nText,
  ) {
    super(`${field}: ${text.en}`);
  }
}

/** Reason recorded when a verify grant is replaced by one with other claims or purpose. */
export const REPLACED_REASON = 'Ersetzt durch geänderte Stadtkonfiguration (npm run config) / replaced by a changed city configuration';

const norm = <T>(schema: z.ZodType<T, unknown>, v: unknown): T | undefined => {
  const r = schema.safeParse(v);
  return r.success ? r.data : undefined;
};
const same = (a: unknown, b: unknown) => a !== undefined && b !== undefined && jcs(a) === jcs(b);
const pathKey = (p: ClaimPath) => JSON.stringify(p);
const claimsKey = (claims: ClaimPath[] | undefined) => JSON.stringify([...(claims ?? [])].map(pathKey).sort());
const sameVerify = (c: GrantConstraints, want: { claims: ClaimPath[]; purpose: I18nText }) =>
  claimsKey(c.claims) === claimsKey(want.claims) && c.purpose !== undefined && c.purpose.de === want.purpose.de && c.purpose.en === want.purpose.en;

/** The changed parts of a definition, for the operator: top-level fields, and named members added, removed or changed. */
export function describeDiff(before: Record<string, unknown>, after: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])]) {
    const a = before[key];
    const b = after[key];
    if (jcs(a ?? null) === jcs(b ?? null)) continue;
    if (Array.isArray(a) && Array.isArray(b) && [...a, ...b].every((x) => x && typeof x === 'object' && ('name' in x || 'id' in x || 'vct' in x))) {
      const name = (x: Record<string, unknown>) => String(x.name ?? x.id ?? x.vct);
      const am = new Map(a.map((x) => [name(x), x]));
      const bm = new Map(b.map((x) => [name(x), x]));
      const bits = [
        ...[...bm.keys()].filter((k) => !am.has(k)).map((k) => `+${k}`),
        ...[...am.keys()].filter((k) => !bm.has(k)).map((k) => `-${k}`),
        ...[...bm.keys()].filter((k) => am.has(k) && jcs(am.get(k)) !== jcs(bm.get(k))).map((k) => `~${k}`),
      ];
      parts.push(`${key} (${bits.length ? bits.join(' ') : 'order'})`);
    } else parts.push(key);
  }
  return parts.join(', ');
}

export function planApply(current: CurrentState, desired: CityConfig, dids: Dids): Plan {
  const changes: Change[] = [];
  const kept: Kept[] = [];
  const reg = current.registry;
  const root = reg.root;
  const citySlug = root.split(':').at(-1);
  if (citySlug !== desired.city.slug) {
    throw new PlanError('city.slug', {
      de: `Die Stadt heißt im Vertrauensregister „${citySlug}“ (REGISTRY_ROOT_AUTHORITY), in der Datei „${desired.city.slug}“.`,
      en: `The trust registry's root authority is "${citySlug}" (REGISTRY_ROOT_AUTHORITY); the file says "${desired.city.slug}".`,
    });
  }
  const vctOf = new Map(desired.credential_types.map((t) => [t.id, t.vct]));
  const entities = new Map(reg.entities.map((e) => [e.id, e]));
  /** Grants the file accounts for; the others of the file's organisations are listed as kept. */
  const accounted = new Set<string>();
  const live = (g: GrantView) => g.status !== 'revoked';

  // --- Registry: credential types (full definitions) ---
  const regTypes = new Map(reg.credential_types.map((t) => norm(zCredentialTypeDef, t)).filter((t): t is CredentialTypeDef => !!t).map((t) => [t.id, t]));
  const putType = (service: Service, have: Map<string, CredentialTypeDef>, where: I18nText) => {
    for (const t of desired.credential_types) {
      const before = have.get(t.id);
      if (same(before, t)) continue;
      const request = { method: 'PUT' as const, path: `/api/catalog/credential-types/${t.id}`, body: t };
      if (!before) changes.push({ service, item: `credential type ${t.id}`, kind: 'create', request, text: { de: `${where.de}: Nachweisart ${t.id} anlegen (${t.vct})`, en: `${where.en}: create credential type ${t.id} (${t.vct})` } });
      else {
        const diff = describeDiff(before as unknown as Record<string, unknown>, t as unknown as Record<string, unknown>);
        changes.push({ service, item: `credential type ${t.id}`, kind: 'update', request, text: { de: `${where.de}: Nachweisart ${t.id} ändern: ${diff}`, en: `${where.en}: change credential type ${t.id}: ${diff}` } });
      }
    }
    for (const id of have.keys()) if (!vctOf.has(id)) kept.push({ service, text: { de: `${where.de}: Nachweisart ${id} bleibt (nicht in der Datei)`, en: `${where.en}: credential type ${id} kept (not in the file)` } });
  };
  const REG = { de: 'Register', en: 'Registry' };
  putType('registry', regTypes, REG);

  const ensureEntity = (id: string, kind: 'authority' | 'issuer' | 'verifier', name: I18nText, label: I18nText) => {
    const e = entities.get(id);
    if (!e) {
      changes.push({ service: 'registry', item: `entity ${id}`, kind: 'create', request: { method: 'POST', path: '/api/entities', body: { id, kind, name } }, text: { de: `Register: ${label.de} eintragen (${id})`, en: `Registry: register ${label.en} (${id})` } });
    } else if (e.name.de !== name.de || e.name.en !== name.en) {
      // The registry has no renaming of entities: names in issued statements stay as they were.
      kept.push({ service: 'registry', text: { de: `Register: ${label.de} behält den eingetragenen Namen „${e.name.de}“`, en: `Registry: ${label.en} keeps its registered name "${e.name.en}"` } });
    }
  };
  const ensureGrant = (g: { authority_id: string; entity_id: string; action: 'accredit' | 'issue'; resource: string; constraints?: GrantConstraints }, label: I18nText) => {
    const found = reg.grants.filter((x) => live(x) && x.authority_id === g.authority_id && x.entity_id === g.entity_id && x.action === g.action && x.resource === g.resource);
    for (const x of found) accounted.add(x.id);
    if (found.length > 0) {
      if (found.every((x) => x.status === 'suspended')) kept.push({ service: 'registry', text: { de: `Register: ${label.de} ist ausgesetzt und bleibt es`, en: `Registry: ${label.en} is suspended and stays so` } });
      return;
    }
    changes.push({ service: 'registry', item: `${g.action} grant ${g.entity_id} ${g.resource}`, kind: 'create', request: { method: 'POST', path: '/api/grants', body: { ...g, constraints: g.constraints ?? {} } }, text: { de: `Register: ${label.de} erteilen`, en: `Registry: grant ${label.en}` } });
  };

  // --- Registry: departments and what they may accredit ---
  for (const d of desired.departments) {
    const id = dids.department(d.slug);
    ensureEntity(id, 'authority', d.name, { de: `Dezernat ${d.slug}`, en: `department ${d.slug}` });
    for (const typeId of d.accredits) {
      const vct = vctOf.get(typeId)!;
      ensureGrant({ authority_id: root, entity_id: id, action: 'accredit', resource: vct, constraints: { actions: ['issue'], max_depth: 0 } }, { de: `Akkreditierung ${d.slug} für ${typeId}`, en: `accreditation of ${d.slug} for ${typeId}` });
    }
  }
  // --- Registry: offices and what they may issue (granted by their department) ---
  for (const o of desired.offices) {
    const id = dids.office(o.slug);
    ensureEntity(id, 'issuer', o.name, { de: `Amt ${o.slug}`, en: `office ${o.slug}` });
    for (const typeId of new Set(o.credential_configurations.map((c) => c.type))) {
      ensureGrant({ authority_id: dids.department(o.department), entity_id: id, action: 'issue', resource: vctOf.get(typeId)! }, { de: `Ausstellung ${typeId} durch ${o.slug}`, en: `issuance of ${typeId} by ${o.slug}` });
    }
  }
  // --- Registry: relying parties and what they may ask (granted by the city) ---
  for (const rp of desired.relying_parties) {
    const id = dids.relyingParty(rp.slug);
    ensureEntity(id, 'verifier', rp.name, { de: `Prüfstelle ${rp.slug}`, en: `relying party ${rp.slug}` });
    for (const a of rp.may_ask) {
      const label = { de: `Abfrage von ${a.vct} durch ${rp.slug}`, en: `verification of ${a.vct} by ${rp.slug}` };
      const found = reg.grants.filter((x) => live(x) && x.authority_id === root && x.entity_id === id && x.action === 'verify' && x.resource === a.vct);
      for (const x of found) accounted.add(x.id);
      if (found.some((x) => sameVerify(x.constraints, a))) continue;
      if (found.some((x) => x.status === 'suspended')) {
        kept.push({ service: 'registry', text: { de: `Register: ${label.de} ist ausgesetzt; geänderte Angaben werden nicht übernommen`, en: `Registry: ${label.en} is suspended; the changed claims are not applied` } });
        continue;
      }
      const claims = a.claims.map((p) => p.map((x) => (x === null ? '*' : x)).join('.')).join(', ');
      changes.push({
        service: 'registry',
        item: `verify grant ${id} ${a.vct}`,
        kind: 'create',
        request: { method: 'POST', path: '/api/grants', body: { authority_id: root, entity_id: id, action: 'verify', resource: a.vct, constraints: { claims: a.claims, purpose: a.purpose } } },
        text: { de: `Register: ${label.de} erteilen (${claims})`, en: `Registry: grant ${label.en} (${claims})` },
      });
      for (const old of found) {
        changes.push({
          service: 'registry',
          item: `verify grant ${old.id}`,
          kind: 'revoke',
          request: { method: 'POST', path: `/api/grants/${old.id}/status`, body: { status: 'revoked', reason: REPLACED_REASON } },
          text: { de: `Register: bisherige ${label.de} widerrufen (ersetzt)`, en: `Registry: revoke the previous ${label.en} (replaced)` },
        });
      }
    }
  }
  const fileEntities = new Set([...desired.departments.map((d) => dids.department(d.slug)), ...desired.offices.map((o) => dids.office(o.slug)), ...desired.relying_parties.map((r) => dids.relyingParty(r.slug))]);
  for (const g of reg.grants) {
    if (live(g) && fileEntities.has(g.entity_id) && !accounted.has(g.id)) {
      kept.push({ service: 'registry', text: { de: `Register: Berechtigung ${g.action} ${g.resource} für ${g.entity_id} bleibt (nicht in der Datei)`, en: `Registry: ${g.action} grant on ${g.resource} for ${g.entity_id} kept (not in the file)` } });
    }
  }
  const departmentPrefix = `${root.slice(0, root.lastIndexOf(':'))}:`;
  for (const e of reg.entities) {
    if (e.kind === 'authority' && e.id.startsWith(departmentPrefix) && e.id !== root && !fileEntities.has(e.id)) {
      kept.push({ service: 'registry', text: { de: `Register: Behörde ${e.id} bleibt (nicht in der Datei)`, en: `Registry: authority ${e.id} kept (not in the file)` } });
    }
  }

  // --- Issuer: types, then offices ---
  const ISS = { de: 'Ausgabestelle', en: 'Issuer' };
  putType('issuer', new Map(current.issuer.credential_types.map((t) => norm(zCredentialTypeDef, t)).filter((t): t is CredentialTypeDef => !!t).map((t) => [t.id, t])), ISS);
  const offices = new Map(current.issuer.offices.map((o) => norm(zOfficeDef, o)).filter((o): o is OfficeDef => !!o).map((o) => [o.slug, o]));
  for (const o of desired.offices) {
    const before = offices.get(o.slug);
    if (same(before, o)) continue;
    const request = { method: 'PUT' as const, path: `/api/catalog/offices/${o.slug}`, body: o };
    if (!before) changes.push({ service: 'issuer', item: `office ${o.slug}`, kind: 'create', request, text: { de: `Ausgabestelle: Amt ${o.slug} anlegen`, en: `Issuer: create office ${o.slug}` } });
    else {
      const diff = describeDiff(before as unknown as Record<string, unknown>, o as unknown as Record<string, unknown>);
      changes.push({ service: 'issuer', item: `office ${o.slug}`, kind: 'update', request, text: { de: `Ausgabestelle: Amt ${o.slug} ändern: ${diff}`, en: `Issuer: change office ${o.slug}: ${diff}` } });
    }
  }
  for (const slug of offices.keys()) if (!desired.offices.some((o) => o.slug === slug)) kept.push({ service: 'issuer', text: { de: `Ausgabestelle: Amt ${slug} bleibt (nicht in der Datei)`, en: `Issuer: office ${slug} kept (not in the file)` } });

  // --- Verifier: types, then relying parties ---
  const VER = { de: 'Prüfdienst', en: 'Verifier' };
  putType('verifier', new Map(current.verifier.credential_types.map((t) => norm(zCredentialTypeDef, t)).filter((t): t is CredentialTypeDef => !!t).map((t) => [t.id, t])), VER);
  const rps = new Map(current.verifier.relying_parties.map((r) => norm(zRelyingPartyDef, r)).filter((r): r is RelyingPartyDef => !!r).map((r) => [r.slug, r]));
  for (const rp of desired.relying_parties) {
    const before = rps.get(rp.slug);
    if (same(before, rp)) continue;
    const request = { method: 'PUT' as const, path: `/api/catalog/relying-parties/${rp.slug}`, body: rp };
    if (!before) changes.push({ service: 'verifier', item: `relying party ${rp.slug}`, kind: 'create', request, text: { de: `Prüfdienst: Prüfstelle ${rp.slug} anlegen (${rp.templates.length} Vorlagen)`, en: `Verifier: create relying party ${rp.slug} (${rp.templates.length} templates)` } });
    else {
      const diff = describeDiff(before as unknown as Record<string, unknown>, rp as unknown as Record<string, unknown>);
      changes.push({ service: 'verifier', item: `relying party ${rp.slug}`, kind: 'update', request, text: { de: `Prüfdienst: Prüfstelle ${rp.slug} ändern: ${diff}`, en: `Verifier: change relying party ${rp.slug}: ${diff}` } });
    }
  }
  for (const slug of rps.keys()) if (!desired.relying_parties.some((r) => r.slug === slug)) kept.push({ service: 'verifier', text: { de: `Prüfdienst: Prüfstelle ${slug} bleibt (nicht in der Datei)`, en: `Verifier: relying party ${slug} kept (not in the file)` } });

  return { changes, kept };
}

const MARK: Record<Change['kind'], string> = { create: '+', update: '~', revoke: '-' };

/** The plan as lines for the terminal: German, then English, per change; kept items after. */
export function formatPlan(plan: Plan): string[] {
  const lines: string[] = [];
  if (plan.changes.length === 0) lines.push('nichts zu ändern / nothing to change');
  for (const c of plan.changes) lines.push(`${MARK[c.kind]} ${c.text.de}`, `  ${c.text.en}`);
  for (const k of plan.kept) lines.push(`= ${k.text.de}`, `  ${k.text.en}`);
  return lines;
}
