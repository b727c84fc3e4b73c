import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialTypeDef } from '../../core/catalog/model.ts';
import { typeMetadataBytes, typeMetadataIntegrity } from '../../core/catalog/type-metadata.ts';
import { LEIPZIG, VCT } from '../../core/demo/leipzig.ts';
import { ARCHIVAUSWEIS } from '../helpers/archive-city.ts';
import { ADMIN_TOKEN, startTestRegistry, type RunningRegistry } from '../helpers/registry.ts';

describe('trust registry: credential type definitions, type metadata, runtime departments (issue 15)', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry();
  });
  afterAll(async () => {
    await reg.close();
  });

  const put = (id: string, body: unknown, token?: string | null) => reg.admin(`/api/catalog/credential-types/${id}`, { method: 'PUT', body, ...(token !== undefined ? { token } : {}) });
  const footprint = async () => {
    const audit = await (await reg.admin('/api/audit')).json();
    const seq = (await fetch(`${reg.url}/snapshots/latest`)).headers.get('x-snapshot-seq');
    const catalog = await (await reg.admin('/api/catalog')).json();
    return JSON.stringify({ a: audit.entries.length, seq, r: catalog.revision, c: catalog.credential_types });
  };

  it('serves each demo type’s metadata byte-exact: its sha256 is the vct#integrity the issuer signs', async () => {
    for (const t of LEIPZIG.credential_types) {
      const res = await fetch(`${reg.url}/vct/${t.id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('cache-control')).toContain('public');
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.equals(typeMetadataBytes(t))).toBe(true);
      expect(`sha256-${createHash('sha256').update(bytes).digest('base64')}`).toBe(typeMetadataIntegrity(t));
      const byVct = await fetch(`${reg.url}/vct?vct=${encodeURIComponent(t.vct)}`);
      expect(Buffer.from(await byVct.arrayBuffer()).equals(bytes)).toBe(true);
    }
    // The signed snapshot names the same integrity for each defined type (old members unchanged).
    const snapshot = await (await fetch(`${reg.url}/snapshots/latest`)).text();
    const payload = JSON.parse(Buffer.from(snapshot.split('.')[1]!, 'base64url').toString());
    for (const t of LEIPZIG.credential_types) {
      expect(payload.credential_types.find((x: { vct: string }) => x.vct === t.vct)).toEqual({ vct: t.vct, name: t.name, issued_before_suspension: t.issued_before_suspension, ...(t.w3c_type ? { w3c_types: [t.w3c_type] } : {}), 'vct#integrity': typeMetadataIntegrity(t) });
    }
    const doc = await (await fetch(`${reg.url}/vct/meldebescheinigung`)).json();
    expect(doc.vct).toBe(VCT.meldebescheinigung);
    expect(doc.display.map((d: { locale: string; name: string }) => `${d.locale}:${d.name}`)).toEqual(['de-DE:Meldebescheinigung', 'en-US:Certificate of registration']);
  });

  it('answers an unknown type with a 404 problem and a malformed name with 400', async () => {
    for (const path of ['/vct/unbekannt', `/vct?vct=${encodeURIComponent('urn:id-ideal:vct:unbekannt')}`]) {
      const res = await fetch(reg.url + path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await res.json()).type).toBe('urn:id-ideal:problem:unknown-credential-type');
    }
    expect((await fetch(`${reg.url}/vct/Meldebescheinigung!`)).status).toBe(400);
    expect((await fetch(`${reg.url}/vct`)).status).toBe(400);
  });

  it('stores a new type’s definition once, answers the same PUT with changed: false and writes nothing', async () => {
    expect((await put('archivausweis', ARCHIVAUSWEIS, null)).status).toBe(401);
    const created = await put('archivausweis', ARCHIVAUSWEIS);
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ changed: true, credential_type: { id: 'archivausweis' } });
    const types = await (await reg.admin('/api/credential-types')).json();
    expect(types.credential_types.find((t: { vct: string }) => t.vct === ARCHIVAUSWEIS.vct)).toMatchObject({ name: ARCHIVAUSWEIS.name, issued_before_suspension: 'reject' });
    const served = Buffer.from(await (await fetch(`${reg.url}/vct/archivausweis`)).arrayBuffer());
    expect(served.equals(typeMetadataBytes(ARCHIVAUSWEIS))).toBe(true);

    const before = await footprint();
    const again = await put('archivausweis', ARCHIVAUSWEIS);
    expect(again.status).toBe(200);
    expect((await again.json()).changed).toBe(false);
    expect(await footprint()).toBe(before);
  });

  it('updates a definition (new metadata, audited), and refuses a changed vct or a mismatched id, writing nothing', async () => {
    const renamed = { ...ARCHIVAUSWEIS, name: { de: 'Archiv-Lesekarte', en: 'Archive reading card' } };
    const res = await put('archivausweis', renamed);
    expect(res.status).toBe(200);
    expect((await res.json()).changed).toBe(true);
    expect((await (await fetch(`${reg.url}/vct/archivausweis`)).json()).display[0].name).toBe('Archiv-Lesekarte');
    const audit = (await (await reg.admin('/api/audit')).json()).entries.at(-1);
    expect(audit).toMatchObject({ action: 'credential_type.update', target: ARCHIVAUSWEIS.vct, details: { id: 'archivausweis', integrity: typeMetadataIntegrity(renamed) } });
    const first = (await (await reg.admin('/api/audit')).json()).entries.find((e: { target: string }) => e.target === ARCHIVAUSWEIS.vct);
    expect(first).toMatchObject({ action: 'credential_type.create', details: { id: 'archivausweis', name: ARCHIVAUSWEIS.name } });

    const before = await footprint();
    const moved = await put('archivausweis', { ...renamed, vct: 'urn:id-ideal:vct:archivausweis-2' });
    expect(moved.status).toBe(409);
    const problem = await moved.json();
    expect(problem.type).toBe('urn:id-ideal:problem:credential-type-vct-immutable');
    expect(problem.detail_i18n.de).toContain('Nachweisart');
    const taken = await put('archivkarte', { ...renamed, id: 'archivkarte' });
    expect(taken.status).toBe(409);
    expect((await taken.json()).type).toBe('urn:id-ideal:problem:credential-type-exists');
    const mismatch = await put('archivkarte', renamed);
    expect(mismatch.status).toBe(400);
    expect((await mismatch.json()).field).toBe('id');
    const invalid = await put('archivausweis', { ...renamed, claims: [] });
    expect(invalid.status).toBe(400);
    expect(await footprint()).toBe(before);
  });

  it('answers hostile catalogue input with 4xx problems, never 5xx, and writes nothing', async () => {
    const before = await footprint();
    const raw = (path: string, body: string, type = 'application/json') => fetch(reg.url + path, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type }, body });
    const answers = [
      await raw('/api/catalog/credential-types/archivausweis', '{"id":'),
      await raw('/api/catalog/credential-types/archivausweis', 'null'),
      await raw('/api/catalog/credential-types/archivausweis', '[1,2]'),
      await raw('/api/catalog/credential-types/archivausweis', JSON.stringify(ARCHIVAUSWEIS), 'text/plain'),
      await raw('/api/catalog/credential-types/%00', JSON.stringify(ARCHIVAUSWEIS)),
      await raw('/api/catalog/credential-types/archivausweis', JSON.stringify({ ...ARCHIVAUSWEIS, __proto__: { admin: true }, extra: 1 })),
      await raw('/api/catalog/credential-types/archivausweis', JSON.stringify({ ...ARCHIVAUSWEIS, claims: [{ name: 'x', type: 'string', label: { de: 'x', en: 'x' }, pattern: '(' }] })),
      await raw('/api/catalog/credential-types/archivausweis', JSON.stringify({ ...ARCHIVAUSWEIS, vct: 'javascript:alert(1)' })),
      await raw('/api/catalog/credential-types/archivausweis', JSON.stringify({ ...ARCHIVAUSWEIS, filler: 'x'.repeat(70_000) })),
      await fetch(`${reg.url}/vct?vct=a&vct=b`),
      await fetch(`${reg.url}/vct?vct[x]=1`),
      await fetch(`${reg.url}/vct/%ff`),
    ];
    for (const res of answers) {
      expect(res.status, res.url).toBeGreaterThanOrEqual(400);
      expect(res.status, res.url).toBeLessThan(500);
      expect(res.headers.get('content-type'), res.url).toMatch(/^application\/problem\+json/);
    }
    expect(await footprint()).toBe(before);
  });

  it('gives a department registered at runtime a DID document and signs its accreditations at once', async () => {
    const dept = `${reg.did}:authorities:dezernat-archiv`;
    expect((await fetch(`${reg.url}/authorities/dezernat-archiv/did.json`)).status).toBe(404);
    const created = await reg.admin('/api/entities', { body: { id: dept, kind: 'authority', name: { de: 'Dezernat Archiv', en: 'Archive department' } } });
    expect(created.status).toBe(201);
    const didRes = await fetch(`${reg.url}/authorities/dezernat-archiv/did.json`);
    expect(didRes.status).toBe(200);
    const doc = await didRes.json();
    expect(doc.id).toBe(dept);
    expect(doc.assertionMethod).toHaveLength(1);

    const accredit = await reg.admin('/api/grants', { body: { entity_id: dept, action: 'accredit', resource: ARCHIVAUSWEIS.vct, constraints: { actions: ['issue'], max_depth: 0 } } });
    expect(accredit.status).toBe(201);
    const office = 'did:web:localhost%3A3001:offices:stadtarchiv';
    expect((await reg.admin('/api/entities', { body: { id: office, kind: 'issuer', name: { de: 'Stadtarchiv', en: 'City archive' } } })).status).toBe(201);
    // Signed by the new department's key, which the registry created with the entity.
    const issue = await reg.admin('/api/grants', { body: { authority_id: dept, entity_id: office, action: 'issue', resource: ARCHIVAUSWEIS.vct } });
    expect(issue.status).toBe(201);
    const grant = await issue.json();
    const kid = JSON.parse(Buffer.from(grant.statement.split('.')[0], 'base64url').toString()).kid as string;
    expect(kid.startsWith(`${dept}#`)).toBe(true);
    const answer = await (await reg.post('/trqp/authorization', { entity_id: office, authority_id: reg.root, action: 'issue', resource: ARCHIVAUSWEIS.vct })).json();
    expect(answer.authorized).toBe(true);
    // An office or a verifier is not given a key by the registry.
    expect((await fetch(`${reg.url}/authorities/stadtarchiv/did.json`)).status).toBe(404);
  });

  it('keeps changed definitions and runtime departments over a restart (the seed never overwrites)', async () => {
    const melde = LEIPZIG.credential_types.find((t) => t.id === 'meldebescheinigung')!;
    const changed = { ...melde, validity_days: 400 };
    expect((await put('meldebescheinigung', changed)).status).toBe(200);
    await reg.close();
    reg = await startTestRegistry({ dataDir: reg.dataDir, port: Number(new URL(reg.url).port) });
    const catalog = await (await reg.admin('/api/catalog')).json();
    expect(catalog.credential_types.find((t: CredentialTypeDef) => t.id === 'meldebescheinigung').validity_days).toBe(400);
    expect(catalog.credential_types.map((t: CredentialTypeDef) => t.id)).toContain('archivausweis');
    expect((await fetch(`${reg.url}/authorities/dezernat-archiv/did.json`)).status).toBe(200);
  });

  it('lets a second registry instance on the same database serve and sign for a department the first one created', async () => {
    const second = await startTestRegistry({ dataDir: reg.dataDir, env: { REGISTRY_PUBLIC_URL: reg.url } });
    try {
      const dept = `${reg.did}:authorities:dezernat-bauwesen`;
      const created = await reg.admin('/api/entities', { body: { id: dept, kind: 'authority', name: { de: 'Dezernat Bauwesen', en: 'Building department' } } });
      expect(created.status).toBe(201);
      // Served by the other instance from the shared key store, and the same key.
      const there = await fetch(`${second.url}/authorities/dezernat-bauwesen/did.json`);
      expect(there.status).toBe(200);
      expect(await there.json()).toEqual(await (await fetch(`${reg.url}/authorities/dezernat-bauwesen/did.json`)).json());
      expect((await second.admin('/api/grants', { body: { entity_id: dept, action: 'accredit', resource: ARCHIVAUSWEIS.vct, constraints: { actions: ['issue'], max_depth: 0 } } })).status).toBe(201);
      const office = 'did:web:localhost%3A3001:offices:bauaufsicht';
      expect((await second.admin('/api/entities', { body: { id: office, kind: 'issuer', name: { de: 'Bauaufsicht', en: 'Building control' } } })).status).toBe(201);
      const issue = await second.admin('/api/grants', { body: { authority_id: dept, entity_id: office, action: 'issue', resource: ARCHIVAUSWEIS.vct } });
      expect(issue.status, await issue.clone().text()).toBe(201);
    } finally {
      await second.close();
    }
  });

  it('describes its admin and public API in /openapi.json (OpenAPI 3.1, every $ref resolves)', async () => {
    const doc = await (await fetch(`${reg.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/api/catalog', '/api/catalog/credential-types/{id}', '/api/entities', '/api/grants', '/vct/{id}', '/vct', '/trqp/authorization']) expect(doc.paths[p], p).toBeDefined();
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === '$ref' ? refs.push(String(x)) : walk(x);
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of refs) {
      expect(ref.startsWith('#/components/schemas/'), ref).toBe(true);
      expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
  });
});
