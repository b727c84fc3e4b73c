import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exportCityConfig } from '../../core/catalog/export-state.ts';
import { parseCityConfig } from '../../core/catalog/load-file.ts';
import type { CityConfig, CredentialTypeDef, OfficeDef, RelyingPartyDef } from '../../core/catalog/model.ts';
import { type Change, type CurrentState, type Dids, formatPlan, type GrantView, PlanError, planApply, REPLACED_REASON } from '../../core/catalog/plan.ts';
import { LEIPZIG } from '../../core/demo/leipzig.ts';
import { ARCHIVAUSWEIS, ARCHIVE_CITY, archiveCityYaml, LESESAAL, STADTARCHIV } from '../helpers/archive-city.ts';

const REG = 'did:web:reg.example';
const ROOT = `${REG}:authorities:leipzig`;
const dids: Dids = {
  department: (s) => `${REG}:authorities:${s}`,
  office: (s) => `did:web:iss.example:offices:${s}`,
  relyingParty: (s) => `did:web:ver.example:verifiers:${s}`,
};

const empty = (): CurrentState => ({
  registry: { root: ROOT, credential_types: [], entities: [{ id: ROOT, kind: 'authority', name: LEIPZIG.city.name }], grants: [] },
  issuer: { credential_types: [], offices: [] },
  verifier: { credential_types: [], relying_parties: [] },
});

/**
 * The three services in memory, with the checks that make the order matter: a grant needs its
 * entity and authority, an issue grant a registered type; the issuer takes an office only when the
 * registry lets it issue each type, the verifier a relying party only with a verify grant per type.
 */
function simulate(state: CurrentState, changes: Change[]): CurrentState {
  const s = structuredClone(state);
  let n = s.registry.grants.length;
  const active = (g: GrantView) => g.status === 'active';
  for (const c of changes) {
    const { method, path, body } = c.request;
    const b = body as Record<string, unknown>;
    if (c.service === 'registry' && method === 'PUT') {
      s.registry.credential_types = [...s.registry.credential_types.filter((t) => (t as CredentialTypeDef).id !== b.id), b];
    } else if (c.service === 'registry' && path === '/api/entities') {
      s.registry.entities.push(b as never);
    } else if (c.service === 'registry' && path === '/api/grants') {
      const authority = (b.authority_id as string | undefined) ?? ROOT;
      if (!s.registry.entities.some((e) => e.id === b.entity_id)) throw new Error(`grant before entity: ${c.item}`);
      if (!s.registry.entities.some((e) => e.id === authority)) throw new Error(`grant by unknown authority: ${c.item}`);
      if (b.action !== 'accredit' && !s.registry.credential_types.some((t) => (t as CredentialTypeDef).vct === b.resource)) throw new Error(`grant on unknown type: ${c.item}`);
      if (b.action === 'issue' && !s.registry.grants.some((g) => active(g) && g.action === 'accredit' && g.entity_id === authority && g.resource === b.resource)) throw new Error(`issue grant beyond accreditation: ${c.item}`);
      s.registry.grants.push({ id: `grant-${++n}`, authority_id: authority, entity_id: b.entity_id as string, action: b.action as string, resource: b.resource as string, constraints: b.constraints as never, status: 'active' });
    } else if (c.service === 'registry' && path.endsWith('/status')) {
      const g = s.registry.grants.find((x) => path === `/api/grants/${x.id}/status`)!;
      g.status = b.status as GrantView['status'];
    } else if (path.startsWith('/api/catalog/credential-types/')) {
      const side = s[c.service as 'issuer' | 'verifier'];
      side.credential_types = [...side.credential_types.filter((t) => (t as CredentialTypeDef).id !== b.id), b];
    } else if (path.startsWith('/api/catalog/offices/')) {
      const o = body as OfficeDef;
      for (const x of o.credential_configurations) {
        const vct = (s.issuer.credential_types as CredentialTypeDef[]).find((t) => t.id === x.type)?.vct;
        if (!vct) throw new Error(`office before its type: ${c.item}`);
        if (!s.registry.grants.some((g) => active(g) && g.action === 'issue' && g.entity_id === dids.office(o.slug) && g.resource === vct)) throw new Error(`office not authorized by the registry: ${c.item}`);
      }
      s.issuer.offices = [...s.issuer.offices.filter((x) => (x as OfficeDef).slug !== o.slug), o];
    } else if (path.startsWith('/api/catalog/relying-parties/')) {
      const rp = body as RelyingPartyDef;
      for (const a of rp.may_ask) if (!s.registry.grants.some((g) => active(g) && g.action === 'verify' && g.entity_id === dids.relyingParty(rp.slug) && g.resource === a.vct)) throw new Error(`relying party not authorized by the registry: ${c.item}`);
      s.verifier.relying_parties = [...s.verifier.relying_parties.filter((x) => (x as RelyingPartyDef).slug !== rp.slug), rp];
    } else throw new Error(`unexpected request ${method} ${path}`);
  }
  return s;
}

const applied = (config: CityConfig, from = empty()) => simulate(from, planApply(from, config, dids).changes);

describe('config plan (issue 15): current state + city file → ordered changes', () => {
  it('builds a city from nothing in the order the services check each other, and a second run has nothing to do', () => {
    const plan = planApply(empty(), ARCHIVE_CITY, dids);
    const services = plan.changes.map((c) => c.service);
    // Registry first, then issuer, then verifier (the simulator refuses anything out of order).
    expect(services.lastIndexOf('registry')).toBeLessThan(services.indexOf('issuer'));
    expect(services.lastIndexOf('issuer')).toBeLessThan(services.indexOf('verifier'));
    const after = simulate(empty(), plan.changes);
    const again = planApply(after, ARCHIVE_CITY, dids);
    expect(again.changes).toEqual([]);
    expect(formatPlan(again)[0]).toBe('nichts zu ändern / nothing to change');
    // The issue grant of the new office comes from its department, which the city accredited.
    const issue = plan.changes.find((c) => c.item === `issue grant ${dids.office('stadtarchiv')} ${ARCHIVAUSWEIS.vct}`)!;
    expect(issue.request.body).toMatchObject({ authority_id: dids.department('dezernat-archiv'), action: 'issue' });
  });

  it('adds only what is new to an applied Leipzig: department, type, office, counter — German and English lines', () => {
    const leipzig = applied(LEIPZIG);
    expect(planApply(leipzig, LEIPZIG, dids).changes).toEqual([]);
    const plan = planApply(leipzig, ARCHIVE_CITY, dids);
    expect(plan.changes.map((c) => `${c.service} ${c.kind} ${c.item}`)).toEqual([
      'registry create credential type archivausweis',
      `registry create entity ${dids.department('dezernat-archiv')}`,
      `registry create accredit grant ${dids.department('dezernat-archiv')} ${ARCHIVAUSWEIS.vct}`,
      `registry create entity ${dids.office('stadtarchiv')}`,
      `registry create issue grant ${dids.office('stadtarchiv')} ${ARCHIVAUSWEIS.vct}`,
      `registry create entity ${dids.relyingParty('stadtarchiv-lesesaal')}`,
      `registry create verify grant ${dids.relyingParty('stadtarchiv-lesesaal')} ${ARCHIVAUSWEIS.vct}`,
      'issuer create credential type archivausweis',
      'issuer create office stadtarchiv',
      'verifier create credential type archivausweis',
      'verifier create relying party stadtarchiv-lesesaal',
    ]);
    const lines = formatPlan(plan);
    expect(lines).toContain('+ Register: Nachweisart archivausweis anlegen (urn:id-ideal:vct:archivausweis)');
    expect(lines).toContain('  Registry: create credential type archivausweis (urn:id-ideal:vct:archivausweis)');
    expect(lines).toContain('+ Ausgabestelle: Amt stadtarchiv anlegen');
    expect(plan.kept).toEqual([]);
    expect(planApply(simulate(leipzig, plan.changes), ARCHIVE_CITY, dids).changes).toEqual([]);
  });

  it('shows what changed in a definition, per service', () => {
    const state = applied(ARCHIVE_CITY);
    const changed = structuredClone(ARCHIVE_CITY);
    const t = changed.credential_types.find((x) => x.id === 'archivausweis')!;
    t.name = { de: 'Archiv-Lesekarte', en: 'Archive reading card' };
    t.claims.push({ name: 'ausweisnummer', type: 'string', max_length: 20, mandatory: false, sd: 'always', label: { de: 'Ausweisnummer', en: 'Card number' } });
    changed.offices.find((o) => o.slug === 'stadtarchiv')!.name = { de: 'Stadtarchiv', en: 'City Archive' };
    const plan = planApply(state, changed, dids);
    expect(plan.changes.map((c) => `${c.service} ${c.kind} ${c.item}`)).toEqual(['registry update credential type archivausweis', 'issuer update credential type archivausweis', 'issuer update office stadtarchiv', 'verifier update credential type archivausweis']);
    expect(plan.changes[0]!.text.de).toBe('Register: Nachweisart archivausweis ändern: name, claims (+ausweisnummer)');
    // The registry does not rename an entity; the plan says so instead of pretending.
    expect(plan.kept.map((k) => k.text.en)).toEqual(['Registry: office stadtarchiv keeps its registered name "Leipzig City Archive"']);
  });

  it('replaces a verify grant whose claims changed: the new grant first, then the old one revoked with a reason', () => {
    const state = applied(ARCHIVE_CITY);
    const old = state.registry.grants.find((g) => g.action === 'verify' && g.entity_id === dids.relyingParty('stadtarchiv-lesesaal'))!;
    const narrower = structuredClone(ARCHIVE_CITY);
    const rp = narrower.relying_parties.find((r) => r.slug === 'stadtarchiv-lesesaal')!;
    rp.may_ask[0]!.claims = [['familienname'], ['volljaehrig']];
    (rp.templates[0]!.dcql_query as { credentials: { claims: unknown[] }[] }).credentials[0]!.claims = [{ path: ['familienname'] }, { path: ['volljaehrig'] }];
    const plan = planApply(state, narrower, dids);
    expect(plan.changes.map((c) => `${c.service} ${c.kind}`)).toEqual(['registry create', 'registry revoke', 'verifier update']);
    expect(plan.changes[0]!.request.body).toMatchObject({ action: 'verify', constraints: { claims: [['familienname'], ['volljaehrig']] } });
    expect(plan.changes[1]!.request).toEqual({ method: 'POST', path: `/api/grants/${old.id}/status`, body: { status: 'revoked', reason: REPLACED_REASON } });
    const after = simulate(state, plan.changes);
    expect(planApply(after, narrower, dids).changes).toEqual([]);
    // The same claims in another order are the same grant.
    rp.may_ask[0]!.claims = [['volljaehrig'], ['familienname']];
    expect(planApply(after, narrower, dids).changes.filter((c) => c.service === 'registry')).toEqual([]);
  });

  it('leaves a suspended grant suspended instead of creating a new one', () => {
    const state = applied(ARCHIVE_CITY);
    for (const g of state.registry.grants) if (g.entity_id === dids.office('stadtarchiv') || g.entity_id === dids.relyingParty('stadtarchiv-lesesaal')) g.status = 'suspended';
    const plan = planApply(state, ARCHIVE_CITY, dids);
    expect(plan.changes).toEqual([]);
    expect(plan.kept.map((k) => k.text.en)).toEqual([
      'Registry: issuance of archivausweis by stadtarchiv is suspended and stays so',
    ]);
    const changed = structuredClone(ARCHIVE_CITY);
    changed.relying_parties.find((r) => r.slug === 'stadtarchiv-lesesaal')!.may_ask[0]!.claims = [['familienname']];
    const p2 = planApply(state, changed, dids);
    expect(p2.changes.filter((c) => c.service === 'registry')).toEqual([]);
    expect(p2.kept.map((k) => k.text.en)).toContain(`Registry: verification of ${ARCHIVAUSWEIS.vct} by stadtarchiv-lesesaal is suspended; the changed claims are not applied`);
  });

  it('never deletes: what exists only on a server is listed as kept', () => {
    const state = applied(ARCHIVE_CITY);
    const plan = planApply(state, LEIPZIG, dids);
    expect(plan.changes).toEqual([]);
    expect(plan.kept.map((k) => `${k.service}: ${k.text.en}`)).toEqual([
      'registry: Registry: credential type archivausweis kept (not in the file)',
      `registry: Registry: authority ${dids.department('dezernat-archiv')} kept (not in the file)`,
      'issuer: Issuer: credential type archivausweis kept (not in the file)',
      'issuer: Issuer: office stadtarchiv kept (not in the file)',
      'verifier: Verifier: credential type archivausweis kept (not in the file)',
      'verifier: Verifier: relying party stadtarchiv-lesesaal kept (not in the file)',
    ]);
    expect(formatPlan(plan)[0]).toBe('nichts zu ändern / nothing to change');
  });

  it('refuses a file for another city, naming the field', () => {
    const other = { ...LEIPZIG, city: { slug: 'dresden', name: { de: 'Dresden', en: 'Dresden' } } };
    let error: unknown;
    try {
      planApply(empty(), other, dids);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanError);
    expect((error as PlanError).field).toBe('city.slug');
    expect((error as PlanError).text.de).toContain('dresden');
  });

  it('exports the current state as a file that round-trips: the same YAML, and applying it changes nothing', () => {
    const state = applied(ARCHIVE_CITY);
    const exported = exportCityConfig(state);
    expect(exported.departments.find((d) => d.slug === 'dezernat-archiv')!.accredits).toEqual(['archivausweis']);
    expect(exported.offices).toContainEqual(STADTARCHIV);
    expect(exported.relying_parties).toContainEqual(LESESAAL);
    expect(planApply(state, exported, dids).changes).toEqual([]);
    const text = archiveCityYaml(exported);
    expect(parseCityConfig(text)).toEqual(exported);
    expect(parse(archiveCityYaml())).toBeTruthy();
  });
});
