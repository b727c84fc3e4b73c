import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { VCT } from '../../core/demo/leipzig.ts';
import { startTestRegistry, type RunningRegistry } from '../helpers/registry.ts';

describe('trust registry: admin API, delegation, statements, status', () => {
  let reg: RunningRegistry;
  let dept: string;
  beforeAll(async () => {
    reg = await startTestRegistry();
    dept = `${reg.did}:authorities:dezernat-allgemeine-verwaltung`;
  });
  afterAll(async () => {
    await reg.close();
  });

  /** Everything an observer could see change: grants, entities, audit length, snapshot seq. */
  const footprint = async () => {
    const grants = await (await reg.admin('/api/grants')).json();
    const entities = await (await reg.admin('/api/entities')).json();
    const audit = await (await reg.admin('/api/audit')).json();
    const seq = (await fetch(`${reg.url}/snapshots/latest`)).headers.get('x-snapshot-seq');
    return JSON.stringify({ g: grants.grants.length, e: entities.entities.length, a: audit.entries.length, seq });
  };
  const trqp = async (entity_id: string, action: string, resource: string, time?: string) => {
    const body = await (await reg.post('/trqp/authorization', { entity_id, authority_id: reg.root, action, resource, ...(time ? { context: { time } } : {}) })).json();
    if (process.env.DEBUG_TRQP) console.log(body);
    return body.authorized as boolean;
  };
  /** Waits into the next whole second of the clock (registry times are whole seconds). */
  const nextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
  const newOffice = async (slug: string) => {
    const id = `did:web:localhost%3A3001:offices:${slug}`;
    const res = await reg.admin('/api/entities', { body: { id, kind: 'issuer', name: { de: `Amt ${slug}`, en: `Office ${slug}` } } });
    expect(res.status).toBe(201);
    return id;
  };

  it('refuses admin calls without or with a wrong token, writing nothing', async () => {
    const before = await footprint();
    const body = { id: 'did:web:localhost%3A3001:offices:x', kind: 'issuer', name: { de: 'X', en: 'X' } };
    const none = await reg.admin('/api/entities', { body, token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await reg.admin('/api/entities', { body, token: 'wrong-token-wrong-token-wrong' })).status).toBe(401);
    expect((await reg.admin('/api/audit', { token: null })).status).toBe(401);
    expect(await footprint()).toBe(before);
  });

  it('lets a department delegate within its rights, and the office is then authorized through the chain', async () => {
    const office = await newOffice('ortsamt-gruenau');
    expect(await trqp(office, 'issue', VCT.meldebescheinigung)).toBe(false);
    const res = await reg.admin('/api/grants', { body: { authority_id: dept, entity_id: office, action: 'issue', resource: VCT.meldebescheinigung } });
    expect(res.status).toBe(201);
    const grant = await res.json();
    expect(grant).toMatchObject({ authority_id: dept, entity_id: office, action: 'issue', status: 'active' });
    expect(grant.statement.split('.')).toHaveLength(3);
    expect(await trqp(office, 'issue', VCT.meldebescheinigung)).toBe(true);

    const listed = await (await reg.admin(`/api/grants?entity_id=${encodeURIComponent(office)}&action=issue`)).json();
    expect(listed.grants.map((g: { id: string }) => g.id)).toEqual([grant.id]);
  });

  it('refuses a grant that exceeds the delegator’s rights with 403, writing nothing', async () => {
    const office = await newOffice('ortsamt-paunsdorf');
    const before = await footprint();
    const tooMuch = [
      // a type the department was never accredited for
      { authority_id: dept, entity_id: office, action: 'issue', resource: VCT.leipzig_pass },
      // further accreditation, but the department has max_depth 0
      { authority_id: dept, entity_id: `${reg.did}:authorities:dezernat-kultur`, action: 'accredit', resource: VCT.meldebescheinigung, constraints: { actions: ['issue'] } },
      // an action the accreditation does not hand on
      { authority_id: dept, entity_id: 'did:web:localhost%3A3002:verifiers:bibliothek', action: 'verify', resource: VCT.meldebescheinigung },
    ];
    for (const body of tooMuch) {
      const res = await reg.admin('/api/grants', { body });
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect((await res.json()).type).toBe('urn:id-ideal:problem:exceeds-delegation');
    }
    expect(await footprint()).toBe(before);
  });

  it('limits sub-delegation by depth, resource and validity', async () => {
    const sub = `did:web:example.org:amt-fuer-statistik`;
    expect((await reg.admin('/api/entities', { body: { id: sub, kind: 'authority', name: { de: 'Amt für Statistik', en: 'Statistics office' } } })).status).toBe(201);
    // The root may accredit with depth; validity ends in a year.
    const until = new Date(Date.now() + 365 * 86400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const acc = await reg.admin('/api/grants', { body: { entity_id: sub, action: 'accredit', resource: 'urn:id-ideal:vct:*', valid_until: until, constraints: { actions: ['issue'], max_depth: 1 } } });
    expect(acc.status).toBe(201);
    const office = await newOffice('statistik-zweigstelle');
    // Hosted key is not held for this external authority: it must sign its own statement.
    const unsigned = await reg.admin('/api/grants', { body: { authority_id: sub, entity_id: office, action: 'issue', resource: VCT.meldebescheinigung } });
    expect(unsigned.status).toBe(403);
    expect((await unsigned.json()).type).toBe('urn:id-ideal:problem:authority-key-not-held');
  });

  it('accepts a statement signed by a registered external authority and refuses a forged or foreign one', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const landesamt = 'did:web:example.org:landesdirektion';
    expect((await reg.admin('/api/entities', { body: { id: landesamt, kind: 'authority', name: { de: 'Landesdirektion Sachsen', en: 'Saxony State Directorate' }, jwks: [{ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }] } })).status).toBe(201);
    expect((await reg.admin('/api/grants', { body: { entity_id: landesamt, action: 'accredit', resource: VCT.geburtsurkunde, constraints: { actions: ['issue'], max_depth: 0 } } })).status).toBe(201);
    const office = await newOffice('standesamt-markkleeberg');
    const kid = `${landesamt}#${await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! })}`;
    const sign = (payload: Record<string, unknown>, key = privateKey) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: 'trust-grant+jwt' }).sign(key);
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: landesamt, sub: office, iat: now, nbf: now, action: 'issue', resource: VCT.geburtsurkunde };

    const before = await footprint();
    // Forged: payload changed after signing.
    const good = await sign({ ...base, jti: randomUUID() });
    const [h, , s] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...base, jti: randomUUID(), resource: VCT.meldebescheinigung })).toString('base64url');
    const forged = await reg.admin('/api/grants', { body: { statement: `${h}.${forgedPayload}.${s}` } });
    expect(forged.status).toBe(403);
    expect((await forged.json()).type).toBe('urn:id-ideal:problem:statement-not-verified');
    // Foreign: signed by a key the authority never registered.
    const other = await generateKeyPair('ES256');
    expect((await reg.admin('/api/grants', { body: { statement: await sign({ ...base, jti: randomUUID() }, other.privateKey) } })).status).toBe(403);
    // alg none is never accepted.
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid, typ: 'trust-grant+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...base, jti: randomUUID() })).toString('base64url')}.`;
    expect((await reg.admin('/api/grants', { body: { statement: none + 'AAAA' } })).status).toBe(403);
    // Validly signed but beyond the accreditation.
    const beyond = await reg.admin('/api/grants', { body: { statement: await sign({ ...base, jti: randomUUID(), resource: VCT.meldebescheinigung }) } });
    expect(beyond.status).toBe(403);
    expect(await footprint()).toBe(before);

    const ok = await reg.admin('/api/grants', { body: { statement: good } });
    expect(ok.status).toBe(201);
    expect((await ok.json()).statement).toBe(good);
    expect(await trqp(office, 'issue', VCT.geburtsurkunde)).toBe(true);
  });

  it('suspends and reinstates, answers past-time queries, and keeps revocation final', async () => {
    const office = 'did:web:localhost%3A3001:offices:bibliothek';
    const [grant] = (await (await reg.admin(`/api/grants?entity_id=${encodeURIComponent(office)}&action=issue`)).json()).grants;
    // The moment the grant took effect lies before the suspension made below.
    const beforeSuspension = grant.valid_from as string;
    while (Date.now() < Date.parse(beforeSuspension) + 1100) await new Promise((r) => setTimeout(r, 100));

    const s = await reg.admin(`/api/grants/${grant.id}/status`, { body: { status: 'suspended', reason: 'Prüfung der Ausgabepraxis / review of issuance' } });
    expect(s.status).toBe(200);
    expect((await s.json()).status).toBe('suspended');
    expect(await trqp(office, 'issue', VCT.bibliotheksausweis)).toBe(false);
    // Before the suspension the office was authorized: the question "when it issued" has an answer.
    expect(await trqp(office, 'issue', VCT.bibliotheksausweis, beforeSuspension)).toBe(true);
    // Before the grant existed it was not.
    expect(await trqp(office, 'issue', VCT.bibliotheksausweis, '2020-01-01T00:00:00Z')).toBe(false);

    const again = await reg.admin(`/api/grants/${grant.id}/status`, { body: { status: 'suspended', reason: 'twice' } });
    expect(again.status).toBe(409);

    // Issue 18: a change takes effect after the one it follows (times are whole seconds).
    await nextSecond();
    const r = await reg.admin(`/api/grants/${grant.id}/status`, { body: { status: 'active', reason: 'Prüfung abgeschlossen / review done' } });
    expect(r.status).toBe(200);
    expect(await trqp(office, 'issue', VCT.bibliotheksausweis)).toBe(true);

    const g = await (await reg.admin(`/api/grants/${grant.id}`)).json();
    expect(g.history.map((e: { status: string }) => e.status)).toEqual(['suspended', 'active']);

    // Suspending the department's accreditation cuts every office below it.
    const [acc] = (await (await reg.admin(`/api/grants?entity_id=${encodeURIComponent(`${reg.did}:authorities:dezernat-kultur`)}&action=accredit`)).json()).grants;
    expect((await reg.admin(`/api/grants/${acc.id}/status`, { body: { status: 'suspended', reason: 'Umstrukturierung / reorganisation' } })).status).toBe(200);
    expect(await trqp(office, 'issue', VCT.bibliotheksausweis)).toBe(false);
    await nextSecond();
    expect((await reg.admin(`/api/grants/${acc.id}/status`, { body: { status: 'active', reason: 'erledigt / done' } })).status).toBe(200);
    expect(await trqp(office, 'issue', VCT.bibliotheksausweis)).toBe(true);

    await nextSecond();
    expect((await reg.admin(`/api/grants/${grant.id}/status`, { body: { status: 'revoked', reason: 'Schlüssel kompromittiert / key compromised' } })).status).toBe(200);
    expect(await trqp(office, 'issue', VCT.bibliotheksausweis)).toBe(false);
    const back = await reg.admin(`/api/grants/${grant.id}/status`, { body: { status: 'active', reason: 'undo' } });
    expect(back.status).toBe(409);
    expect((await back.json()).type).toBe('urn:id-ideal:problem:grant-revoked');
  });

  it('answers bad admin input with 400 naming the field and unknown grants with 404', async () => {
    const bad = await reg.admin('/api/entities', { body: { id: 'did:web:example.org:x', kind: 'citizen', name: { de: 'X', en: 'X' } } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).field).toBe('kind');
    const priv = await reg.admin('/api/entities', { body: { id: 'did:web:example.org:y', kind: 'authority', name: { de: 'Y', en: 'Y' }, jwks: [{ kty: 'EC', crv: 'P-256', x: 'a'.repeat(43), y: 'b'.repeat(43), d: 'c'.repeat(43) }] } });
    expect(priv.status).toBe(400);
    expect((await reg.admin('/api/grants/00000000-0000-0000-0000-000000000000/status', { body: { status: 'suspended', reason: 'nope' } })).status).toBe(404);
    const badStatus = await reg.admin('/api/grants/00000000-0000-0000-0000-000000000000/status', { body: { status: 'paused', reason: 'nope' } });
    expect(badStatus.status).toBe(400);
    expect((await badStatus.json()).field).toBe('status');
  });
});
