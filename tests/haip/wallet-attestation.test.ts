import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, SignJWT } from 'jose';
import type { CityCa } from '../../core/x509/city-ca.ts';
import { ourDescription } from '../../issuer/protocol-errors.ts';
import { startTestIssuer, type RunningIssuer } from '../helpers/issuer.ts';
import { demoCa } from './haip-fixtures.ts';
import { createOffer, credentialRequest, credentialUrl, dpopProof, issuerDemoCa, newKey, nonces, patchOffice, thumbprint, tokenRequest, tokenUrl, walletAttestationHeaders, walletProvider, type Key } from './oauth-flow.ts';

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

/**
 * draft-ietf-oauth-attestation-based-client-auth-07: server challenges (`challenge_endpoint`, the
 * `OAuth-Client-Attestation-Challenge` header, `use_attestation_challenge`), single-use PoPs, the
 * attested key beside the DPoP key, and error descriptions that are ours (issuer/protocol-errors.ts).
 */
describe('wallet attestation challenges, key binding and our error texts', () => {
  let iss: RunningIssuer;
  let provider: Key & { x5c: string[] };
  let instance: Key;
  // The issuer's clock: real time plus `skew`, so a test can let a challenge expire without waiting.
  let skew = 0;
  const issuerNow = () => Math.floor((Date.now() + skew) / 1000);
  const CI = (slug = 'buergerbuero') => `${iss.url}/offices/${slug}`;
  const challengeOf = async (slug = 'buergerbuero') => {
    const res = await fetch(`${CI(slug)}/challenge`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return ((await res.json()) as { attestation_challenge: string }).attestation_challenge;
  };
  /** Attestation and PoP like oauth-flow.ts walletAttestationHeaders, with a `challenge` claim and the issuer's clock. */
  const attest = async (o: { challenge?: string; sub?: string; popIss?: string; key?: Key } = {}) => {
    const key = o.key ?? instance;
    const sub = o.sub ?? 'wallet-instance-1';
    const t = issuerNow();
    const attestation = await new SignJWT({ iss: 'https://wallet-provider.example', sub, iat: t, exp: t + 3600, cnf: { jwk: key.publicJwk } })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation+jwt', x5c: provider.x5c })
      .sign(provider.privateKey);
    const pop = await new SignJWT({ iss: o.popIss ?? sub, aud: CI(), iat: t, exp: t + 300, jti: randomBytes(16).toString('base64url'), ...(o.challenge !== undefined ? { challenge: o.challenge } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation-pop+jwt' })
      .sign(key.privateKey);
    return { 'OAuth-Client-Attestation': attestation, 'OAuth-Client-Attestation-PoP': pop };
  };
  const requireChallenge = (on: boolean) => patchOffice(iss, 'buergerbuero', (d) => ({ ...d, oauth: { require_dpop: false, require_wallet_attestation: on, require_attestation_challenge: on } }));

  beforeAll(async () => {
    iss = await startTestIssuer({ env: { ISSUER_TRUST_MAX_AGE: '0' }, clock: () => Date.now() + skew });
    [provider, instance] = await Promise.all([issuerDemoCa(iss).then((ca) => walletProvider(ca)), newKey()]);
  });
  afterAll(async () => {
    await iss?.close();
  });

  it('advertises challenge_endpoint; it answers a fresh attestation_challenge per office, not cacheable', async () => {
    const as = await (await fetch(`${iss.url}/.well-known/oauth-authorization-server/offices/buergerbuero`)).json();
    expect(as.challenge_endpoint).toBe(`${CI()}/challenge`);
    const [a, b] = [await challengeOf(), await challengeOf()];
    expect(a).not.toBe(b);
    expect((await fetch(`${iss.url}/offices/no-such-office/challenge`, { method: 'POST' })).status).toBe(404);
  });

  it('accepts a PoP with a fetched challenge (offices that do not require one too)', async () => {
    const { res, body } = await tokenRequest(iss, await createOffer(iss), await attest({ challenge: await challengeOf() }));
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(decodeJwt(body.access_token as string).client_id).toBe('wallet-instance-1');
  });

  it('an office that requires challenges: a PoP without one is use_attestation_challenge with a fresh challenge in the header, which then works', async () => {
    await requireChallenge(true);
    try {
      const offer = await createOffer(iss);
      const first = await tokenRequest(iss, offer, await attest());
      expect(first.res.status, JSON.stringify(first.body)).toBe(400);
      expect(first.body.error).toBe('use_attestation_challenge');
      const challenge = first.res.headers.get('oauth-client-attestation-challenge');
      expect(challenge).toBeTruthy();
      const retry = await tokenRequest(iss, offer, await attest({ challenge: challenge! }));
      expect(retry.res.status, JSON.stringify(retry.body)).toBe(200);
      // And one from the challenge endpoint.
      const viaEndpoint = await tokenRequest(iss, await createOffer(iss), await attest({ challenge: await challengeOf() }));
      expect(viaEndpoint.res.status, JSON.stringify(viaEndpoint.body)).toBe(200);
    } finally {
      await requireChallenge(false);
    }
  });

  it('with DPoP: a use_attestation_challenge answer does not burn the DPoP proof, the retry with the same proof and a challenged PoP succeeds', async () => {
    await requireChallenge(true);
    try {
      const offer = await createOffer(iss);
      const dpop = await dpopProof(await newKey(), { htm: 'POST', htu: tokenUrl(iss), nonce: (await nonces(iss)).dpopNonce });
      const first = await tokenRequest(iss, offer, { ...(await attest()), DPoP: dpop });
      expect(first.body.error).toBe('use_attestation_challenge');
      const retry = await tokenRequest(iss, offer, { ...(await attest({ challenge: first.res.headers.get('oauth-client-attestation-challenge')! })), DPoP: dpop });
      expect(retry.res.status, JSON.stringify(retry.body)).toBe(200);
      expect(retry.body.token_type).toBe('DPoP');
    } finally {
      await requireChallenge(false);
    }
  });

  it('refuses a forged, foreign, wrong-purpose or expired challenge with use_attestation_challenge, and redeems nothing', async () => {
    const offer = await createOffer(iss);
    const good = await challengeOf();
    const flipped = good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA');
    const cases: [string, string][] = [
      ['forged MAC', flipped],
      ['made up', 'kq2x3f.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAA'],
      ["another office's", await challengeOf('bibliothek')],
      ['a DPoP nonce (other purpose, same key)', (await nonces(iss)).dpopNonce],
      ['not a string', 42 as unknown as string],
    ];
    for (const [what, challenge] of cases) {
      const { res, body } = await tokenRequest(iss, offer, await attest({ challenge }));
      expect(res.status, `${what}: ${JSON.stringify(body)}`).toBe(400);
      expect(body.error, what).toBe('use_attestation_challenge');
      expect(res.headers.get('oauth-client-attestation-challenge'), what).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{24}$/);
    }
    // Expired: fetched now, used after its 5 minutes (the issuer's clock moves on).
    const old = await challengeOf();
    skew = 301_000;
    try {
      const { res, body } = await tokenRequest(iss, offer, await attest({ challenge: old }));
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(body.error).toBe('use_attestation_challenge');
      // The fresh one in the header is valid at the new time.
      const retry = await tokenRequest(iss, offer, await attest({ challenge: res.headers.get('oauth-client-attestation-challenge')! }));
      expect(retry.res.status, JSON.stringify(retry.body)).toBe(200);
    } finally {
      skew = 0;
    }
  });

  it('PAR (RFC 9126) applies the same rules: without a challenge use_attestation_challenge, with one a request_uri', async () => {
    await requireChallenge(true);
    try {
      const par = async (headers: Record<string, string>) => {
        const verifier = randomBytes(32).toString('base64url');
        const form = { response_type: 'code', client_id: 'wallet-instance-1', redirect_uri: 'https://wallet.example/cb', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', scope: 'meldebescheinigung_sd_jwt', state: 's1' };
        const res = await fetch(`${CI()}/par`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });
        return { res, body: (await res.json()) as Record<string, unknown> };
      };
      const without = await par(await attest());
      expect(without.res.status, JSON.stringify(without.body)).toBe(400);
      expect(without.body.error).toBe('use_attestation_challenge');
      const withIt = await par(await attest({ challenge: without.res.headers.get('oauth-client-attestation-challenge')! }));
      expect(withIt.res.status, JSON.stringify(withIt.body)).toBe(201);
      expect(withIt.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    } finally {
      await requireChallenge(false);
    }
  });

  it('a PoP is used once, also with a valid challenge (jti)', async () => {
    const headers = await attest({ challenge: await challengeOf() });
    expect((await tokenRequest(iss, await createOffer(iss), headers)).res.status).toBe(200);
    const offer = await createOffer(iss);
    const again = await tokenRequest(iss, offer, headers);
    expect(again.res.status).toBe(401);
    expect(again.body.error).toBe('invalid_client');
    expect((await tokenRequest(iss, offer)).res.status).toBe(200);
  });

  it('the DPoP key may be the attested instance key or another key: both bind the token to the DPoP key and the attested client', async () => {
    const other = await newKey();
    for (const [what, dpopKey] of [['same key', instance], ['different key', other]] as const) {
      const { dpopNonce } = await nonces(iss);
      const { res, body } = await tokenRequest(iss, await createOffer(iss), { ...(await attest()), DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(iss), nonce: dpopNonce }) });
      expect(res.status, `${what}: ${JSON.stringify(body)}`).toBe(200);
      expect(body.token_type, what).toBe('DPoP');
      const token = decodeJwt(body.access_token as string);
      expect((token.cnf as { jkt: string }).jkt, what).toBe(await thumbprint(dpopKey.publicJwk));
      expect(token.client_id, what).toBe('wallet-instance-1');
    }
    // A PoP not signed by the attested key stays refused, whatever the DPoP key.
    const att = await attest();
    const stranger = await attest({ key: other });
    const { dpopNonce } = await nonces(iss);
    const mixed = await tokenRequest(iss, await createOffer(iss), { 'OAuth-Client-Attestation': att['OAuth-Client-Attestation'], 'OAuth-Client-Attestation-PoP': stranger['OAuth-Client-Attestation-PoP'], DPoP: await dpopProof(instance, { htm: 'POST', htu: tokenUrl(iss), nonce: dpopNonce }) });
    expect(mixed.res.status).toBe(401);
    expect(mixed.body.error).toBe('invalid_client');
  });

  it('error descriptions are ours: nothing the client sent and no library text in the body or the WWW-Authenticate challenge', async () => {
    const MARK = 'ZZmarkZZ';
    const ours = (code: string, d: unknown) => {
      expect(typeof d).toBe('string');
      expect(d as string).not.toContain(MARK);
      expect((d as string).startsWith(ourDescription(code).replace(/\.$/, '')), `${code}: ${d}`).toBe(true);
      expect(d as string).not.toMatch(/jwt verification|Error verifying|does not match expected value|'iss'|client_id\) value|zod|Invalid input/);
    };
    // The library refuses a PoP whose iss is not the attestation's sub, quoting both.
    const popIss = await tokenRequest(iss, await createOffer(iss), await attest({ popIss: `https://${MARK}.example` }));
    expect(popIss.res.status).toBe(401);
    expect(popIss.body.error).toBe('invalid_client');
    ours('invalid_client', popIss.body.error_description);
    // A forged access token whose iss the library would name, as Bearer and as DPoP.
    const forged = `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: `https://${MARK}.example`, aud: CI(), exp: issuerNow() + 60, iat: issuerNow(), sub: MARK })).toString('base64url')}.${'A'.repeat(86)}`;
    const { cNonce } = await nonces(iss);
    const holder = await newKey();
    const proof = await new SignJWT({ aud: CI(), nonce: cNonce, iat: issuerNow() }).setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: holder.publicJwk }).sign(holder.privateKey);
    const bearer = await credentialRequest(iss, `Bearer ${forged}`, [proof]);
    expect(bearer.res.status).toBe(401);
    expect(bearer.body.error).toBe('invalid_token');
    ours('invalid_token', bearer.body.error_description);
    const challenge = bearer.res.headers.get('www-authenticate')!;
    expect(challenge).toMatch(/^Bearer error="invalid_token"/);
    expect(challenge).not.toContain(MARK);
    const m = /error_description="([^"]*)"/.exec(challenge);
    if (m) ours('invalid_token', m[1]);
    const dpop = await credentialRequest(iss, `DPoP ${forged}`, [proof], { DPoP: await dpopProof(holder, { htm: 'POST', htu: credentialUrl(iss), accessToken: forged, nonce: (await nonces(iss)).dpopNonce }) });
    expect(dpop.res.status).toBe(401);
    ours(dpop.body.error as string, dpop.body.error_description);
    expect(dpop.res.headers.get('www-authenticate')).not.toContain(MARK);
  });
});
