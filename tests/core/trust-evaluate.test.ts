import { describe, expect, it } from 'vitest';
import { TrustIndex, delegationRefusal, evaluateAuthorization, evaluateCredentialIssuer, evaluateRecognition, evaluateRelyingParty, pathCovers, statusAt } from '../../core/trust/evaluate.ts';
import type { Grant, RegistryState } from '../../core/trust/model.ts';
import { covers, coversPattern } from '../../core/trust/resource.ts';

/** Pure unit tests of the shared trust evaluation over a hand-built state, with a frozen clock. */
const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const DAY = 86_400_000;

const ROOT = 'did:web:reg:authorities:city';
const DEPT = 'did:web:reg:authorities:dept';
const SUB = 'did:web:reg:authorities:sub';
const OFFICE = 'did:web:iss:offices:a';
const RP = 'did:web:ver:verifiers:x';
const PASS = 'urn:t:pass';
const CARD = 'urn:t:card';

let n = 0;
const grant = (g: Partial<Grant> & Pick<Grant, 'authority_id' | 'entity_id' | 'action' | 'resource'>): Grant => ({
  id: `g${++n}`,
  valid_from: iso(T0),
  valid_until: null,
  constraints: {},
  statement: 'x.y.z',
  history: [],
  ...g,
});

function state(grants: Grant[]): RegistryState {
  return {
    authority_id: ROOT,
    entities: [
      { id: ROOT, kind: 'authority', name: { de: 'Stadt', en: 'City' } },
      { id: DEPT, kind: 'authority', name: { de: 'Dezernat', en: 'Dept' } },
      { id: SUB, kind: 'authority', name: { de: 'Amt', en: 'Sub' } },
      { id: OFFICE, kind: 'issuer', name: { de: 'Büro', en: 'Office' } },
      { id: RP, kind: 'verifier', name: { de: 'Theke', en: 'Counter' } },
    ],
    credential_types: [
      { vct: PASS, name: { de: 'Pass', en: 'Pass' }, issued_before_suspension: 'reject' },
      { vct: CARD, name: { de: 'Karte', en: 'Card' }, issued_before_suspension: 'accept' },
    ],
    grants,
  };
}

const q = (index: TrustIndex, time: number, resource = PASS, entity_id = OFFICE, action = 'issue') =>
  evaluateAuthorization(index, { entity_id, authority_id: ROOT, action, resource, time });

describe('resource patterns', () => {
  it('match exact types, prefixes and everything', () => {
    expect(covers('urn:t:pass', 'urn:t:pass')).toBe(true);
    expect(covers('urn:t:*', 'urn:t:pass')).toBe(true);
    expect(covers('*', 'urn:x')).toBe(true);
    expect(covers('urn:t:pass', 'urn:t:passport')).toBe(false);
    expect(coversPattern('urn:*', 'urn:t:*')).toBe(true);
    expect(coversPattern('urn:t:pass', 'urn:t:*')).toBe(false);
  });
});

describe('evaluateAuthorization', () => {
  const acc = grant({ authority_id: ROOT, entity_id: DEPT, action: 'accredit', resource: 'urn:t:*', constraints: { actions: ['issue'], max_depth: 0 } });
  const iss = grant({ authority_id: DEPT, entity_id: OFFICE, action: 'issue', resource: PASS });

  it('follows a chain root -> department -> office', () => {
    const r = q(new TrustIndex(state([acc, iss])), T0 + DAY);
    expect(r.authorized).toBe(true);
    expect(r.chain.map((g) => g.id)).toEqual([iss.id, acc.id]);
  });

  it('fails when the accreditation does not allow the action or the resource', () => {
    const verifyOnly = { ...acc, constraints: { actions: ['verify' as const], max_depth: 0 } };
    expect(q(new TrustIndex(state([verifyOnly, iss])), T0 + DAY).authorized).toBe(false);
    const otherType = { ...acc, resource: CARD };
    expect(q(new TrustIndex(state([otherType, iss])), T0 + DAY).reason).toBe('chain_broken');
  });

  it('enforces max_depth along the chain', () => {
    const acc2 = grant({ authority_id: DEPT, entity_id: SUB, action: 'accredit', resource: PASS, constraints: { actions: ['issue'], max_depth: 0 } });
    const viaSub = grant({ authority_id: SUB, entity_id: OFFICE, action: 'issue', resource: PASS });
    expect(q(new TrustIndex(state([acc, acc2, viaSub])), T0 + DAY).authorized).toBe(false);
    const deep = { ...acc, constraints: { actions: ['issue' as const], max_depth: 1 } };
    expect(q(new TrustIndex(state([deep, acc2, viaSub])), T0 + DAY).authorized).toBe(true);
  });

  it('answers for a time: before validity, during, after expiry, during a suspension', () => {
    const limited = { ...iss, valid_from: iso(T0 + DAY), valid_until: iso(T0 + 10 * DAY) };
    const susp = { ...limited, history: [{ status: 'suspended' as const, reason: 'r', effective_at: iso(T0 + 3 * DAY), recorded_at: iso(T0 + 3 * DAY) }, { status: 'active' as const, reason: 'r', effective_at: iso(T0 + 4 * DAY), recorded_at: iso(T0 + 4 * DAY) }] };
    const index = new TrustIndex(state([acc, susp]));
    expect(q(index, T0).reason).toBe('not_yet_valid');
    expect(q(index, T0 + 2 * DAY).authorized).toBe(true);
    expect(q(index, T0 + 3.5 * DAY).reason).toBe('suspended');
    expect(q(index, T0 + 5 * DAY).authorized).toBe(true);
    expect(q(index, T0 + 10 * DAY).reason).toBe('expired');
  });

  it('distinguishes unknown entity, authority, action and resource', () => {
    const index = new TrustIndex(state([acc, iss]));
    expect(q(index, T0, PASS, 'did:web:nobody').reason).toBe('unknown_entity');
    expect(q(index, T0, 'urn:unknown').reason).toBe('unknown_resource');
    expect(q(index, T0, PASS, OFFICE, 'sign').reason).toBe('unknown_action');
    expect(evaluateAuthorization(index, { entity_id: OFFICE, authority_id: OFFICE, action: 'issue', resource: PASS, time: T0 }).reason).toBe('unknown_authority');
  });

  it('answers for an intermediate authority as the one asked', () => {
    const index = new TrustIndex(state([acc, iss]));
    expect(evaluateAuthorization(index, { entity_id: OFFICE, authority_id: DEPT, action: 'issue', resource: PASS, time: T0 + DAY }).authorized).toBe(true);
    expect(evaluateAuthorization(index, { entity_id: OFFICE, authority_id: SUB, action: 'issue', resource: PASS, time: T0 + DAY }).authorized).toBe(false);
  });

  it('survives a cycle of accreditations', () => {
    const a = grant({ authority_id: SUB, entity_id: DEPT, action: 'accredit', resource: '*', constraints: { max_depth: 5 } });
    const b = grant({ authority_id: DEPT, entity_id: SUB, action: 'accredit', resource: '*', constraints: { max_depth: 5 } });
    expect(q(new TrustIndex(state([a, b, iss])), T0 + DAY).authorized).toBe(false);
  });
});

describe('evaluateRecognition', () => {
  it('recognizes accredited authorities for what they were accredited', () => {
    const acc = grant({ authority_id: ROOT, entity_id: DEPT, action: 'accredit', resource: PASS, constraints: { actions: ['issue'] } });
    const index = new TrustIndex(state([acc]));
    expect(evaluateRecognition(index, { entity_id: DEPT, authority_id: ROOT, time: T0 }).authorized).toBe(true);
    expect(evaluateRecognition(index, { entity_id: DEPT, authority_id: ROOT, action: 'verify', time: T0 }).authorized).toBe(false);
    expect(evaluateRecognition(index, { entity_id: DEPT, authority_id: ROOT, resource: CARD, time: T0 }).authorized).toBe(false);
  });
});

describe('delegationRefusal', () => {
  const acc = grant({ authority_id: ROOT, entity_id: DEPT, action: 'accredit', resource: PASS, valid_until: iso(T0 + 30 * DAY), constraints: { actions: ['issue'], max_depth: 0 } });
  const index = new TrustIndex(state([acc]));
  const propose = (g: Partial<Grant>) => delegationRefusal(index, { authority_id: DEPT, action: 'issue', resource: PASS, valid_from: iso(T0 + DAY), valid_until: iso(T0 + 20 * DAY), constraints: {}, ...g }, T0 + DAY);

  it('allows a subset and refuses anything beyond', () => {
    expect(propose({})).toBeUndefined();
    expect(propose({ resource: CARD })).toBeDefined();
    expect(propose({ action: 'verify' })).toBeDefined();
    expect(propose({ valid_until: null })).toBeDefined();
    expect(propose({ valid_until: iso(T0 + 40 * DAY) })).toBeDefined();
    expect(propose({ action: 'accredit', constraints: { actions: ['issue'], max_depth: 0 } })).toBeDefined();
    expect(delegationRefusal(index, { authority_id: ROOT, action: 'accredit', resource: '*', valid_from: iso(T0), valid_until: null, constraints: {} }, T0)).toBeUndefined();
  });

  it('refuses when the delegator’s own accreditation is suspended', () => {
    const suspended = { ...acc, history: [{ status: 'suspended' as const, reason: 'r', effective_at: iso(T0), recorded_at: iso(T0) }] };
    expect(delegationRefusal(new TrustIndex(state([suspended])), { authority_id: DEPT, action: 'issue', resource: PASS, valid_from: iso(T0 + DAY), valid_until: iso(T0 + 2 * DAY), constraints: {} }, T0 + DAY)).toBeDefined();
  });
});

describe('evaluateCredentialIssuer', () => {
  const acc = grant({ authority_id: ROOT, entity_id: DEPT, action: 'accredit', resource: '*', constraints: { actions: ['issue'] } });
  const pass = grant({ authority_id: DEPT, entity_id: OFFICE, action: 'issue', resource: PASS });
  const card = grant({ authority_id: DEPT, entity_id: OFFICE, action: 'issue', resource: CARD });
  const suspendAt = (g: Grant, at: number): Grant => ({ ...g, history: [{ status: 'suspended', reason: 'r', effective_at: iso(at), recorded_at: iso(at) }] });
  const revokeAt = (g: Grant, at: number): Grant => ({ ...g, history: [{ status: 'revoked', reason: 'r', effective_at: iso(at), recorded_at: iso(at) }] });

  it('trusts an authorized issuer and names it', () => {
    const v = evaluateCredentialIssuer(new TrustIndex(state([acc, pass])), { issuer: OFFICE, vct: PASS, issuedAt: T0 + DAY, now: T0 + 2 * DAY });
    expect(v).toMatchObject({ trusted: true, issuer_name: { de: 'Büro' } });
  });

  it('rejects a self-made issuer and a type the issuer was not authorized for', () => {
    const index = new TrustIndex(state([acc, pass]));
    expect(evaluateCredentialIssuer(index, { issuer: 'did:web:evil', vct: PASS, issuedAt: T0 + DAY, now: T0 + DAY }).code).toBe('untrusted_issuer');
    expect(evaluateCredentialIssuer(index, { issuer: OFFICE, vct: CARD, issuedAt: T0 + DAY, now: T0 + DAY }).code).toBe('untrusted_issuer');
    expect(evaluateCredentialIssuer(index, { issuer: OFFICE, vct: PASS, issuedAt: T0 - DAY, now: T0 + DAY }).code).toBe('untrusted_issuer');
  });

  it('applies the per-type rule to credentials issued before a suspension', () => {
    const index = new TrustIndex(state([acc, suspendAt(pass, T0 + 5 * DAY), suspendAt(card, T0 + 5 * DAY)]));
    expect(evaluateCredentialIssuer(index, { issuer: OFFICE, vct: PASS, issuedAt: T0 + DAY, now: T0 + 6 * DAY }).code).toBe('issuer_suspended');
    const kept = evaluateCredentialIssuer(index, { issuer: OFFICE, vct: CARD, issuedAt: T0 + DAY, now: T0 + 6 * DAY });
    expect(kept.trusted).toBe(true);
    expect(kept.warnings).toHaveLength(1);
    expect(evaluateCredentialIssuer(index, { issuer: OFFICE, vct: CARD, issuedAt: T0 + 5.5 * DAY, now: T0 + 6 * DAY }).code).toBe('issuer_suspended');
  });

  it('rejects everything once a grant in the chain is revoked', () => {
    const index = new TrustIndex(state([revokeAt(acc, T0 + 5 * DAY), card]));
    expect(evaluateCredentialIssuer(index, { issuer: OFFICE, vct: CARD, issuedAt: T0 + DAY, now: T0 + 6 * DAY }).code).toBe('issuer_revoked');
  });

  it('reads status by effective time, whatever the order of recording', () => {
    const g = { ...pass, history: [
      { status: 'suspended' as const, reason: 'r', effective_at: iso(T0 + 2 * DAY), recorded_at: iso(T0 + 3 * DAY) },
      { status: 'active' as const, reason: 'r', effective_at: iso(T0 + 1 * DAY), recorded_at: iso(T0 + 4 * DAY) },
    ] };
    expect(statusAt(g, T0 + 1.5 * DAY).status).toBe('active');
    expect(statusAt(g, T0 + 2.5 * DAY).status).toBe('suspended');
  });
});

describe('evaluateRelyingParty (verifier before creating, wallet before showing a request)', () => {
  const verify = grant({ authority_id: ROOT, entity_id: RP, action: 'verify', resource: PASS, constraints: { claims: [['ermaessigungsberechtigt'], ['anschrift'], ['kinder', null, 'name']], purpose: { de: 'Ermäßigung', en: 'Discount' } } });
  const index = new TrustIndex(state([verify]));
  const ask = (paths: (string | number | null)[][], vct = PASS, verifier = RP) => evaluateRelyingParty(index, { verifier, vct, paths, time: T0 + DAY });

  it('allows the registered claims and their members, and names the purpose', () => {
    expect(ask([['ermaessigungsberechtigt'], ['anschrift', 'ort'], ['kinder', 0, 'name']])).toMatchObject({ authorized: true, excess: [], purpose: { de: 'Ermäßigung' } });
  });
  it('lists exactly the claims asked beyond the registration', () => {
    const v = ask([['ermaessigungsberechtigt'], ['passnummer'], ['kinder', 0, 'geburtsdatum']]);
    expect(v.authorized).toBe(false);
    expect(v.excess).toEqual([['passnummer'], ['kinder', 0, 'geburtsdatum']]);
  });
  it('refuses a type the relying party is not registered for, and an unknown relying party', () => {
    expect(ask([['x']], CARD).authorized).toBe(false);
    expect(ask([['ermaessigungsberechtigt']], PASS, 'did:web:nobody').authorized).toBe(false);
  });
  it('pathCovers: prefix rule with null for any array index', () => {
    expect(pathCovers(['a'], ['a', 'b'])).toBe(true);
    expect(pathCovers(['a', null], ['a', 3])).toBe(true);
    expect(pathCovers(['a', 'b'], ['a'])).toBe(false);
    expect(pathCovers(['a', 0], ['a', 1])).toBe(false);
  });
});
