import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DcqlQuery } from 'dcql';
import { LEIPZIG, VCT } from '../../core/demo/leipzig.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';
import { counterView } from '../../verifier/catalog/page-view.ts';
import type { VerifierDeps } from '../../verifier/deps.ts';

/**
 * Issue 15, verifier side: a relying party (counter) and its templates as data. A NEW relying party
 * registered in the trust registry through its admin API is PUT at the verifier with a template and
 * works at once — its did:web, request signing, a real presentation of a Leipzig credential. The
 * registry stays the source of truth: a template asking for a claim the verify grant does not allow,
 * or a relying party the registry does not know, is refused 409 and nothing is stored.
 */
const SLUG = 'stadtarchiv-lesesaal';
const GRANTED = [['vorname'], ['familienname'], ['wohnsitz_leipzig']];
const PURPOSE = { de: 'Zugang zum Lesesaal', en: 'Access to the reading room' };

const template = (paths: string[][], id = 'lesesaal') => ({
  id,
  name: { de: 'Lesesaal-Zugang prüfen', en: 'Check reading-room access' },
  dcql_query: { credentials: [{ id: 'meldebescheinigung', format: 'dc+sd-jwt', meta: { vct_values: [VCT.meldebescheinigung] }, claims: paths.map((path) => ({ path })) }] },
});
const rpDef = (slug: string, paths: string[][], mayAsk = GRANTED) => ({
  slug,
  name: { de: 'Stadtarchiv Leipzig – Lesesaal', en: 'Leipzig City Archives – reading room' },
  may_ask: [{ vct: VCT.meldebescheinigung, claims: mayAsk, purpose: PURPOSE }],
  templates: [template(paths)],
});

describe('verifier catalogue: relying parties and templates as data, checked against the registry', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  const put = (path: string, body: unknown, token = TOKENS.verifier) =>
    fetch(`${stack.urls.verifier}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const catalog = async () => (await stack.admin('verifier', '/api/catalog')).json();
  const auditCount = async () => ((await (await stack.admin('verifier', '/api/audit')).json()).entries as unknown[]).length;
  /** Registers a relying party in the trust registry (entity + verify grant with claims) through its admin API. */
  const register = async (slug: string, claims: string[][]) => {
    const e = await stack.admin('registry', '/api/entities', { id: stack.rpDid(slug), kind: 'verifier', name: { de: `Theke ${slug}`, en: `Counter ${slug}` } });
    expect(e.status, await e.clone().text()).toBe(201);
    const g = await stack.admin('registry', '/api/grants', { entity_id: stack.rpDid(slug), action: 'verify', resource: VCT.meldebescheinigung, constraints: { claims, purpose: PURPOSE } });
    expect(g.status, await g.clone().text()).toBe(201);
  };

  it('seeds Demo Leipzig into the empty catalogue on first start', async () => {
    const c = await catalog();
    expect(c.relying_parties.map((r: { slug: string }) => r.slug)).toEqual(LEIPZIG.relying_parties.map((r) => r.slug).sort());
    expect(c.credential_types.map((t: { id: string }) => t.id).sort()).toEqual(LEIPZIG.credential_types.map((t) => t.id).sort());
    expect(c.revision).toBe(LEIPZIG.relying_parties.length + LEIPZIG.credential_types.length);
  });

  it('a new relying party registered in the registry is PUT with a template and verifies a real Meldebescheinigung at once', async () => {
    await register(SLUG, GRANTED);
    expect((await fetch(`${stack.urls.verifier}/verifiers/${SLUG}/did.json`)).status).toBe(404);

    // The verifier's snapshot is younger than VERIFIER_TRUST_MAX_AGE: it refreshes once before refusing.
    const res = await put(`/api/catalog/relying-parties/${SLUG}`, rpDef(SLUG, GRANTED));
    expect(res.status, await res.clone().text()).toBe(201);
    const out = await res.json();
    expect(out).toMatchObject({ created: true, changed: true, did: stack.rpDid(SLUG), relying_party: { slug: SLUG } });

    // Its own did:web with its request-signing key, its counter page, its request API: all at once.
    const doc = await (await fetch(`${stack.urls.verifier}/verifiers/${SLUG}/did.json`)).json();
    expect(doc.id).toBe(stack.rpDid(SLUG));
    expect((await fetch(`${stack.urls.verifier}/verifiers/${SLUG}/counter`)).status).toBe(200);

    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    // The template's DCQL was parsed and validated when it was stored, not again per request (the services run in this process).
    const parse = vi.spyOn(DcqlQuery, 'parse');
    let created: Response;
    try {
      created = await stack.admin('verifier', `/api/verifiers/${SLUG}/requests`, { template: 'lesesaal' });
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    expect(created.status, await created.clone().text()).toBe(201);
    const r = await created.json();
    const req = await resolveRequest(r.authorization_request);
    expect(req.payload.client_id).toBe(`decentralized_identifier:${stack.rpDid(SLUG)}`);
    expect(req.payload.dcql_query).toEqual(template(GRANTED).dcql_query);
    expect((await postResponse(req, { meldebescheinigung: [await present(credential, key, req, 'meldebescheinigung')] })).status).toBe(200);
    const verdict = await (await stack.admin('verifier', `/api/verifiers/${SLUG}/requests/${r.request_id}`)).json();
    expect(verdict.status, JSON.stringify(verdict.result?.errors)).toBe('verified');
    expect(verdict.result.credentials[0].claims).toEqual({ vorname: 'Erika', familienname: 'Mustermann', wohnsitz_leipzig: true });

    // Templates belong to their relying party: another counter's template is unknown here.
    const foreign = await stack.admin('verifier', `/api/verifiers/${SLUG}/requests`, { template: 'meldebescheinigung' });
    expect(foreign.status).toBe(404);
    expect((await foreign.json()).type).toBe('urn:id-ideal:problem:unknown-template');
  });

  it('an identical PUT changes nothing: 200, changed false, same revision, no audit entry', async () => {
    const before = { revision: (await catalog()).revision, audit: await auditCount() };
    const res = await put(`/api/catalog/relying-parties/${SLUG}`, rpDef(SLUG, GRANTED));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ created: false, changed: false, revision: before.revision });
    expect((await catalog()).revision).toBe(before.revision);
    expect(await auditCount()).toBe(before.audit);
    // Same for a credential type.
    const type = LEIPZIG.credential_types.find((t) => t.id === 'meldebescheinigung')!;
    const t = await put('/api/catalog/credential-types/meldebescheinigung', type);
    expect(t.status).toBe(200);
    expect(await t.json()).toMatchObject({ changed: false, revision: before.revision });
    expect(await auditCount()).toBe(before.audit);
  });

  it('a template asking for a claim the verify grant does not allow is refused 409, and nothing is stored', async () => {
    const before = await catalog();
    const audit = await auditCount();
    // may_ask lists geburtsdatum, the registry grant does not: the registry decides.
    const wider = [...GRANTED, ['geburtsdatum']];
    const res = await put(`/api/catalog/relying-parties/${SLUG}`, rpDef(SLUG, wider, wider));
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = await res.json();
    expect(p.type).toBe('urn:id-ideal:problem:not-authorized-by-registry');
    expect(p.detail_i18n.de).toMatch(/geburtsdatum/);
    expect(p.detail_i18n.en).toMatch(/geburtsdatum/);
    expect(p.detail_i18n.de).not.toBe(p.detail_i18n.en);
    expect(await catalog()).toEqual(before);
    expect(await auditCount()).toBe(audit);
    // The stored template still asks only what was granted.
    const r = await stack.admin('verifier', `/api/verifiers/${SLUG}/requests`, { template: 'lesesaal' });
    expect(r.status).toBe(201);
  });

  it('a relying party the registry does not know is refused 409: no row, no did:web', async () => {
    const before = await catalog();
    const res = await put('/api/catalog/relying-parties/nirgendwo-theke', rpDef('nirgendwo-theke', GRANTED));
    expect(res.status).toBe(409);
    const p = await res.json();
    expect(p.type).toBe('urn:id-ideal:problem:not-authorized-by-registry');
    expect(p.detail_i18n.de).toMatch(/nicht als prüfende Stelle eingetragen/);
    expect(await catalog()).toEqual(before);
    expect((await fetch(`${stack.urls.verifier}/verifiers/nirgendwo-theke/did.json`)).status).toBe(404);
    expect((await stack.admin('verifier', '/api/verifiers/nirgendwo-theke/requests', { template: 'lesesaal' })).status).toBe(404);
  });

  it('refuses bodies the model or the dcql library refuses with 400 naming the field, and a wrong token with 401', async () => {
    const bad = await put(`/api/catalog/relying-parties/${SLUG}`, { ...rpDef(SLUG, GRANTED), templates: [{ ...template(GRANTED), dcql_query: { credentials: [] } }] });
    expect(bad.status).toBe(400);
    expect((await bad.json()).field).toBe('templates.0.dcql_query');
    const mismatch = await put('/api/catalog/relying-parties/anderer-name', rpDef(SLUG, GRANTED));
    expect(mismatch.status).toBe(400);
    expect((await mismatch.json()).field).toBe('slug');
    const beyondMayAsk = await put(`/api/catalog/relying-parties/${SLUG}`, rpDef(SLUG, [...GRANTED, ['geburtsdatum']]));
    expect(beyondMayAsk.status).toBe(400);
    expect((await beyondMayAsk.json()).field).toBe('templates.0.dcql_query');
    const typeMismatch = await put('/api/catalog/credential-types/andere', LEIPZIG.credential_types[0]);
    expect(typeMismatch.status).toBe(400);
    expect((await put(`/api/catalog/relying-parties/${SLUG}`, rpDef(SLUG, GRANTED), 'wrong-token-0123456789-abcdefghij')).status).toBe(401);
  });

  it('answers hostile or odd catalogue bodies with a 4xx problem, never a 5xx, and stores nothing', async () => {
    const before = await catalog();
    const raw = (path: string, body: string, type = 'application/json') => fetch(`${stack.urls.verifier}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKENS.verifier}`, 'content-type': type }, body });
    const q = (credentials: unknown) => ({ ...rpDef(SLUG, GRANTED), templates: [{ ...template(GRANTED), dcql_query: { credentials } }] });
    const cases: [string, Response][] = [
      ['array', await raw(`/api/catalog/relying-parties/${SLUG}`, '[]')],
      ['not json', await raw(`/api/catalog/relying-parties/${SLUG}`, 'slug=x', 'text/plain')],
      ['broken json', await raw(`/api/catalog/relying-parties/${SLUG}`, '{"slug":')],
      ['wrong member types', await put(`/api/catalog/relying-parties/${SLUG}`, { slug: 1, name: 'x', may_ask: {}, templates: 'x' })],
      ['mdoc query (a format we do not verify)', await put(`/api/catalog/relying-parties/${SLUG}`, q([{ id: 'm', format: 'mso_mdoc', meta: { doctype_value: 'org.iso.18013.5.1.mDL' } }]))],
      ['unknown vct', await put(`/api/catalog/relying-parties/${SLUG}`, q([{ id: 'm', format: 'dc+sd-jwt', meta: { vct_values: [] }, claims: [{ path: ['vorname'] }] }]))],
      ['odd claim path', await put(`/api/catalog/relying-parties/${SLUG}`, q([{ id: 'm', format: 'dc+sd-jwt', meta: { vct_values: [VCT.meldebescheinigung] }, claims: [{ path: [null, 3, {}] }] }]))],
      ['path slug too long', await put(`/api/catalog/relying-parties/${'x'.repeat(2000)}`, rpDef(SLUG, GRANTED))],
      ['vct of another type', await put('/api/catalog/credential-types/zweite_meldung', { ...LEIPZIG.credential_types.find((t) => t.id === 'meldebescheinigung')!, id: 'zweite_meldung' })],
    ];
    for (const [what, res] of cases) {
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(res.status, what).toBeLessThan(500);
      expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
    }
    expect(cases.find(([w]) => w === 'vct of another type')![1].status).toBe(409);
    expect(await catalog()).toEqual(before);
  });

  it('a changed credential type takes effect at once (200, changed, new revision)', async () => {
    const before = (await catalog()).revision;
    const type = structuredClone(LEIPZIG.credential_types.find((t) => t.id === 'meldebescheinigung')!);
    type.name = { de: 'Meldebescheinigung (neu)', en: 'Certificate of registration (new)' };
    const res = await put('/api/catalog/credential-types/meldebescheinigung', type);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ created: false, changed: true, revision: before + 1 });
    const c = await catalog();
    expect(c.credential_types.find((t: { id: string }) => t.id === 'meldebescheinigung').name.de).toBe('Meldebescheinigung (neu)');
  });

  it('describes the requests, catalogue and VC-API endpoints in /openapi.json (OpenAPI 3.1), every $ref resolving inside the document', async () => {
    const res = await fetch(`${stack.urls.verifier}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/verifiers/{slug}/requests', '/api/catalog', '/api/catalog/credential-types/{id}', '/api/catalog/relying-parties/{slug}', '/credentials/verify', '/presentations/verify']));
    expect(doc.paths['/api/catalog/relying-parties/{slug}'].put.responses).toHaveProperty('409');
    expect(doc.components.schemas.RelyingPartyDef.required).toEqual(expect.arrayContaining(['slug', 'name', 'may_ask']));
    // Inside an OpenAPI document `#` is the document: zod's `#/$defs/…` must have been moved to components.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(3);
    for (const ref of refs) {
      const target = ref.slice(2).split('/').reduce((v: any, k) => v?.[k], doc);
      expect(target, ref).toBeTypeOf('object');
    }
  });
});

describe('counterView: what the counter page shows, from the catalogue', () => {
  it('lists the relying party\'s templates and the types they ask for, claims in display order', () => {
    const types = new Map(LEIPZIG.credential_types.map((t) => [t.id, t]));
    const rp = LEIPZIG.relying_parties.find((r) => r.slug === 'bibliothek')!;
    const templates = new Map(rp.templates.map((t) => [t.id, { ...t, parsed: DcqlQuery.parse(t.dcql_query as never) }]));
    const deps = {
      rps: new Map([['bibliothek', { slug: 'bibliothek', templates }]]),
      catalog: { typeByVct: (v: string) => [...types.values()].find((t) => t.vct === v), typeByW3cType: (w: string) => [...types.values()].find((t) => t.w3c_type === w) },
    } as unknown as Pick<VerifierDeps, 'rps' | 'catalog'>;
    const view = counterView(deps, 'bibliothek');
    expect(view.templates).toEqual([
      { id: 'bibliotheksausweis', name: { de: 'Bibliotheksausweis prüfen', en: 'Check library card' } },
      { id: 'anmeldung_bibliothek', name: { de: 'Anmeldung in der Bibliothek', en: 'Library registration' } },
    ]);
    expect(view.types.map((t) => t.id)).toEqual(['bibliotheksausweis', 'meldebescheinigung', 'leipzig_pass']);
    expect(view.types[1]!.claims).toBe(types.get('meldebescheinigung')!.claims);
    expect(counterView(deps, 'nirgendwo')).toEqual({ templates: [], types: [] });
  });
});
