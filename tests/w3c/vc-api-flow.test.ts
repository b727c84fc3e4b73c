import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactSign, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { VCT } from '../../core/demo/leipzig.ts';
import { didJwk } from '../../core/formats/vc-jwt/vc-jwt-issuer.ts';
import { newHolderKey, type HolderKey } from '../helpers/oid4vci-wallet.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * W3C VC-API over HTTP against the real registry, issuer and verifier: issue VCDM 1.1 (VC-JWT) and
 * VCDM 2.0 (VC-JOSE-COSE), verify both, tamper with each, revoke and suspend through the admin status
 * API and verify again, presentations, and every class of malformed input.
 */
const V1 = 'https://www.w3.org/2018/credentials/v1';
const V2 = 'https://www.w3.org/ns/credentials/v2';
const CLAIMS = { ausweisnummer: 'LSB-0815', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };
const PROBLEM = 'urn:id-ideal:problem:';

const v2 = (extra: Record<string, unknown> = {}, subject: Record<string, unknown> = {}) => ({
  '@context': [V2],
  type: ['VerifiableCredential', 'Bibliotheksausweis'],
  credentialSubject: { id: 'did:example:ebfeb1f712ebc6f1c276e12ec21', ...CLAIMS, ...subject },
  ...extra,
});
const v11 = (extra: Record<string, unknown> = {}, subject: Record<string, unknown> = {}) => ({
  '@context': [V1],
  type: ['VerifiableCredential', 'Bibliotheksausweis'],
  credentialSubject: { id: 'did:example:ebfeb1f712ebc6f1c276e12ec21', ...CLAIMS, ...subject },
  ...extra,
});

type Issued = { verifiableCredential: string | { '@context': string[]; id: string; type: string }; credential_id: string };
const jwsOf = (vc: Issued['verifiableCredential']) => (typeof vc === 'string' ? vc : vc.id.slice('data:application/vc+jwt,'.length));
const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
/** Changes one claim in the payload and keeps the original signature. */
function tamper(jws: string, change: (p: Record<string, unknown>) => void): string {
  const [h, , s] = jws.split('.');
  const p = payloadOf(jws);
  change(p);
  return `${h}.${Buffer.from(JSON.stringify(p)).toString('base64url')}.${s}`;
}

describe('W3C VC-API: issue VCDM 1.1 and 2.0, verify, tamper, revoke', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0', VERIFIER_TRUST_MAX_AGE: '0', ISSUER_TRUST_MAX_AGE: '0' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const issue = async (slug: string, credential: unknown, expected = 201) => {
    const res = await stack.admin('issuer', `/offices/${slug}/credentials/issue`, { credential, options: {} });
    expect(res.status, await res.clone().text()).toBe(expected);
    return res;
  };
  const issued = async (credential: unknown, slug = 'bibliothek') => (await (await issue(slug, credential)).json()) as Issued;
  const verify = async (verifiableCredential: unknown) => {
    const res = await stack.admin('verifier', '/credentials/verify', { verifiableCredential });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json();
  };
  const setStatus = async (id: string, status: 'revoked' | 'suspended' | 'valid') => {
    const res = await stack.admin('issuer', `/api/offices/bibliothek/credentials/${id}/status`, { status });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json();
  };
  const problemOf = async (res: Response) => {
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return res.json();
  };

  it('issues VCDM 2.0 secured with VC-JOSE-COSE as an EnvelopedVerifiableCredential with Bitstring Status List entries', async () => {
    const out = await issued(v2());
    expect(out.credential_id).toMatch(/^[0-9a-f-]{36}$/);
    const env = out.verifiableCredential as { '@context': string[]; id: string; type: string };
    // VCDM 2.0 §4.3: @context is an ordered set (array) starting with the v2 base context.
    expect(env).toMatchObject({ '@context': [V2], type: 'EnvelopedVerifiableCredential' });
    expect(env.id).toMatch(/^data:application\/vc\+jwt,[\w-]+\.[\w-]+\.[\w-]+$/);
    const jws = jwsOf(env);
    const header = decodeProtectedHeader(jws);
    expect(header).toEqual({ alg: 'ES256', typ: 'vc+jwt', cty: 'vc', kid: expect.stringMatching(new RegExp(`^${stack.officeDid('bibliothek').replace(/[.%]/g, '\\$&')}#`)) });
    const p = payloadOf(jws);
    // VC-JOSE-COSE §3.1.1: the payload is the credential itself; §3.1.3: no vc/vp claims.
    expect(p).not.toHaveProperty('vc');
    expect(p).not.toHaveProperty('vp');
    expect(p).toMatchObject({ '@context': [V2], type: ['VerifiableCredential', 'Bibliotheksausweis'], issuer: stack.officeDid('bibliothek'), credentialSubject: v2().credentialSubject });
    expect(p.validFrom).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Not given: the type's validity period (730 days), never past the card's own gueltig_bis.
    expect(Date.parse(p.validUntil as string)).toBe(Math.min(Date.parse(p.validFrom as string) + 730 * 86_400_000, Date.parse('2028-12-31T23:59:59Z')));
    const status = p.credentialStatus as { type: string; statusPurpose: string; statusListIndex: string; statusListCredential: string }[];
    expect(status.map((s) => [s.type, s.statusPurpose])).toEqual([
      ['BitstringStatusListEntry', 'revocation'],
      ['BitstringStatusListEntry', 'suspension'],
    ]);
    expect(status[0]!.statusListCredential).toBe(`${stack.urls.issuer}/offices/bibliothek/status-lists/w3c/v2/revocation`);
    expect(status[0]!.statusListIndex).toBe(status[1]!.statusListIndex);

    // The status list credential: VCDM 2.0, VC-JOSE-COSE, public.
    const list = await fetch(status[0]!.statusListCredential);
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/^application\/vc\+jwt/);
    const listJws = await list.text();
    expect(decodeProtectedHeader(listJws)).toMatchObject({ typ: 'vc+jwt', alg: 'ES256' });
    expect(payloadOf(listJws)).toMatchObject({ '@context': [V2], type: ['VerifiableCredential', 'BitstringStatusListCredential'], credentialSubject: { type: 'BitstringStatusList', statusPurpose: 'revocation' } });
  });

  it('verifies a VCDM 2.0 credential: proof, validity, status and trust', async () => {
    const out = await issued(v2());
    const r = await verify(out.verifiableCredential);
    expect(r, JSON.stringify(r)).toMatchObject({ verified: true, errors: [], warnings: [] });
    expect(r.checks).toEqual(['proof', 'validity', 'status', 'trust']);
    expect(r.credential).toMatchObject({ vcdm: '2.0', issuer: stack.officeDid('bibliothek'), vct: VCT.bibliotheksausweis, type: ['VerifiableCredential', 'Bibliotheksausweis'] });
    // The compact form (typ vc+jwt) is accepted too.
    expect((await verify(jwsOf(out.verifiableCredential))).verified).toBe(true);
  });

  it('refuses a tampered VCDM 2.0 credential', async () => {
    const out = await issued(v2());
    const bad = tamper(jwsOf(out.verifiableCredential), (p) => ((p.credentialSubject as Record<string, unknown>).nutzergruppe = 'ermaessigt'));
    const r = await verify({ '@context': V2, id: `data:application/vc+jwt,${bad}`, type: 'EnvelopedVerifiableCredential' });
    expect(r.verified).toBe(false);
    expect(r.errors).toEqual([expect.objectContaining({ type: 'https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR', code: 'invalid_signature', check: 'proof' })]);
  });

  it('revokes a VCDM 2.0 credential through the admin status API; suspension and reinstatement show too', async () => {
    const a = await issued(v2());
    const b = await issued(v2());
    expect((await verify(a.verifiableCredential)).verified).toBe(true);
    const changed = await setStatus(a.credential_id, 'revoked');
    expect(changed.status_list).toEqual({ uri: `${stack.urls.issuer}/offices/bibliothek/status-lists/w3c/v2/revocation`, idx: expect.any(Number) });
    const r = await verify(a.verifiableCredential);
    expect(r.verified).toBe(false);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'credential_revoked', check: 'status' })]);

    await setStatus(b.credential_id, 'suspended');
    expect((await verify(b.verifiableCredential)).errors).toEqual([expect.objectContaining({ code: 'credential_suspended', check: 'status' })]);
    await setStatus(b.credential_id, 'valid');
    expect((await verify(b.verifiableCredential)).verified).toBe(true);
  });

  it('issues VCDM 1.1 as VC-JWT, verifies it, refuses it tampered and after revocation', async () => {
    const out = await issued(v11());
    const jwt = out.verifiableCredential as string;
    expect(typeof jwt).toBe('string');
    const p = decodeJwt(jwt);
    expect(p).toMatchObject({ iss: stack.officeDid('bibliothek'), sub: 'did:example:ebfeb1f712ebc6f1c276e12ec21', vc: { '@context': [V1], type: ['VerifiableCredential', 'Bibliotheksausweis'] } });
    // VCDM 1.1 §4.9: one status object, the revocation entry.
    expect((p.vc as { credentialStatus: unknown }).credentialStatus).toMatchObject({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation' });

    const ok = await verify(jwt);
    expect(ok, JSON.stringify(ok)).toMatchObject({ verified: true, errors: [] });
    expect(ok.credential).toMatchObject({ vcdm: '1.1', vct: VCT.bibliotheksausweis });

    const bad = tamper(jwt, (q) => ((q.vc as { credentialSubject: Record<string, unknown> }).credentialSubject.nutzergruppe = 'kind'));
    expect((await verify(bad)).errors).toEqual([expect.objectContaining({ code: 'invalid_signature', check: 'proof' })]);

    await setStatus(out.credential_id, 'revoked');
    expect((await verify(jwt)).errors).toEqual([expect.objectContaining({ code: 'credential_revoked', check: 'status' })]);
  });

  it('issues a credential without a subject id (VCDM 1.1 and 2.0)', async () => {
    const { id: _id, ...subject } = v2().credentialSubject;
    void _id;
    const a = await issued({ ...v2(), credentialSubject: subject });
    expect((await verify(a.verifiableCredential)).verified).toBe(true);
    const b = await issued({ ...v11(), credentialSubject: subject });
    expect(decodeJwt(b.verifiableCredential as string).sub).toBeUndefined();
    expect((await verify(b.verifiableCredential)).verified).toBe(true);
  });

  it('refuses an office the registry does not authorize for the type (403), like the OID4VCI path', async () => {
    const res = await issue('buergerbuero', v2(), 403);
    expect(await problemOf(res)).toMatchObject({ type: `${PROBLEM}issuance-not-authorized`, status: 403 });
  });

  it('is documented in the issuer\'s /openapi.json', async () => {
    const doc = await (await fetch(`${stack.urls.issuer}/openapi.json`)).json();
    expect(doc.paths['/offices/{slug}/credentials/issue'].post.responses).toHaveProperty('201');
  });

  it('needs the admin authentication', async () => {
    const res = await stack.admin('issuer', '/offices/bibliothek/credentials/issue', { credential: v2() }, null);
    expect(res.status).toBe(401);
    const v = await stack.admin('verifier', '/credentials/verify', { verifiableCredential: 'a.b.c' }, 'wrong-token');
    expect(v.status).toBe(401);
  });

  // Each class of malformed input: 400 problem+json naming the field, with a stable type.
  const malformed: [string, unknown, string, string][] = [
    ['@context missing', (() => { const { '@context': _c, ...x } = v2(); void _c; return x; })(), 'vcdm-context', 'credential.@context'],
    ['@context not starting with the v2 base context', v2({ '@context': ['https://www.w3.org/ns/credentials/examples/v2', V2] }), 'vcdm-context', 'credential.@context.0'],
    ['@context with an unknown context', v2({ '@context': [V2, 'https://example.org/unknown/v1'] }), 'vcdm-unknown-context', 'credential.@context.1'],
    ['@context with an inline context', v2({ '@context': [V2, { '@vocab': 'https://example.org/#' }] }), 'vcdm-unknown-context', 'credential.@context.1'],
    ['type without VerifiableCredential', v2({ type: ['Bibliotheksausweis'] }), 'vcdm-type', 'credential.type'],
    ['type missing', v2({ type: [] }), 'vcdm-type', 'credential.type'],
    ['type not registered', v2({ type: ['VerifiableCredential', 'ExampleDegreeCredential'] }), 'unknown-credential-type', 'credential.type'],
    ['issuer not a URL', v2({ issuer: 'Stadtbibliothek Leipzig' }), 'vcdm-issuer', 'credential.issuer'],
    ['issuer object without id', v2({ issuer: { name: 'Stadtbibliothek' } }), 'vcdm-issuer', 'credential.issuer.id'],
    ['issuer of another office', v2({ issuer: 'did:web:example.org' }), 'issuer-mismatch', 'credential.issuer'],
    ['credentialSubject missing', (() => { const { credentialSubject: _s, ...x } = v2(); void _s; return x; })(), 'vcdm-credential-subject', 'credential.credentialSubject'],
    ['credentialSubject empty', v2({ credentialSubject: {} }), 'vcdm-credential-subject', 'credential.credentialSubject'],
    // VCDM 2.0 §4.8: an id-only subject is conforming, but a library card's claims are required (its schema); {} is never conforming.
    ['credentialSubject only an id (the library card\'s claims missing)', v2({ credentialSubject: { id: 'did:example:1' } }), 'invalid-claims', 'credential.credentialSubject.ausweisnummer'],
    ['credentialSubject an empty object', v2({ credentialSubject: {} }), 'vcdm-credential-subject', 'credential.credentialSubject'],
    ['credentialSubject an empty array', v2({ credentialSubject: [] }), 'vcdm-credential-subject', 'credential.credentialSubject'],
    ['validFrom a date without time', v2({ validFrom: '2026-01-01' }), 'vcdm-date-time', 'credential.validFrom'],
    ['validUntil without a time zone', v2({ validUntil: '2027-01-01T00:00:00' }), 'vcdm-date-time', 'credential.validUntil'],
    ['validUntil before validFrom', v2({ validFrom: '2027-01-01T00:00:00Z', validUntil: '2026-01-01T00:00:00Z' }), 'vcdm-validity-range', 'credential.validUntil'],
    ['id not a URL', v2({ id: 'credential 42' }), 'vcdm-id', 'credential.id'],
    ['credentialSubject.id not a URL', v2({}, { id: 'Erika' }), 'vcdm-id', 'credential.credentialSubject.id'],
    ['VCDM 1.1 issuanceDate in a 2.0 credential', v2({ issuanceDate: '2026-01-01T00:00:00Z' }), 'vcdm-property-not-allowed', 'credential.issuanceDate'],
    ['a proof on the unsecured credential', v2({ proof: { type: 'DataIntegrityProof' } }), 'vcdm-property-not-allowed', 'credential.proof'],
    ['a credentialStatus set by the caller', v2({ credentialStatus: { type: 'BitstringStatusListEntry' } }), 'vcdm-property-not-allowed', 'credential.credentialStatus'],
    ['a vc member (VC-JOSE-COSE §3.1.3)', v2({ vc: {} }), 'vcdm-property-not-allowed', 'credential.vc'],
    ['a claim that does not fit the type', v2({}, { ausweisnummer: 'lsb 0815' }), 'invalid-claims', 'credential.credentialSubject.ausweisnummer'],
    ['VCDM 1.1 without VerifiableCredential', v11({ type: ['Bibliotheksausweis'] }), 'vcdm-type', 'credential.type'],
    ['VCDM 1.1 issuanceDate not a date-time', v11({ issuanceDate: 'yesterday' }), 'vcdm-date-time', 'credential.issuanceDate'],
    // (credential.id is carried as jti since issue 13: tests/w3c/conformance-office.test.ts.)
    ['VCDM 1.1 with members VC-JWT issuance would drop', v11({ termsOfUse: { type: 'IssuerPolicy' } }), 'vcdm-property-not-allowed', 'credential.termsOfUse'],
    ['VCDM 1.1 with an issuer name VC-JWT issuance would drop', v11({ issuer: { id: 'did:example:1', name: 'Bibliothek' } }), 'vcdm-property-not-allowed', 'credential.issuer.name'],
    ['VCDM 1.1 with validFrom', v11({ validFrom: '2026-01-01T00:00:00Z' }), 'vcdm-property-not-allowed', 'credential.validFrom'],
    ['a credential that is not an object', ['not', 'an', 'object'], 'invalid-request', 'credential'],
    // Issue 18: type and validity period come from the credential type's configuration only.
    ['a type besides the configured one (a library card also typed Meldebescheinigung)', v2({ type: ['VerifiableCredential', 'Bibliotheksausweis', 'Meldebescheinigung'] }), 'credential-type-not-allowed', 'credential.type'],
    ['VCDM 1.1 with a type besides the configured one', v11({ type: ['VerifiableCredential', 'Bibliotheksausweis', 'Meldebescheinigung'] }), 'credential-type-not-allowed', 'credential.type'],
    ['validUntil past the type\'s validity period (valid until 2999)', v2({ validUntil: '2999-12-31T23:59:59Z' }), 'validity-not-allowed', 'credential.validUntil'],
    ['VCDM 1.1 expirationDate past the type\'s validity period', v11({ expirationDate: '2999-12-31T23:59:59Z' }), 'validity-not-allowed', 'credential.expirationDate'],
    ['validUntil in the past', v2({ validUntil: '2020-01-01T00:00:00Z' }), 'validity-not-allowed', 'credential.validUntil'],
    ['validFrom in the future', v2({ validFrom: '2999-01-01T00:00:00Z' }), 'validity-not-allowed', 'credential.validFrom'],
    ['validFrom backdated', v2({ validFrom: '2020-01-01T00:00:00Z' }), 'validity-not-allowed', 'credential.validFrom'],
    ['VCDM 1.1 issuanceDate backdated', v11({ issuanceDate: '2020-01-01T00:00:00Z' }), 'validity-not-allowed', 'credential.issuanceDate'],
    ['a JWT exp claim in the credential (VC-JOSE-COSE reads it as the expiry)', v2({ exp: 32503680000 }), 'validity-not-allowed', 'credential.exp'],
  ];
  for (const [name, credential, code, field] of malformed) {
    it(`400 for ${name}`, async () => {
      const res = await issue('bibliothek', credential, 400);
      const p = await problemOf(res);
      expect(p, JSON.stringify(p)).toMatchObject({ type: PROBLEM + code, status: 400, field });
      expect(p.detail).toContain(field);
    });
  }

  it('400 for a body without credential, and 415 for a body that is not JSON', async () => {
    const res = await stack.admin('issuer', '/offices/bibliothek/credentials/issue', { options: {} });
    expect(res.status).toBe(400);
    expect(await problemOf(res)).toMatchObject({ type: `${PROBLEM}invalid-request`, field: 'credential' });
    const text = await fetch(`${stack.urls.issuer}/offices/bibliothek/credentials/issue`, { method: 'POST', headers: { authorization: 'Bearer test-issuer-admin-token-0123456789', 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
  });

  // Verify: input that cannot be verified at all is a 400 (VC-API verifier.yml), everything else a 200 with errors.
  const badVerify: [string, unknown, string][] = [
    ['no verifiableCredential', {}, 'invalid-request'],
    ['an unsecured credential', { verifiableCredential: v2({ issuer: 'did:example:1' }) }, 'unsecured-input'],
    ['a Data Integrity proof', { verifiableCredential: v2({ issuer: 'did:example:1', proof: { type: 'DataIntegrityProof' } }) }, 'unsupported-securing-mechanism'],
    ['an envelope of another media type', { verifiableCredential: { '@context': V2, id: 'data:application/vc+sd-jwt,a.b.c~', type: 'EnvelopedVerifiableCredential' } }, 'unsupported-securing-mechanism'],
    ['an envelope without a data: URL', { verifiableCredential: { '@context': V2, id: 'https://example.org/vc/1', type: 'EnvelopedVerifiableCredential' } }, 'invalid-envelope'],
    ['a string that is not a JWS', { verifiableCredential: 'hello' }, 'invalid-verifiable-credential'],
  ];
  for (const [name, body, code] of badVerify) {
    it(`verify: 400 for ${name}`, async () => {
      const res = await stack.admin('verifier', '/credentials/verify', body);
      expect(res.status, await res.clone().text()).toBe(400);
      expect(await problemOf(res)).toMatchObject({ type: PROBLEM + code });
    });
  }

  it('verify: a credential from an issuer outside the registry is untrusted, its DID never resolved', async () => {
    const key = await newHolderKey();
    const did = didJwk(key.publicJwk);
    const doc = { '@context': [V2], type: ['VerifiableCredential', 'Bibliotheksausweis'], issuer: did, credentialSubject: CLAIMS };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(doc))).setProtectedHeader({ alg: 'ES256', typ: 'vc+jwt', kid: `${did}#0` }).sign(key.privateKey);
    const r = await verify(jws);
    expect(r.verified).toBe(false);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'untrusted_issuer', check: 'trust' })]);
  });

  it('keeps an issuer object (with its name) and the spec examples context', async () => {
    const out = await issued(v2({ '@context': [V2, 'https://www.w3.org/ns/credentials/examples/v2'], issuer: { id: stack.officeDid('bibliothek'), name: 'Leipziger Städtische Bibliotheken' }, name: 'Bibliotheksausweis' }));
    expect(payloadOf(jwsOf(out.verifiableCredential))).toMatchObject({ issuer: { id: stack.officeDid('bibliothek'), name: 'Leipziger Städtische Bibliotheken' }, name: 'Bibliotheksausweis' });
    expect((await verify(out.verifiableCredential)).verified).toBe(true);
  });

  it('writes nothing for a refused type or validity, and keeps a validity shorter than the configured one', async () => {
    const db = new Database(join(stack.dataDir, 'issuer.sqlite'), { readonly: true });
    try {
      const counts = () => ['issuer_credentials', 'issuer_offers', 'issuer_status_slots', 'issuer_audit'].map((t) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n);
      const before = counts();
      await issue('bibliothek', v2({ type: ['VerifiableCredential', 'Bibliotheksausweis', 'Meldebescheinigung'] }), 400);
      await issue('bibliothek', v2({ validUntil: '2999-12-31T23:59:59Z' }), 400);
      await issue('bibliothek', v11({ expirationDate: '2999-12-31T23:59:59Z' }), 400);
      expect(counts()).toEqual(before);
    } finally {
      db.close();
    }
    // Shortening is the office's choice: a validUntil inside the configured period is signed as sent.
    const until = new Date(Date.now() + 10 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const out = await issued(v2({ validUntil: until }));
    expect(payloadOf(jwsOf(out.verifiableCredential))).toMatchObject({ validUntil: until, type: ['VerifiableCredential', 'Bibliotheksausweis'] });
  });

  it('never answers 500 to odd input', async () => {
    const odd: unknown[] = [
      null, 42, 'x', [], { credential: null }, { credential: { '@context': null } }, { credential: { '@context': [V2], type: 7 } },
      { credential: v2({ credentialSubject: [[1]] }) }, { credential: v2({ issuer: ['did:example:1'] }) }, { credential: v2({ validFrom: 1 }) },
      { credential: v2({ credentialSchema: [null] }) }, { credential: v2({}, { anschrift: { x: 1 } }) }, { credential: v2(), options: 'x' },
    ];
    for (const body of odd) {
      const res = await stack.admin('issuer', '/offices/bibliothek/credentials/issue', body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
    }
    const h = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const oddVc: unknown[] = [
      null, 42, [], { verifiableCredential: 42 }, { verifiableCredential: null }, { verifiableCredential: [] },
      { verifiableCredential: `${h(null)}.${h(1)}.AA` }, { verifiableCredential: `${h({ alg: 'ES256', typ: 'vc+jwt' })}.${h([1])}.AA` },
      { verifiableCredential: `${h({ alg: 'ES256', typ: 'vc+jwt', kid: 'did:web:x#1' })}.e30.AA` }, { verifiableCredential: `${h({ alg: 'ES256' })}.${h({ vc: 1, iss: 'did:web:x' })}.AA` },
      { verifiableCredential: { '@context': V2, type: 'EnvelopedVerifiableCredential', id: 'data:application/vc+jwt,%' } },
      { verifiableCredential: { '@context': [V2], type: 'EnvelopedVerifiableCredential', id: 'data:' } }, { verifiableCredential: 'a.b.c', options: [] },
    ];
    for (const body of oddVc) {
      const res = await stack.admin('verifier', '/credentials/verify', body);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
    }
    const oddVp: unknown[] = [
      {}, { verifiablePresentation: 'a.b.c', options: { challenge: 'x', domain: 'y' } }, { verifiablePresentation: `${h({ alg: 'ES256', typ: 'vp+jwt', kid: 'did:jwk:AAAAAAAAAAAA#0' })}.${h({ verifiableCredential: 5 })}.AA` },
      { verifiablePresentation: { '@context': V2, type: 'EnvelopedVerifiablePresentation', id: 'data:application/vp+jwt,a.b.c' } }, { verifiablePresentation: { type: 'VerifiablePresentation' } },
    ];
    for (const body of oddVp) {
      const res = await stack.admin('verifier', '/presentations/verify', body);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
    }
  });

  describe('presentations', () => {
    let holder: HolderKey;
    let holderDid: string;
    beforeAll(async () => {
      holder = await newHolderKey();
      holderDid = didJwk(holder.publicJwk);
    });

    /** VC-JOSE-COSE §3.1.2: a VP secured with JOSE holding EnvelopedVerifiableCredentials, itself enveloped. */
    const vp2 = async (credentials: unknown[], claims: Record<string, unknown>) => {
      const vp = { '@context': [V2], type: 'VerifiablePresentation', holder: holderDid, verifiableCredential: credentials, ...claims };
      const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(vp))).setProtectedHeader({ alg: 'ES256', typ: 'vp+jwt', cty: 'vp', kid: `${holderDid}#0` }).sign(holder.privateKey);
      return { '@context': V2, id: `data:application/vp+jwt,${jws}`, type: 'EnvelopedVerifiablePresentation' };
    };
    const verifyVp = async (verifiablePresentation: unknown, options: Record<string, unknown>) => {
      const res = await stack.admin('verifier', '/presentations/verify', { verifiablePresentation, options });
      expect(res.status, await res.clone().text()).toBe(200);
      return res.json();
    };

    it('verifies a VCDM 2.0 presentation with its credentials, challenge and domain', async () => {
      const c = await issued(v2({}, { id: holderDid }));
      const r = await verifyVp(await vp2([c.verifiableCredential], { nonce: 'n-123', aud: 'https://counter.example' }), { challenge: 'n-123', domain: 'https://counter.example' });
      expect(r, JSON.stringify(r)).toMatchObject({ verified: true, errors: [], presentationResult: { verified: true, holder: holderDid } });
      expect(r.credentialResults).toHaveLength(1);
      expect(r.credentialResults[0]).toMatchObject({ verified: true, credential: { vct: VCT.bibliotheksausweis } });

      // Wrong challenge; then a revoked credential inside.
      const wrong = await verifyVp(await vp2([c.verifiableCredential], { nonce: 'other', aud: 'https://counter.example' }), { challenge: 'n-123', domain: 'https://counter.example' });
      expect(wrong.verified).toBe(false);
      expect(wrong.errors).toEqual([expect.objectContaining({ code: 'challenge_mismatch' })]);
      await setStatus(c.credential_id, 'revoked');
      const revoked = await verifyVp(await vp2([c.verifiableCredential], { nonce: 'n-123', aud: 'https://counter.example' }), { challenge: 'n-123', domain: 'https://counter.example' });
      expect(revoked.verified).toBe(false);
      expect(revoked.presentationResult.verified).toBe(true);
      expect(revoked.credentialResults[0].errors).toEqual([expect.objectContaining({ code: 'credential_revoked' })]);
    });

    it('refuses a tampered presentation, and warns when no challenge was asked', async () => {
      const c = await issued(v2({}, { id: holderDid }));
      const env = await vp2([c.verifiableCredential], { nonce: 'n-1' });
      const jws = env.id.slice('data:application/vp+jwt,'.length);
      const bad = tamper(jws, (p) => (p.nonce = 'n-2'));
      const r = await verifyVp({ ...env, id: `data:application/vp+jwt,${bad}` }, { challenge: 'n-2' });
      expect(r.verified).toBe(false);
      expect(r.errors).toEqual([expect.objectContaining({ code: 'invalid_signature', check: 'proof' })]);
      const noChallenge = await verifyVp(env, {});
      expect(noChallenge.verified).toBe(true);
      expect(noChallenge.warnings).toEqual([expect.objectContaining({ code: 'no_challenge' })]);
    });

    it('verifies a VCDM 1.1 VP-JWT holding a VC-JWT issued over VC-API', async () => {
      const c = await issued(v11({}, { id: holderDid }));
      const vpJwt = async (nonce: string) =>
        new SignJWT({ nonce, vp: { '@context': [V1], type: ['VerifiablePresentation'], verifiableCredential: [c.verifiableCredential] } })
          .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: `${holderDid}#0` })
          .setIssuer(holderDid)
          .setAudience('https://counter.example')
          .setIssuedAt()
          .sign(holder.privateKey);
      const r = await verifyVp(await vpJwt('n-9'), { challenge: 'n-9', domain: 'https://counter.example' });
      expect(r, JSON.stringify(r)).toMatchObject({ verified: true, credentialResults: [{ verified: true, credential: { vcdm: '1.1', vct: VCT.bibliotheksausweis } }] });
      const wrong = await verifyVp(await vpJwt('n-8'), { challenge: 'n-9', domain: 'https://counter.example' });
      expect(wrong.verified).toBe(false);
      // Without challenge and domain a VP-JWT cannot be checked: 400.
      const res = await stack.admin('verifier', '/presentations/verify', { verifiablePresentation: await vpJwt('n-9') });
      expect(res.status).toBe(400);
    });
  });
});
