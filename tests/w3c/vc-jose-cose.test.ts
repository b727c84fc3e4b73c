import { describe, expect, it } from 'vitest';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { envelopeCredential, parseEnvelope, signCredentialJose, verifyJoseSecured, type VcJoseFailure } from '../../core/formats/vc-jose-cose/index.ts';
import { validateCredential, VcdmError } from '../../core/formats/vcdm/validate-credential.ts';
import { didJwk } from '../../core/formats/vc-jwt/vc-jwt-issuer.ts';

/** Unit checks of the VC-JOSE-COSE rules (securing and verifying) and of the data model rules, without HTTP. */
const V2 = 'https://www.w3.org/ns/credentials/v2';

async function key() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const did = didJwk(publicJwk);
  return { privateKey, publicJwk, did, kid: `${did}#0` };
}
const credentialOf = (issuer: string, extra: Record<string, unknown> = {}) => ({ '@context': [V2], type: ['VerifiableCredential'], issuer, credentialSubject: { name: 'x' }, ...extra });

describe('VC-JOSE-COSE: securing and verifying', () => {
  const sign = async (k: Awaited<ReturnType<typeof key>>, payload: unknown, header: Record<string, unknown>) =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', ...header }).sign(k.privateKey);
  const verify = (jws: string, k: Awaited<ReturnType<typeof key>>, kind: 'credential' | 'presentation' = 'credential') => verifyJoseSecured(jws, { kind, now: Date.now(), resolveKey: async () => k.publicJwk });
  const failsWith = async (p: Promise<unknown>, reason: VcJoseFailure) => expect(p).rejects.toMatchObject({ reason });

  it('round-trips through signCredentialJose and an envelope', async () => {
    const k = await key();
    const c = credentialOf(k.did);
    const env = envelopeCredential(await signCredentialJose({ kid: k.kid, alg: 'ES256', publicJwk: k.publicJwk, privateKey: k.privateKey as never }, c));
    const { jws } = parseEnvelope(env, 'credential');
    expect((await verify(jws, k)).document).toEqual(c);
  });

  it('§3.1.1 typ must be vc+jwt (we require it), cty when present vc', async () => {
    const k = await key();
    await failsWith(verify(await sign(k, credentialOf(k.did), { kid: k.kid }), k), 'bad_typ');
    await failsWith(verify(await sign(k, credentialOf(k.did), { kid: k.kid, typ: 'JWT' }), k), 'bad_typ');
    await failsWith(verify(await sign(k, credentialOf(k.did), { kid: k.kid, typ: 'vc+jwt', cty: 'vp' }), k), 'bad_typ');
    await failsWith(verify(await sign(k, credentialOf(k.did), { kid: k.kid, typ: 'vc+jwt' }), k, 'presentation'), 'bad_typ');
  });

  it('§4.1.1 kid must be a DID URL of the issuer; §4.1.2 iss, if present, must match issuer', async () => {
    const k = await key();
    const other = await key();
    await failsWith(verify(await sign(k, credentialOf(k.did), { typ: 'vc+jwt' }), k), 'key_unresolved');
    await failsWith(verify(await sign(k, credentialOf(other.did), { typ: 'vc+jwt', kid: k.kid }), k), 'issuer_mismatch');
    await failsWith(verify(await sign(k, credentialOf(k.did, { iss: other.did }), { typ: 'vc+jwt', kid: k.kid }), k), 'issuer_mismatch');
    expect((await verify(await sign(k, credentialOf(k.did, { iss: k.did }), { typ: 'vc+jwt', kid: k.kid }), k)).controller).toBe(k.did);
    expect((await verify(await sign(k, credentialOf({ id: k.did, name: 'Office' } as never), { typ: 'vc+jwt', kid: k.kid }), k)).controller).toBe(k.did);
  });

  it('§3.1.3 the JWT claims vc and vp must not be present; exp, when present, is the signature expiry', async () => {
    const k = await key();
    await failsWith(verify(await sign(k, { ...credentialOf(k.did), vc: {} }, { typ: 'vc+jwt', kid: k.kid }), k), 'forbidden_claim');
    await failsWith(verify(await sign(k, credentialOf(k.did, { exp: Math.floor(Date.now() / 1000) - 3600 }), { typ: 'vc+jwt', kid: k.kid }), k), 'expired');
    await expect(signCredentialJose({ kid: k.kid, alg: 'ES256', publicJwk: k.publicJwk, privateKey: k.privateKey as never }, { ...credentialOf(k.did), vp: {} })).rejects.toThrow(/vc and vp/);
  });

  it('a signature by another key, and algorithms outside the allow-list, fail', async () => {
    const k = await key();
    const other = await key();
    await failsWith(verify(await sign(other, credentialOf(k.did), { typ: 'vc+jwt', kid: k.kid }), k), 'bad_signature');
    const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'vc+jwt', kid: k.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(credentialOf(k.did))).toString('base64url')}.AAAA`;
    await failsWith(verify(hs, k), 'bad_alg');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'vc+jwt', kid: k.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(credentialOf(k.did))).toString('base64url')}.`;
    await failsWith(verify(none, k), 'bad_alg');
  });

  it('envelopes: data: URLs of other media types, base64 data and bad percent-encoding are refused', () => {
    expect(() => parseEnvelope({ '@context': V2, type: 'EnvelopedVerifiableCredential', id: 'data:application/vc+cose,AAAA' }, 'credential')).toThrow(/unsupported media type/);
    expect(() => parseEnvelope({ '@context': V2, type: 'EnvelopedVerifiableCredential', id: 'data:application/vc+jwt;base64,YS5iLmM=' }, 'credential')).toThrow(/base64/);
    expect(() => parseEnvelope({ '@context': V2, type: 'EnvelopedVerifiableCredential', id: 'data:application/vc+jwt,a.b.%E0%A4%A' }, 'credential')).toThrow(/percent-encoded/);
    expect(() => parseEnvelope({ '@context': 'https://www.w3.org/2018/credentials/v1', type: 'EnvelopedVerifiableCredential', id: 'data:application/vc+jwt,a.b.c' }, 'credential')).toThrow(/@context/);
    expect(parseEnvelope({ '@context': [V2], type: ['EnvelopedVerifiableCredential'], id: 'data:application/vc+jwt,a.b.c' }, 'credential').jws).toBe('a.b.c');
  });
});

describe('VCDM rules (core/formats/vcdm)', () => {
  const err = (doc: unknown, opts = {}) => {
    try {
      validateCredential(doc, opts);
    } catch (e) {
      if (e instanceof VcdmError) return [e.code, e.field];
      throw e;
    }
    return null;
  };
  const base = { '@context': [V2], type: ['VerifiableCredential'], issuer: 'did:example:1', credentialSubject: { a: 1 } };

  it('accepts the base context as a lone string and detects the version', () => {
    expect(validateCredential({ ...base, '@context': V2 }).version).toBe('2.0');
    expect(validateCredential({ ...base, '@context': ['https://www.w3.org/2018/credentials/v1'], issuanceDate: '2020-01-01T00:00:00Z' }).version).toBe('1.1');
  });

  it('names the property that breaks a rule', () => {
    expect(err({ ...base, '@context': [V2, V2] })).toEqual(['vcdm-context', '@context.1']);
    expect(err({ ...base, '@context': [V2, 42] })).toEqual(['vcdm-context', '@context.1']);
    expect(err({ ...base, type: 'VerifiableCredential ' })).toEqual(['vcdm-type', 'type.0']);
    expect(err({ ...base, credentialSubject: [{ a: 1 }, 'x'] })).toEqual(['vcdm-credential-subject', 'credentialSubject.1']);
    expect(err({ ...base, validFrom: '2026-02-30T00:00:00Z' })).toBeNull(); // Date.parse rolls over; the lexical form is valid
    expect(err({ ...base, validFrom: '2026-13-01T00:00:00Z' })).toEqual(['vcdm-date-time', 'validFrom']);
    expect(err({ ...base, validUntil: '2026-01-01T00:00:00+15:00' })).toEqual(['vcdm-date-time', 'validUntil']);
    expect(err({ ...base, credentialStatus: [{ id: 'x y' }] })).toEqual(['vcdm-status', 'credentialStatus.0.type']);
    expect(err({ ...base, credentialSchema: { id: 'https://example.org/s.json' } })).toEqual(['vcdm-schema', 'credentialSchema']);
    // VCDM 1.1 §4.6: issuanceDate is required when verifying.
    expect(err({ ...base, '@context': ['https://www.w3.org/2018/credentials/v1'] })).toEqual(['vcdm-date-time', 'issuanceDate']);
    expect(err({ ...base, '@context': ['https://www.w3.org/2018/credentials/v1'] }, { version: '2.0' })).toEqual(['vcdm-context', '@context.0']);
  });
});
