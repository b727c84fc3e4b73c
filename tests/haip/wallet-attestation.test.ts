import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, SignJWT } from 'jose';
import type { CityCa } from '../../core/x509/city-ca.ts';
import { startTestIssuer, type RunningIssuer } from '../helpers/issuer.ts';
import { demoCa } from './haip-fixtures.ts';
import { createOffer, credentialRequest, dpopProof, issuerDemoCa, newKey, nonces, patchOffice, tokenRequest, tokenUrl, walletAttestationHeaders, walletProvider, type Key } from './oauth-flow.ts';

/**
 * Wallet attestation at the token endpoint (OID4VCI 1.0 Appendix E, draft-ietf-oauth-attestation-
 * based-client-auth as @openid4vc/oauth2 0.4.6 speaks it; HAIP 1.0): an attestation signed by a
 * wallet provider certified by a trusted CA (demo mode: the demo city CA) authenticates the wallet;
 * anything else is invalid_client; an office can require it.
 */
describe('wallet attestation (OAuth-Client-Attestation) at the token endpoint', () => {
  let iss: RunningIssuer;
  let trusted: Key & { x5c: string[] };
  let untrusted: Key & { x5c: string[] };
  let instance: Key;
  const CI = () => `${iss.url}/offices/buergerbuero`;

  beforeAll(async () => {
    iss = await startTestIssuer({ env: { ISSUER_TRUST_MAX_AGE: '0' } });
    const cityCa: CityCa = await issuerDemoCa(iss);
    const otherCa = await demoCa();
    [trusted, untrusted, instance] = await Promise.all([walletProvider(cityCa), walletProvider(otherCa), newKey()]);
  });
  afterAll(async () => {
    await iss?.close();
  });

  it('advertises attest_jwt_client_auth beside none', async () => {
    const as = await (await fetch(`${iss.url}/.well-known/oauth-authorization-server/offices/buergerbuero`)).json();
    expect(as.token_endpoint_auth_methods_supported).toEqual(['none', 'attest_jwt_client_auth']);
  });

  it('accepts an attestation from a trusted wallet provider: the token names the wallet as client_id', async () => {
    const { res, body } = await tokenRequest(iss, await createOffer(iss), await walletAttestationHeaders(trusted, instance, { aud: CI() }));
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(decodeJwt(body.access_token as string).client_id).toBe('wallet-instance-1');
    // OID4VCI 1.0 Appendix F.1: the key proof's iss, if present, is that client_id (and nothing else).
    const holder = await newKey();
    const proofWith = async (issuer: string) => {
      const { cNonce } = await nonces(iss);
      return new SignJWT({ iss: issuer, aud: CI(), nonce: cNonce, iat: Math.floor(Date.now() / 1000) }).setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: holder.publicJwk }).sign(holder.privateKey);
    };
    const wrong = await credentialRequest(iss, `Bearer ${body.access_token}`, [await proofWith('another-wallet')]);
    expect(wrong.res.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_proof');
    const right = await credentialRequest(iss, `Bearer ${body.access_token}`, [await proofWith('wallet-instance-1')]);
    expect(right.res.status, JSON.stringify(right.body)).toBe(200);
  });

  it('refuses an attestation from a CA the issuer does not trust with invalid_client (401), and redeems nothing', async () => {
    const offer = await createOffer(iss);
    const { res, body } = await tokenRequest(iss, offer, await walletAttestationHeaders(untrusted, instance, { aud: CI() }));
    expect(res.status).toBe(401);
    expect(body.error).toBe('invalid_client');
    expect((await tokenRequest(iss, offer)).res.status).toBe(200);
  });

  it('refuses a PoP for another audience, a replayed PoP, a stale PoP, a lone header and a self-signed attestation', async () => {
    const offer = await createOffer(iss);
    const replayed = await walletAttestationHeaders(trusted, instance, { aud: CI() });
    expect((await tokenRequest(iss, await createOffer(iss), replayed)).res.status).toBe(200);
    const selfSigned = await walletAttestationHeaders({ ...instance, x5c: [] }, instance, { aud: CI(), header: { x5c: undefined, jwk: instance.publicJwk } });
    const cases = [
      await walletAttestationHeaders(trusted, instance, { aud: `${iss.url}/offices/bibliothek` }),
      replayed,
      await walletAttestationHeaders(trusted, instance, { aud: CI(), popIat: Math.floor(Date.now() / 1000) - 1800 }),
      { 'OAuth-Client-Attestation': replayed['OAuth-Client-Attestation']! },
      selfSigned,
    ];
    for (const headers of cases) {
      const { res, body } = await tokenRequest(iss, offer, headers);
      // RFC 6749 §5.2: invalid_client is 401 (the library answers the lone header while parsing, with 400).
      expect(res.status, JSON.stringify(body)).toBe('OAuth-Client-Attestation-PoP' in headers ? 401 : 400);
      expect(body.error).toBe('invalid_client');
    }
    // None of them redeemed the code.
    expect((await tokenRequest(iss, offer)).res.status).toBe(200);
  });

  it('with DPoP: a use_dpop_nonce answer does not burn the attestation PoP, the retry with the same headers succeeds', async () => {
    const dpopKey = await newKey();
    const offer = await createOffer(iss);
    const att = await walletAttestationHeaders(trusted, instance, { aud: CI() });
    const first = await tokenRequest(iss, offer, { ...att, DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss) }) });
    expect(first.body.error).toBe('use_dpop_nonce');
    const retry = await tokenRequest(iss, offer, { ...att, DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce: first.res.headers.get('dpop-nonce')! }) });
    expect(retry.res.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body.token_type).toBe('DPoP');
  });

  it('an office that requires wallet attestation refuses a token request without one, and accepts one with it', async () => {
    await patchOffice(iss, 'buergerbuero', (d) => ({ ...d, oauth: { require_dpop: false, require_wallet_attestation: true } }));
    try {
      const as = await (await fetch(`${iss.url}/.well-known/oauth-authorization-server/offices/buergerbuero`)).json();
      expect(as.token_endpoint_auth_methods_supported).toEqual(['attest_jwt_client_auth']);
      const offer = await createOffer(iss);
      const without = await tokenRequest(iss, offer);
      expect(without.res.status).toBe(401);
      expect(without.body.error).toBe('invalid_client');
      const withIt = await tokenRequest(iss, offer, await walletAttestationHeaders(trusted, instance, { aud: CI() }));
      expect(withIt.res.status, JSON.stringify(withIt.body)).toBe(200);
      // Other offices are not affected.
      const { cNonce } = await nonces(iss, 'bibliothek');
      expect(cNonce).toBeTruthy();
    } finally {
      await patchOffice(iss, 'buergerbuero', (d) => ({ ...d, oauth: { require_dpop: false, require_wallet_attestation: false } }));
    }
  });
});
