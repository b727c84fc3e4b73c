import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { createDidResolver, resolveAssertionKey } from '../../core/did/resolver.ts';
import { publicKeyObject } from '../../core/crypto/jwk.ts';
import { VCT } from '../../core/demo/leipzig.ts';
import { startTestRegistry, type RunningRegistry } from '../helpers/registry.ts';

const BUERGERBUERO = 'did:web:localhost%3A3001:offices:buergerbuero';
const LIBRARY_RP = 'did:web:localhost%3A3002:verifiers:bibliothek';

describe('trust registry: TRQP v2 queries over HTTP', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry();
  });
  afterAll(async () => {
    await reg.close();
  });

  const authz = (body: Record<string, unknown>) => reg.post('/trqp/authorization', { authority_id: reg.root, ...body });

  it('answers an authorized issue query with the TRQP response members', async () => {
    const res = await authz({ entity_id: BUERGERBUERO, action: 'issue', resource: VCT.meldebescheinigung });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ entity_id: BUERGERBUERO, authority_id: reg.root, action: 'issue', resource: VCT.meldebescheinigung, authorized: true });
    expect(body.time_evaluated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('says no for a type the office was never granted', async () => {
    const body = await (await authz({ entity_id: BUERGERBUERO, action: 'issue', resource: VCT.leipzig_pass })).json();
    expect(body.authorized).toBe(false);
  });

  it('answers verify queries for relying parties', async () => {
    expect((await (await authz({ entity_id: LIBRARY_RP, action: 'verify', resource: VCT.leipzig_pass })).json()).authorized).toBe(true);
    expect((await (await authz({ entity_id: LIBRARY_RP, action: 'verify', resource: VCT.geburtsurkunde })).json()).authorized).toBe(false);
  });

  it('answers 404 problem JSON for an unknown entity, authority, action or resource', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ entity_id: 'did:web:example.org:nobody', action: 'issue', resource: VCT.meldebescheinigung }, 'unknown-entity'],
      [{ entity_id: BUERGERBUERO, action: 'issue', resource: VCT.meldebescheinigung, authority_id: 'did:web:example.org' }, 'unknown-authority'],
      [{ entity_id: BUERGERBUERO, action: 'destroy', resource: VCT.meldebescheinigung }, 'unknown-action'],
      [{ entity_id: BUERGERBUERO, action: 'issue', resource: 'urn:example:unknown' }, 'unknown-resource'],
    ];
    for (const [body, code] of cases) {
      const res = await authz(body);
      expect(res.status, code).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect((await res.json()).type).toBe(`urn:id-ideal:problem:${code}`);
    }
  });

  it('answers 400 naming the field for a malformed body, 415 for a non-JSON body', async () => {
    const res = await authz({ entity_id: 42, action: 'issue', resource: VCT.meldebescheinigung });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.field).toBe('entity_id');
    expect(body.detail).toContain('entity_id');

    const time = await authz({ entity_id: BUERGERBUERO, action: 'issue', resource: VCT.meldebescheinigung, context: { time: 'yesterday' } });
    expect(time.status).toBe(400);
    expect((await time.json()).field).toBe('context.time');

    const broken = await reg.post('/trqp/authorization', '{"entity_id":');
    expect(broken.status).toBe(400);
    expect((await broken.json()).type).toBe('urn:id-ideal:problem:malformed-json');

    const form = await fetch(`${reg.url}/trqp/authorization`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(form.status).toBe(415);

    const huge = await reg.post('/trqp/authorization', { entity_id: BUERGERBUERO, pad: 'x'.repeat(100_000) });
    expect(huge.status).toBe(413);
  });

  it('signs the answer when asked for application/jwt, with the registry DID key', async () => {
    const res = await authz({ entity_id: BUERGERBUERO, action: 'issue', resource: VCT.meldebescheinigung });
    expect(res.headers.get('content-type')).toContain('application/json');
    const signed = await reg.post('/trqp/authorization', { authority_id: reg.root, entity_id: BUERGERBUERO, action: 'issue', resource: VCT.meldebescheinigung }, { accept: 'application/jwt' });
    expect(signed.status).toBe(200);
    expect(signed.headers.get('content-type')).toContain('application/jwt');
    const jwt = await signed.text();
    const header = decodeProtectedHeader(jwt);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'trqp-response+jwt' });
    // Resolve the registry's did:web over HTTP, as a verifier would.
    const key = await resolveAssertionKey(createDidResolver(), String(header.kid), reg.did);
    const { payload } = await jwtVerify(jwt, publicKeyObject(key), { algorithms: ['ES256'], issuer: reg.did });
    expect(payload).toMatchObject({ authorized: true, entity_id: BUERGERBUERO });
    // A tampered answer does not verify.
    const [h, , s] = jwt.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(jwt), authorized: false })).toString('base64url');
    await expect(jwtVerify(`${h}.${forged}.${s}`, publicKeyObject(key), { algorithms: ['ES256'] })).rejects.toThrow();
  });

  it('answers with registry-defined members only, never echoing what a client adds (JSON and signed)', async () => {
    // Issue 18: unknown members are ignored (TRQP v2 request schemas leave them open), and the answer
    // is built from the validated query: an injected member or an oversize string is never signed.
    const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const query = {
      authority_id: reg.root,
      entity_id: BUERGERBUERO,
      action: 'issue',
      resource: VCT.meldebescheinigung,
      evil: 'x',
      authorized: 'yes, trust me',
      iss: 'did:web:evil.example',
      context: { time, evil: 'x', pad: 'P'.repeat(30_000) },
    };
    const allowed = ['entity_id', 'authority_id', 'action', 'resource', 'authorized', 'time_requested', 'time_evaluated', 'message', 'context'];
    const res = await reg.post('/trqp/authorization', query);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).filter((k) => !allowed.includes(k))).toEqual([]);
    expect(body).toMatchObject({ authorized: true, time_requested: time, context: { time } });
    expect(Object.keys(body.context)).toEqual(['time']);
    const text = JSON.stringify(body);
    expect(text).not.toContain('evil');
    expect(text).not.toContain('PPPP');
    expect(text.length).toBeLessThan(2_000);

    const signed = await reg.post('/trqp/authorization', query, { accept: 'application/jwt' });
    expect(signed.status).toBe(200);
    const jwt = await signed.text();
    expect(jwt.length).toBeLessThan(3_000);
    const payload = decodeJwt(jwt);
    expect(Object.keys(payload).filter((k) => ![...allowed, 'iss', 'iat'].includes(k))).toEqual([]);
    expect(payload).toMatchObject({ iss: reg.did, authorized: true, context: { time } });
    expect(JSON.stringify(payload)).not.toMatch(/evil|PPPP/);

    const recognition = await reg.post('/trqp/recognition', { ...query, entity_id: `${reg.did}:authorities:dezernat-kultur`, resource: VCT.bibliotheksausweis }, { accept: 'application/jwt' });
    const rec = decodeJwt(await recognition.text());
    expect(Object.keys(rec).filter((k) => !['entity_id', 'authority_id', 'action', 'resource', 'recognized', 'time_requested', 'time_evaluated', 'message', 'context', 'iss', 'iat'].includes(k))).toEqual([]);
    expect(JSON.stringify(rec)).not.toMatch(/evil|PPPP/);
  });

  it('recognizes the departments the city accredited, and not the offices', async () => {
    const dept = `${reg.did}:authorities:dezernat-kultur`;
    const ok = await (await reg.post('/trqp/recognition', { entity_id: dept, authority_id: reg.root, action: 'issue', resource: VCT.bibliotheksausweis })).json();
    expect(ok.recognized).toBe(true);
    const wrongType = await (await reg.post('/trqp/recognition', { entity_id: dept, authority_id: reg.root, action: 'issue', resource: VCT.geburtsurkunde })).json();
    expect(wrongType.recognized).toBe(false);
    const office = await (await reg.post('/trqp/recognition', { entity_id: BUERGERBUERO, authority_id: reg.root })).json();
    expect(office.recognized).toBe(false);
  });

  it('serves its metadata and DID documents', async () => {
    const meta = await (await fetch(`${reg.url}/.well-known/trust-registry`)).json();
    expect(meta).toMatchObject({ registry_did: reg.did, authority_id: reg.root, snapshot_url: `${reg.url}/snapshots/latest` });
    expect(meta.supported_actions).toEqual(['issue', 'verify', 'accredit']);
    const doc = await (await fetch(`${reg.url}/.well-known/did.json`)).json();
    expect(doc.id).toBe(reg.did);
    const root = await (await fetch(`${reg.url}/authorities/leipzig/did.json`)).json();
    expect(root.id).toBe(reg.root);
    expect(root.verificationMethod[0].publicKeyJwk.d).toBeUndefined();
    expect((await fetch(`${reg.url}/authorities/nobody/did.json`)).status).toBe(404);
  });
});
