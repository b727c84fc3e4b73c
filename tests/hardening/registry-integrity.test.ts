import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, calculateJwkThumbprint } from 'jose';
import { randomUUID } from 'node:crypto';
import { VCT } from '../../core/demo/leipzig.ts';
import { toIso } from '../../core/util/time.ts';
import { startTestRegistry, type RunningRegistry } from '../helpers/registry.ts';

/**
 * Issue 18: registry history cannot be rewritten. A grant's validity and a status change take effect
 * no earlier than they are recorded (within a minute of clock skew), unless the administrator sends
 * an explicit correction, which is stored, audited, shown in the history and marked in the TRQP
 * answers it changes; a reinstatement never shares the instant of the suspension it lifts.
 * The registry runs on a clock the test moves, so "the same second" is exact, not a race.
 */
describe('hardening: registry history integrity (issue 18)', () => {
  let reg: RunningRegistry;
  let now = Math.floor(Date.now() / 1000) * 1000;
  const DAY = 86_400_000;
  const HOUR = 3_600_000;
  beforeAll(async () => {
    reg = await startTestRegistry({ clock: () => now });
  });
  afterAll(async () => {
    await reg?.close();
  });

  const problem = async (res: Response, status: number, type: string, field?: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await res.json();
    expect(body.type).toBe(`urn:id-ideal:problem:${type}`);
    if (field) expect(body.field).toBe(field);
    return body;
  };
  const audit = async () => (await (await reg.admin('/api/audit')).json()).entries as { action: string; target: string; details: Record<string, unknown> }[];
  const newOffice = async (slug: string) => {
    const id = `did:web:localhost%3A3001:offices:${slug}`;
    expect((await reg.admin('/api/entities', { body: { id, kind: 'issuer', name: { de: `Amt ${slug}`, en: `Office ${slug}` } } })).status).toBe(201);
    return id;
  };
  const trqp = async (entity_id: string, time?: string, accept?: string) =>
    reg.post('/trqp/authorization', { entity_id, authority_id: reg.root, action: 'issue', resource: VCT.meldebescheinigung, ...(time ? { context: { time } } : {}) }, accept ? { accept } : {});

  it('refuses a backdated grant with 400 naming valid_from, and writes nothing', async () => {
    const office = await newOffice('backdated-1');
    const before = (await audit()).length;
    const body = { entity_id: office, action: 'issue', resource: VCT.meldebescheinigung, valid_from: toIso(now - DAY) };
    const refused = await problem(await reg.admin('/api/grants', { body }), 400, 'backdated-change', 'valid_from');
    expect(refused.detail).toContain('correction');
    expect((await audit()).length).toBe(before);
    // Clock skew is tolerated (and the grant starts when it is recorded).
    const skewed = await reg.admin('/api/grants', { body: { ...body, valid_from: toIso(now - 30_000) } });
    expect(skewed.status).toBe(201);
    expect((await skewed.json()).valid_from).toBe(toIso(now));
  });

  it('refuses a statement whose signed nbf lies before its recording, naming the statement', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const authority = 'did:web:example.org:landesamt-integritaet';
    expect((await reg.admin('/api/entities', { body: { id: authority, kind: 'authority', name: { de: 'Landesamt', en: 'State office' }, jwks: [{ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }] } })).status).toBe(201);
    expect((await reg.admin('/api/grants', { body: { entity_id: authority, action: 'accredit', resource: VCT.meldebescheinigung, constraints: { actions: ['issue'], max_depth: 0 } } })).status).toBe(201);
    const office = await newOffice('statement-backdated');
    const kid = `${authority}#${await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! })}`;
    const s = Math.floor(now / 1000);
    const statement = await new SignJWT({ iss: authority, sub: office, jti: randomUUID(), iat: s, nbf: s - 7 * 86_400, action: 'issue', resource: VCT.meldebescheinigung })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'trust-grant+jwt' })
      .sign(privateKey);
    await problem(await reg.admin('/api/grants', { body: { statement } }), 400, 'backdated-change', 'statement');
  });

  it('accepts a backdated grant as an administrator’s correction: stored, audited, shown, and marked in TRQP answers about the past', async () => {
    const office = await newOffice('correction-grant');
    const validFrom = toIso(now - DAY);
    const res = await reg.admin('/api/grants', { body: { entity_id: office, action: 'issue', resource: VCT.meldebescheinigung, valid_from: validFrom, correction: { reason: 'Bescheid vom Vortag nachgetragen / decision of the day before recorded late' } } });
    expect(res.status).toBe(201);
    const grant = await res.json();
    expect(grant).toMatchObject({ valid_from: validFrom, recorded_at: toIso(now), correction: { reason: 'Bescheid vom Vortag nachgetragen / decision of the day before recorded late' } });
    expect((await (await reg.admin(`/api/grants/${grant.id}`)).json()).correction).toEqual(grant.correction);
    const entry = (await audit()).at(-1)!;
    expect(entry).toMatchObject({ action: 'grant.create', target: grant.id, details: { valid_from: validFrom, correction: { reason: grant.correction.reason } } });

    // About a moment before it was recorded: authorized now, but marked: the registry said no then.
    const past = await trqp(office, toIso(now - 12 * HOUR));
    const answer = await past.json();
    expect(answer).toMatchObject({ authorized: true, correction: { authorized_as_recorded: false, corrections: [{ grant_id: grant.id, kind: 'grant', effective_at: validFrom, recorded_at: toIso(now) }] } });
    // The signed answer carries the same mark.
    const jwt = decodeJwt(await (await trqp(office, toIso(now - 12 * HOUR), 'application/jwt')).text());
    expect(jwt).toMatchObject({ authorized: true, correction: { authorized_as_recorded: false } });
    // About now: nothing to mark.
    const current = await (await trqp(office)).json();
    expect(current.authorized).toBe(true);
    expect(current.correction).toBeUndefined();
    // A correction must be one: not for a grant that starts when it is recorded.
    await problem(await reg.admin('/api/grants', { body: { entity_id: office, action: 'issue', resource: VCT.meldebescheinigung, correction: { reason: 'nothing to correct' } } }), 400, 'invalid-request', 'correction');
  });

  it('refuses a backdated status change unless it is a correction; the correction is audited, shown and marked', async () => {
    const office = await newOffice('correction-status');
    const created = await (await reg.admin('/api/grants', { body: { entity_id: office, action: 'issue', resource: VCT.meldebescheinigung } })).json();
    const t0 = now;
    now += HOUR;
    const asked = toIso(t0 + 30 * 60_000);
    const before = await (await trqp(office, asked)).json();
    expect(before.authorized).toBe(true);

    const compromisedAt = toIso(t0 + 10 * 60_000);
    const count = (await audit()).length;
    await problem(await reg.admin(`/api/grants/${created.id}/status`, { body: { status: 'revoked', reason: 'Schlüssel kompromittiert / key compromised', effective_at: compromisedAt } }), 400, 'backdated-change', 'effective_at');
    expect((await audit()).length).toBe(count);
    // An ordinary change now leaves every answer about the past as it was.
    const later = toIso(now + 2 * HOUR);
    expect((await reg.admin(`/api/grants/${created.id}/status`, { body: { status: 'suspended', reason: 'geplante Prüfung / scheduled review', effective_at: later } })).status).toBe(200);
    expect(await (await trqp(office, asked)).json()).toEqual(before);

    const revoked = await reg.admin(`/api/grants/${created.id}/status`, { body: { status: 'revoked', reason: 'Schlüssel kompromittiert / key compromised', effective_at: compromisedAt, correction: { reason: 'Kompromittierung erst jetzt bekannt / compromise found only now' } } });
    expect(revoked.status).toBe(200);
    const g = await revoked.json();
    expect(g.history.at(-1)).toMatchObject({ status: 'revoked', effective_at: compromisedAt, recorded_at: toIso(now), correction: { reason: 'Kompromittierung erst jetzt bekannt / compromise found only now' } });
    expect(g.history[0].correction).toBeUndefined();
    expect((await audit()).at(-1)).toMatchObject({ action: 'grant.status', target: created.id, details: { status: 'revoked', effective_at: compromisedAt, correction: { reason: 'Kompromittierung erst jetzt bekannt / compromise found only now' } } });

    const after = await (await trqp(office, asked)).json();
    expect(after).toMatchObject({
      authorized: false,
      time_requested: asked,
      correction: { authorized_as_recorded: true, message_as_recorded: 'authorized', corrections: [{ grant_id: created.id, kind: 'status', effective_at: compromisedAt, recorded_at: toIso(now) }] },
    });
    // Before the compromise the answer stands, unmarked.
    const early = await (await trqp(office, toIso(t0 + 5 * 60_000))).json();
    expect(early.authorized).toBe(true);
    expect(early.correction).toBeUndefined();
  });

  it('refuses a reinstatement at the same instant as (or before) the suspension it lifts', async () => {
    const office = await newOffice('same-instant');
    const created = await (await reg.admin('/api/grants', { body: { entity_id: office, action: 'issue', resource: VCT.meldebescheinigung } })).json();
    now += 5_000;
    const suspendedAt = toIso(now);
    expect((await reg.admin(`/api/grants/${created.id}/status`, { body: { status: 'suspended', reason: 'Prüfung / review' } })).status).toBe(200);
    const count = (await audit()).length;
    // Same second, no effective_at: would erase the suspension from every answer about that second.
    await problem(await reg.admin(`/api/grants/${created.id}/status`, { body: { status: 'active', reason: 'erledigt / done' } }), 409, 'simultaneous-status-change', 'effective_at');
    await problem(await reg.admin(`/api/grants/${created.id}/status`, { body: { status: 'active', reason: 'erledigt / done', effective_at: suspendedAt } }), 409, 'simultaneous-status-change', 'effective_at');
    now += 3_000;
    // Even as a correction: not at the instant of the suspension, and not before it.
    const correction = { reason: 'Sperre war ein Irrtum / suspension was a mistake' };
    await problem(await reg.admin(`/api/grants/${created.id}/status`, { body: { status: 'active', reason: 'erledigt / done', effective_at: suspendedAt, correction } }), 409, 'simultaneous-status-change');
    await problem(await reg.admin(`/api/grants/${created.id}/status`, { body: { status: 'active', reason: 'erledigt / done', effective_at: toIso(now - 60 * 60_000), correction } }), 409, 'status-unchanged');
    expect((await audit()).length).toBe(count);
    expect((await (await trqp(office, suspendedAt)).json()).authorized).toBe(false);

    // A second later it is an ordinary reinstatement, and the suspension stays in the answers.
    const r = await reg.admin(`/api/grants/${created.id}/status`, { body: { status: 'active', reason: 'erledigt / done' } });
    expect(r.status).toBe(200);
    expect((await r.json()).history.map((e: { status: string; effective_at: string }) => [e.status, e.effective_at])).toEqual([
      ['suspended', suspendedAt],
      ['active', toIso(now)],
    ]);
    expect((await (await trqp(office, suspendedAt)).json()).authorized).toBe(false);
    expect((await (await trqp(office)).json()).authorized).toBe(true);
  });
});
