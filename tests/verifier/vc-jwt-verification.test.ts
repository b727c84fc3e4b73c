import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createHolderResolver } from '../../core/did/holder-resolver.ts';
import { createDidResolver, resolveAssertionKey } from '../../core/did/resolver.ts';
import { verifyVcJwt } from '../../core/formats/vc-jwt/verify-vc-jwt.ts';
import { BitstringStatusClient, vcJwtBitstringLoader } from '../../core/status-list/bitstring-status-client.ts';
import { verifyCredentialRequest, verifyPresentationRequest, type VerifyDeps } from '../../verifier/use-cases/verify-vc-api.ts';
import { checkVcJwtPresentation } from '../../verifier/verify-vc-jwt-presentation.ts';
import { didJwkKey, fakeRegistry, vcJwt, vpJwt, type TestKey } from './fake-registry.ts';

/**
 * The one VC-JWT (VCDM 1.1 §6.3.1) verification, core/formats/vc-jwt/verify-vc-jwt.ts, and the two
 * verifier paths that use it (OID4VP `jwt_vc_json`, VC-API `/credentials/verify` and
 * `/presentations/verify`), in process, against a hand-built registry that trusts a did:jwk issuer.
 */
const WRONG_TYPS = ['vc+sd-jwt', 'dc+sd-jwt', 'kb+jwt', 'vp+jwt', 'jwt', 'JOSE'];

describe('VC-JWT verification: one implementation, strict', () => {
  let issuer: TestKey;
  let rogue: TestKey;
  let holder: TestKey;
  const resolver = createDidResolver();
  const holders = createHolderResolver();
  const now = () => Date.now();
  let deps: VerifyDeps;
  beforeAll(async () => {
    [issuer, rogue, holder] = await Promise.all([didJwkKey(), didJwkKey(), didJwkKey()]);
    const index = fakeRegistry([issuer.did]);
    const bitstring = new BitstringStatusClient({ clock: now, load: vcJwtBitstringLoader({ resolver, maxAgeMs: 0 }) });
    deps = { resolver, holders, trust: { index: async () => index }, bitstring, bitstringV2: bitstring, clock: now };
  });

  const verify = (jwt: string) =>
    verifyVcJwt({ jwt, now: Date.now(), authorize: () => ({ ok: true, value: null }), issuerKey: (kid, iss) => resolveAssertionKey(resolver, kid, iss) });
  /** The OID4VP path: the credential inside a VP-JWT by its holder. */
  const oid4vp = async (credential: string) => {
    const presentation = await vpJwt(holder, [credential], 'n-1', 'decentralized_identifier:did:web:counter.example');
    return checkVcJwtPresentation({ resolver, holders, trust: () => deps.trust.index(), bitstring: deps.bitstring }, { presentation, nonce: 'n-1', clientId: 'decentralized_identifier:did:web:counter.example', now: Date.now(), queryId: 'q' });
  };
  const vcApi = (credential: string) => verifyCredentialRequest(deps, { verifiableCredential: credential });

  it('accepts typ "JWT" and no typ (VC-JWT 1.1 / RFC 7519 §5.1) on the core function and both verifier paths', async () => {
    for (const typ of ['JWT', null]) {
      const jwt = await vcJwt({ issuer, holder: holder.did, typ });
      expect((await verify(jwt)).ok, String(typ)).toBe(true);
      const p = await oid4vp(jwt);
      expect(Array.isArray(p), `${typ}: ${JSON.stringify(p)}`).toBe(true);
      const r = await vcApi(jwt);
      expect(r, `${typ}: ${JSON.stringify(r)}`).toMatchObject({ verified: true, errors: [], credential: { vcdm: '1.1', vct: 'urn:test:card' } });
    }
  });

  it('refuses a wrong typ on the core function, the OID4VP path and the VC-API path, though signed by a trusted issuer', async () => {
    for (const typ of WRONG_TYPS) {
      const jwt = await vcJwt({ issuer, holder: holder.did, typ });
      expect(await verify(jwt), typ).toMatchObject({ ok: false, code: 'wrong_typ' });
      const p = await oid4vp(jwt);
      expect(p, typ).toMatchObject({ ok: false, error: { code: 'invalid_presentation', message: expect.stringContaining('wrong_typ') } });
      const r = await vcApi(jwt);
      expect(r.verified, typ).toBe(false);
      expect(r.errors, typ).toEqual([expect.objectContaining({ code: 'bad_typ', check: 'proof' })]);
    }
    // The VP-JWT path of the VC-API goes through the same check.
    const presentation = await vpJwt(holder, [await vcJwt({ issuer, holder: holder.did, typ: 'dc+sd-jwt' })], 'n-2', 'https://counter.example');
    const vp = await verifyPresentationRequest(deps, { verifiablePresentation: presentation, options: { challenge: 'n-2', domain: 'https://counter.example' } });
    expect(vp.verified).toBe(false);
    expect(vp.errors[0]!.code).toBe('invalid_presentation');
  });

  it('refuses alg none and HS256 before anything is resolved or authorized', async () => {
    const good = await vcJwt({ issuer, holder: holder.did });
    const [, payload] = good.split('.');
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT', kid: issuer.kid })}.${payload}.`;
    const hs = `${b64({ alg: 'HS256', typ: 'JWT', kid: issuer.kid })}.${payload}.c2ln`;
    for (const jwt of [none, hs]) {
      const authorize = vi.fn(() => ({ ok: true as const, value: null }));
      const issuerKey = vi.fn(async () => issuer.publicJwk);
      expect(await verifyVcJwt({ jwt, now: Date.now(), authorize, issuerKey })).toMatchObject({ ok: false, code: 'unsupported_alg' });
      expect(authorize).not.toHaveBeenCalled();
      expect(issuerKey).not.toHaveBeenCalled();
      expect(await oid4vp(jwt)).toMatchObject({ ok: false, error: { code: 'invalid_signature' } });
      // The VC-API answers an empty signature part with 400 (not a compact JWS); with one, bad_algorithm.
      if (jwt.endsWith('.')) await expect(vcApi(jwt)).rejects.toMatchObject({ status: 400 });
      expect((await vcApi(jwt.endsWith('.') ? `${jwt}AA` : jwt)).errors).toEqual([expect.objectContaining({ code: 'bad_algorithm' })]);
    }
  });

  it('asks authorize before the issuer key, and never resolves a refused issuer', async () => {
    const jwt = await vcJwt({ issuer, holder: holder.did });
    const order: string[] = [];
    const r = await verifyVcJwt({
      jwt,
      now: Date.now(),
      authorize: (c) => {
        order.push(`authorize ${c.iss === issuer.did} ${c.types.join(',')}`);
        return { ok: false, code: 'untrusted_issuer', message: 'no' };
      },
      issuerKey: async () => {
        order.push('key');
        return issuer.publicJwk;
      },
    });
    expect(r).toMatchObject({ ok: false, code: 'untrusted', trustCode: 'untrusted_issuer' });
    expect(order).toEqual(['authorize true VerifiableCredential,Bibliotheksausweis']);
  });

  it('refuses a forged signature, and a credential of a type its issuer is not registered for', async () => {
    const forged = await vcJwt({ issuer: { did: issuer.did, privateKey: rogue.privateKey }, holder: holder.did });
    expect(await verify(forged)).toMatchObject({ ok: false, code: 'invalid_signature' });
    expect(await oid4vp(forged)).toMatchObject({ ok: false, error: { code: 'invalid_signature' } });
    const pass = await vcJwt({ issuer, holder: holder.did, types: ['VerifiableCredential', 'LeipzigPass'] });
    expect(await oid4vp(pass)).toMatchObject({ ok: false, error: { code: 'untrusted_issuer' } });
    expect((await vcApi(pass)).errors).toEqual([expect.objectContaining({ code: 'untrusted_issuer', check: 'trust' })]);
  });

  it('holds the VCDM 1.1 §6.3.1 correspondences: iss = vc.issuer, sub = credentialSubject.id, jti = vc.id, kid of iss', async () => {
    const cases: [string, Promise<string>][] = [
      ['vc.issuer', vcJwt({ issuer, holder: holder.did, vc: { issuer: rogue.did } })],
      ['vc.issuer object', vcJwt({ issuer, holder: holder.did, vc: { issuer: { id: rogue.did, name: 'x' } } })],
      ['credentialSubject.id', vcJwt({ issuer, holder: holder.did, claims: { id: rogue.did } })],
      ['jti', vcJwt({ issuer, holder: holder.did, vc: { id: 'urn:uuid:1' } }).then(async () => {
        const { SignJWT } = await import('jose');
        return new SignJWT({ vc: { '@context': ['https://www.w3.org/2018/credentials/v1'], id: 'urn:uuid:1', type: ['VerifiableCredential', 'Bibliotheksausweis'], credentialSubject: {} }, sub: holder.did, jti: 'urn:uuid:2' }).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: issuer.kid }).setIssuer(issuer.did).sign(issuer.privateKey);
      })],
      ['kid of another DID', vcJwt({ issuer: { ...issuer, kid: `${rogue.did}#0` }, holder: holder.did })],
    ];
    for (const [what, p] of cases) expect(await verify(await p), what).toMatchObject({ ok: false, code: 'claim_mismatch' });
    // Matching values are fine.
    expect((await verify(await vcJwt({ issuer, holder: holder.did, vc: { issuer: { id: issuer.did } }, claims: { id: holder.did } }))).ok).toBe(true);
  });

  it('checks nbf and exp with a 60 s skew', async () => {
    const t = Math.floor(Date.now() / 1000);
    expect(await verify(await vcJwt({ issuer, holder: holder.did, exp: t - 120 }))).toMatchObject({ ok: false, code: 'expired' });
    expect(await verify(await vcJwt({ issuer, holder: holder.did, nbf: t + 120 }))).toMatchObject({ ok: false, code: 'not_yet_valid' });
    expect((await verify(await vcJwt({ issuer, holder: holder.did, exp: t - 30 }))).ok).toBe(true);
    expect((await verify(await vcJwt({ issuer, holder: holder.did, nbf: t + 30 }))).ok).toBe(true);
  });
});
