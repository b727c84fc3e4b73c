import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createLogger } from '../../core/log/logger.ts';
import { loadIssuerConfig } from '../../issuer/config.ts';
import { startIssuer } from '../../issuer/service.ts';
import { ISSUER_TOKEN, startTestIssuer, type RunningIssuer } from '../helpers/issuer.ts';
import { freePort } from '../helpers/net.ts';
import { createCredoHolder } from '../helpers/credo/holder.ts';
import { createOffer, credentialRequest, credentialUrl, dpopProof, keyProof, newKey, nonces, patchOffice, thumbprint, tokenRequest, tokenUrl, type Key } from './oauth-flow.ts';

/**
 * DPoP at the issuer (RFC 9449, HAIP 1.0; issue 17): the token endpoint binds the access token to the
 * proof key (token_type DPoP, cnf.jkt) after checking the proof and our server nonce; the credential
 * endpoint takes that token only with the DPoP scheme and a fresh proof with ath, once per jti.
 */
describe('DPoP (RFC 9449) at the token and credential endpoints', () => {
  let iss: RunningIssuer;
  let dpopKey: Key;
  let holder: Key;
  const CI = () => `${iss.url}/offices/buergerbuero`;

  beforeAll(async () => {
    iss = await startTestIssuer({ env: { ISSUER_TRUST_MAX_AGE: '0' } });
    [dpopKey, holder] = await Promise.all([newKey(), newKey()]);
  });
  afterAll(async () => {
    await iss?.close();
  });

  /** Token request with a DPoP proof carrying a valid server nonce. */
  async function boundToken(key = dpopKey) {
    const offer = await createOffer(iss);
    const { dpopNonce } = await nonces(iss);
    const { res, body } = await tokenRequest(iss, offer, { DPoP: await dpopProof(key, { htm: 'POST', htu: tokenUrl(iss), nonce: dpopNonce }) });
    expect(res.status, JSON.stringify(body)).toBe(200);
    return { token: body.access_token as string, body, nonce: res.headers.get('dpop-nonce')! };
  }

  it('advertises ES256 DPoP in the authorization server metadata (RFC 9449 §5.1)', async () => {
    const as = await (await fetch(`${iss.url}/.well-known/oauth-authorization-server/offices/buergerbuero`)).json();
    expect(as.dpop_signing_alg_values_supported).toEqual(['ES256']);
  });

  it('issues a DPoP-bound token (token_type DPoP, cnf.jkt) and a credential bound to the holder key with it', async () => {
    const { token, body, nonce } = await boundToken();
    expect(body.token_type).toBe('DPoP');
    expect((decodeJwt(token).cnf as { jkt: string }).jkt).toBe(await thumbprint(dpopKey.publicJwk));
    expect(nonce).toBeTruthy();
    const { cNonce } = await nonces(iss);
    const proof = await keyProof(holder, { aud: CI(), nonce: cNonce });
    const dpop = await dpopProof(dpopKey, { htm: 'POST', htu: credentialUrl(iss), nonce, accessToken: token });
    const { res, body: cred } = await credentialRequest(iss, `DPoP ${token}`, [proof], { DPoP: dpop });
    expect(res.status, JSON.stringify(cred)).toBe(200);
    expect(res.headers.get('dpop-nonce')).toBeTruthy();
    const sdJwt = (cred.credentials as { credential: string }[])[0]!.credential;
    // The credential binds the proof key, not the DPoP key.
    const payload = decodeJwt(sdJwt.split('~')[0]!);
    expect((payload.cnf as { jwk: { x: string } }).jwk.x).toBe(holder.publicJwk.x);
  });

  it('answers a token request without a nonce with 400 use_dpop_nonce and a DPoP-Nonce header; the retry with it works', async () => {
    const offer = await createOffer(iss);
    const first = await tokenRequest(iss, offer, { DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss) }) });
    expect(first.res.status).toBe(400);
    expect(first.body.error).toBe('use_dpop_nonce');
    const nonce = first.res.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    // The refused attempt redeemed nothing: the same code works with a proof carrying the nonce.
    const retry = await tokenRequest(iss, offer, { DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce: nonce! }) });
    expect(retry.res.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body.token_type).toBe('DPoP');
  });

  it('refuses a forged, foreign-office or expired nonce with use_dpop_nonce', async () => {
    const offer = await createOffer(iss);
    const { dpopNonce } = await nonces(iss);
    const [exp, rnd, mac] = dpopNonce.split('.') as [string, string, string];
    const forged = `${(parseInt(exp, 36) + 3600).toString(36)}.${rnd}.${mac}`;
    const { dpopNonce: other } = await nonces(iss, 'bibliothek');
    const expired = `${(Math.floor(Date.now() / 1000) - 10).toString(36)}.${rnd}.${mac}`;
    for (const nonce of [forged, other, expired, 'not-a-nonce']) {
      const r = await tokenRequest(iss, offer, { DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce }) });
      expect(r.res.status).toBe(400);
      expect(r.body.error).toBe('use_dpop_nonce');
      expect(r.res.headers.get('dpop-nonce')).toBeTruthy();
    }
  });

  it('refuses a replayed proof (same jti) at the token endpoint with invalid_dpop_proof', async () => {
    const { dpopNonce } = await nonces(iss);
    const proof = await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce: dpopNonce });
    const a = await tokenRequest(iss, await createOffer(iss), { DPoP: proof });
    expect(a.res.status).toBe(200);
    const b = await tokenRequest(iss, await createOffer(iss), { DPoP: proof });
    expect(b.res.status).toBe(400);
    expect(b.body.error).toBe('invalid_dpop_proof');
  });

  it('a second instance on the same database accepts the first one\'s nonce and refuses a proof the first one accepted', async () => {
    // Two processes behind one public URL (as a load balancer would put them): nonces are stateless
    // (HMAC under the shared secret), jti single use is the database's primary key.
    const port = await freePort();
    const config = loadIssuerConfig({ ISSUER_PUBLIC_URL: iss.url, ISSUER_PORT: String(port), REGISTRY_PUBLIC_URL: iss.registry.url, REGISTRY_PORT: String(new URL(iss.registry.url).port), DATA_DIR: iss.registry.dataDir, ISSUER_ADMIN_TOKEN: ISSUER_TOKEN, KEY_ENCRYPTION_SECRET: 'a'.repeat(64), ISSUER_TRUST_MAX_AGE: '0' });
    const second = await startIssuer(config, createLogger('issuer', 'silent'));
    try {
      const { dpopNonce } = await nonces(iss);
      const proof = await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce: dpopNonce });
      const viaSecond = (offer: { code: string; tx_code: string }) =>
        fetch(`http://localhost:${port}/offices/buergerbuero/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', DPoP: proof }, body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': offer.code, tx_code: offer.tx_code }).toString() });
      const a = await tokenRequest(iss, await createOffer(iss), { DPoP: proof });
      expect(a.res.status).toBe(200);
      const b = await viaSecond(await createOffer(iss));
      expect(b.status).toBe(400);
      expect((await b.json()).error).toBe('invalid_dpop_proof');
      // The other way round: a fresh proof with the first instance's nonce is accepted by the second.
      const c = await fetch(`http://localhost:${port}/offices/buergerbuero/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce: dpopNonce }) }, body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': (await createOffer(iss)).code, tx_code: '000000' }).toString() });
      // Past DPoP: the request fails at the (wrong) tx_code, not at the proof.
      expect((await c.json()).error).toBe('invalid_grant');
    } finally {
      await second.close();
    }
  });

  it('refuses proofs with the wrong htu, htm, typ, a stale iat or a private key in jwk', async () => {
    const { dpopNonce: nonce } = await nonces(iss);
    const bad = [
      await dpopProof(dpopKey, { htm: 'POST', htu: `${iss.url}/offices/bibliothek/token`, nonce }),
      await dpopProof(dpopKey, { htm: 'GET', htu: tokenUrl(iss), nonce }),
      await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce, typ: 'jwt' }),
      await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce, iat: Math.floor(Date.now() / 1000) - 3600 }),
      'not.a.jwt',
    ];
    const offer = await createOffer(iss);
    for (const proof of bad) {
      const r = await tokenRequest(iss, offer, { DPoP: proof });
      expect(r.res.status, proof).toBe(400);
      expect(r.body.error).toBe('invalid_dpop_proof');
    }
    // None of them redeemed the code.
    const ok = await tokenRequest(iss, offer, { DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce }) });
    expect(ok.res.status).toBe(200);
  });

  it('credential endpoint: refuses wrong ath, wrong htu, another key, no proof, a replayed proof, and a missing nonce (401 use_dpop_nonce + DPoP-Nonce)', async () => {
    const { token, nonce } = await boundToken();
    const other = await newKey();
    const { cNonce } = await nonces(iss);
    const proof = await keyProof(holder, { aud: CI(), nonce: cNonce });
    const cases: [Record<string, string>, string][] = [
      [{ DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: credentialUrl(iss), nonce, accessToken: 'another-token' }) }, 'invalid_dpop_proof'],
      [{ DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: `${iss.url}/offices/buergerbuero/deferred_credential`, nonce, accessToken: token }) }, 'invalid_dpop_proof'],
      [{ DPoP: await dpopProof(dpopKey, { htm: 'PUT', htu: credentialUrl(iss), nonce, accessToken: token }) }, 'invalid_dpop_proof'],
      [{ DPoP: await dpopProof(other, { htm: 'POST', htu: credentialUrl(iss), nonce, accessToken: token }) }, 'invalid_dpop_proof'],
      [{}, 'invalid_dpop_proof'],
    ];
    for (const [headers, error] of cases) {
      const r = await credentialRequest(iss, `DPoP ${token}`, [proof], headers);
      expect(r.res.status, JSON.stringify(r.body)).toBe(401);
      expect(r.body.error).toBe(error);
      expect(r.res.headers.get('www-authenticate')).toMatch(/^DPoP /);
    }
    const noNonce = await credentialRequest(iss, `DPoP ${token}`, [proof], { DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: credentialUrl(iss), accessToken: token }) });
    expect(noNonce.res.status).toBe(401);
    expect(noNonce.body.error).toBe('use_dpop_nonce');
    expect(noNonce.res.headers.get('www-authenticate')).toMatch(/error="use_dpop_nonce"/);
    const fresh = noNonce.res.headers.get('dpop-nonce')!;
    // Replay: a proof that was accepted once is refused the second time, even for an otherwise valid request.
    const good = await dpopProof(dpopKey, { htm: 'POST', htu: credentialUrl(iss), nonce: fresh, accessToken: token });
    const first = await credentialRequest(iss, `DPoP ${token}`, [proof], { DPoP: good });
    expect(first.res.status, JSON.stringify(first.body)).toBe(200);
    const replay = await credentialRequest(iss, `DPoP ${token}`, [proof], { DPoP: good });
    expect(replay.res.status).toBe(401);
    expect(replay.body.error).toBe('invalid_dpop_proof');
  });

  it('answers a forged token that quotes non-Latin-1 text back in the library error with 401, not 500 (either scheme)', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = { iss: 'h\u00e9llo\u2028x', aud: 'a', sub: 's', iat: 1, exp: 9999999999, jti: 'j' };
    const forged = (payload: unknown) => `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'x' })}.${b64(payload)}.${Buffer.from('sig').toString('base64url')}`;
    for (const auth of [`Bearer ${forged(claims)}`, `DPoP ${forged({ ...claims, cnf: { jkt: 'x' } })}`]) {
      const r = await fetch(credentialUrl(iss), { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth, DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: credentialUrl(iss) }) }, body: '{}' });
      expect(r.status).toBe(401);
      expect((await r.json()).error).toMatch(/^invalid_(token|dpop_proof)$/);
    }
  });

  it('refuses a DPoP-bound token presented as Bearer (RFC 9449 §7.1), with or without a proof', async () => {
    const { token, nonce } = await boundToken();
    const { cNonce } = await nonces(iss);
    const proof = await keyProof(holder, { aud: CI(), nonce: cNonce });
    for (const headers of [{} as Record<string, string>, { DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: credentialUrl(iss), nonce, accessToken: token }) }]) {
      const r = await credentialRequest(iss, `Bearer ${token}`, [proof], headers);
      expect(r.res.status).toBe(401);
      expect(r.body.error).toBe('invalid_token');
    }
  });

  it('third-party proof: Credo 0.6 (which uses DPoP when the metadata advertises it) receives a credential from an office that requires DPoP', async () => {
    await patchOffice(iss, 'buergerbuero', (d) => ({ ...d, oauth: { require_dpop: true, require_wallet_attestation: false } }));
    // The wallet trusts the demo city CA: the credential comes with `x5c` and the office's https `iss` (docs/haip.md).
    const holder = await createCredoHolder({ trustedCertificates: [readFileSync(join(iss.registry.dataDir, 'city-ca', 'city-ca.pem'), 'utf8')] });
    try {
      const o = await createOffer(iss);
      const api = holder.agent.modules.openid4vc.holder;
      const resolvedCredentialOffer = await api.resolveCredentialOffer(`openid-credential-offer://?credential_offer_uri=${encodeURIComponent(o.credential_offer_uri)}`);
      const token = await api.requestToken({ resolvedCredentialOffer, txCode: o.tx_code });
      expect(token.dpop).toBeDefined();
      expect(token.accessTokenResponse.token_type).toBe('DPoP');
      const { credentials } = await api.requestCredentials({ resolvedCredentialOffer, ...token, credentialBindingResolver: holder.credentialBindingResolver });
      expect(credentials).toHaveLength(1);
    } finally {
      await holder.agent.shutdown();
      await patchOffice(iss, 'buergerbuero', (d) => ({ ...d, oauth: { require_dpop: false, require_wallet_attestation: false } }));
    }
  });

  it('keeps Bearer tokens for wallets without DPoP, until the office requires DPoP; then refuses a token request without a proof', async () => {
    const offer = await createOffer(iss);
    const plain = await tokenRequest(iss, offer);
    expect(plain.res.status).toBe(200);
    expect(plain.body.token_type).toBe('Bearer');

    await patchOffice(iss, 'buergerbuero', (d) => ({ ...d, oauth: { require_dpop: true, require_wallet_attestation: false } }));
    try {
      const refused = await tokenRequest(iss, await createOffer(iss));
      expect(refused.res.status).toBe(400);
      expect(refused.body.error).toBe('invalid_dpop_proof');
      // A Bearer token issued before the change is no longer accepted at the credential endpoint.
      const { cNonce } = await nonces(iss);
      const r = await credentialRequest(iss, `Bearer ${plain.body.access_token}`, [await keyProof(holder, { aud: CI(), nonce: cNonce })]);
      expect(r.res.status).toBe(401);
      expect(r.body.error).toBe('invalid_token');
      // With DPoP the office still issues.
      const { token } = await boundToken();
      expect(decodeJwt(token).cnf).toBeTruthy();
    } finally {
      await patchOffice(iss, 'buergerbuero', (d) => ({ ...d, oauth: { require_dpop: false, require_wallet_attestation: false } }));
    }
  });
});
