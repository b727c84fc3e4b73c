import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { publicKeyObject } from '../../core/crypto/jwk.ts';
import { Openid4vciVersion } from '@openid4vc/openid4vci';
import { createDidResolver, resolveAssertionKey } from '../../core/did/resolver.ts';
import { verifySdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { VCT } from '../../core/demo/leipzig.ts';
import { startTestIssuer, type RunningIssuer } from '../helpers/issuer.ts';
import { newHolderKey, testWallet, type HolderKey } from '../helpers/oid4vci-wallet.ts';
import { MELDE } from '../helpers/fixtures.ts';


describe('issuer: OID4VCI 1.0 pre-authorized code flow, played by the @openid4vc wallet client', () => {
  let iss: RunningIssuer;
  let keys: HolderKey[];
  /** The issuer's clock runs this far ahead of real time (to expire offers without waiting). */
  let shift = 0;
  beforeAll(async () => {
    iss = await startTestIssuer({ env: { ISSUER_TRUST_MAX_AGE: '0' }, clock: () => Date.now() + shift });
    keys = await Promise.all([newHolderKey(), newHolderKey(), newHolderKey()]);
  });
  afterAll(async () => {
    await iss.close();
  });

  const offer = async (slug = 'buergerbuero', configuration = 'meldebescheinigung_sd_jwt', claims: unknown = MELDE) => {
    const res = await iss.admin(`/api/offices/${slug}/offers`, { credential_configuration_id: configuration, claims });
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json() as Promise<{ offer_id: string; credential_offer: string; credential_offer_uri: string; tx_code: string; expires_at: string }>;
  };

  /** Resolves an offer and its metadata, and redeems the code. */
  const redeem = async (o: { credential_offer: string; tx_code: string }) => {
    const { client } = testWallet(keys);
    const credentialOffer = await client.resolveCredentialOffer(o.credential_offer);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code });
    return { credentialOffer, issuerMetadata, accessToken: accessTokenResponse.access_token, accessTokenResponse };
  };

  const proofFor = async (issuerMetadata: Awaited<ReturnType<typeof redeem>>['issuerMetadata'], key: HolderKey, nonce: string, configurationId = 'meldebescheinigung_sd_jwt') => {
    const { client, signer } = testWallet(keys);
    return (await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configurationId, signer: signer(key), nonce })).jwt;
  };

  const credentialRequest = (accessToken: string | null, body: unknown) =>
    fetch(`${iss.url}/offices/buergerbuero/credential`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
      body: JSON.stringify(body),
    });

  const nonce = async () => (await (await fetch(`${iss.url}/offices/buergerbuero/nonce`, { method: 'POST' })).json()).c_nonce as string;

  it('issues an SD-JWT VC that verifies independently against the office’s did:web', async () => {
    const o = await offer();
    expect(o.credential_offer).toMatch(/^openid-credential-offer:\/\/\?credential_offer_uri=/);
    expect(o.tx_code).toMatch(/^\d{6}$/);
    const { client } = testWallet(keys);
    const { issuerMetadata, accessToken, accessTokenResponse, credentialOffer } = await redeem(o);
    expect(issuerMetadata.originalDraftVersion).toBe(Openid4vciVersion.V1);
    expect(credentialOffer.grants?.['urn:ietf:params:oauth:grant-type:pre-authorized_code']?.tx_code).toMatchObject({ input_mode: 'numeric', length: 6 });
    expect(accessTokenResponse.c_nonce).toBeUndefined();
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const jwt = await proofFor(issuerMetadata, keys[0]!, c_nonce);
    const result = await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: 'meldebescheinigung_sd_jwt', proofs: { jwt: [jwt] } });
    const credentials = result.credentialResponse.credentials as { credential: string }[];
    expect(credentials).toHaveLength(1);
    const sdJwt = credentials[0]!.credential;

    // Independent check: key from the office's did:web over HTTP, disclosures, cnf, vct, status.
    const resolver = createDidResolver();
    const officeDid = iss.officeDid('buergerbuero');
    const verified = await verifySdJwtVc({
      sdJwt,
      now: Date.now(),
      requireKeyBinding: false,
      issuerKey: async (header) => resolveAssertionKey(resolver, String(header.kid), officeDid),
    });
    if (!verified.ok) throw new Error(`${verified.code}: ${verified.message}`);
    // HAIP (docs/haip.md): with the demo city CA the `iss` is the office's https Credential Issuer
    // Identifier, certified in `x5c` together with the did:web, whose key signed it (the header `kid`).
    expect(verified.iss).toBe(`${iss.url}/offices/buergerbuero`);
    expect(String(decodeProtectedHeader(sdJwt.split('~')[0]!).kid)).toMatch(new RegExp(`^${officeDid}#`));
    expect(decodeProtectedHeader(sdJwt.split('~')[0]!).x5c).toBeInstanceOf(Array);
    expect(verified.vct).toBe(VCT.meldebescheinigung);
    expect(verified.claims).toMatchObject(MELDE);
    expect(verified.payload.cnf).toEqual({ jwk: { kty: 'EC', crv: 'P-256', x: keys[0]!.publicJwk.x, y: keys[0]!.publicJwk.y } });
    expect(verified.status?.status_list.uri).toBe(`${iss.url}/offices/buergerbuero/status-lists/1`);
    // Personal claims are selectively disclosable: none is in the signed payload in clear.
    const payload = decodeJwt(sdJwt.split('~')[0]!);
    for (const k of Object.keys(MELDE)) expect(payload[k]).toBeUndefined();

    const view = await (await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}`)).json();
    expect(view.status).toBe('issued');
    expect(view.credentials).toHaveLength(1);
    expect(view.credentials[0].status_list).toEqual({ uri: verified.status!.status_list.uri, idx: verified.status!.status_list.idx });

    // The status list is served, signed by the office, and says VALID for this index.
    const sl = await fetch(verified.status!.status_list.uri);
    expect(sl.headers.get('content-type')).toContain('application/statuslist+jwt');
    const token = await sl.text();
    expect(decodeJwt(token).sub).toBe(verified.status!.status_list.uri);
  });

  it('issues a W3C VC-JWT (jwt_vc_json) bound to the holder’s did:jwk, verifiable against the office DID', async () => {
    const card = { ausweisnummer: 'LSB-4711', nutzergruppe: 'ermaessigt', gueltig_bis: '2028-06-30', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };
    const o = await offer('bibliothek', 'bibliotheksausweis_jwt_vc', card);
    const { client } = testWallet(keys);
    const { issuerMetadata, accessToken } = await redeem(o);
    expect(issuerMetadata.credentialIssuer.credential_configurations_supported.bibliotheksausweis_jwt_vc?.format).toBe('jwt_vc_json');
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const jwt = await proofFor(issuerMetadata, keys[1]!, c_nonce, 'bibliotheksausweis_jwt_vc');
    const result = await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: 'bibliotheksausweis_jwt_vc', proofs: { jwt: [jwt] } });
    const vcJwt = (result.credentialResponse.credentials as { credential: string }[])[0]!.credential;
    const header = decodeProtectedHeader(vcJwt);
    const key = await resolveAssertionKey(createDidResolver(), String(header.kid), iss.officeDid('bibliothek'));
    const { payload } = await jwtVerify(vcJwt, publicKeyObject(key), { algorithms: ['ES256'], issuer: iss.officeDid('bibliothek') });
    const { kty, crv, x, y } = keys[1]!.publicJwk;
    expect(payload.sub).toBe(`did:jwk:${Buffer.from(JSON.stringify({ crv, kty, x, y })).toString('base64url')}`);
    expect((payload.vc as { type: string[] }).type).toEqual(['VerifiableCredential', 'Bibliotheksausweis']);
    expect((payload.vc as { credentialSubject: Record<string, unknown> }).credentialSubject).toMatchObject(card);
    expect(payload.exp).toBeLessThanOrEqual(Date.parse('2028-06-30T23:59:59Z') / 1000);
  });

  it('issues a batch: one credential per key, each with its own status index and salts', async () => {
    const o = await offer();
    const { client } = testWallet(keys);
    const { issuerMetadata, accessToken } = await redeem(o);
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const proofs = await Promise.all(keys.map((k) => proofFor(issuerMetadata, k, c_nonce)));
    const result = await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: 'meldebescheinigung_sd_jwt', proofs: { jwt: proofs } });
    const creds = (result.credentialResponse.credentials as { credential: string }[]).map((c) => c.credential);
    expect(creds).toHaveLength(3);
    const payloads = creds.map((c) => decodeJwt(c.split('~')[0]!) as { cnf: { jwk: { x: string } }; status: { status_list: { idx: number } }; _sd: string[] });
    expect(new Set(payloads.map((p) => p.cnf.jwk.x)).size).toBe(3);
    expect(new Set(payloads.map((p) => p.status.status_list.idx)).size).toBe(3);
    expect(new Set(payloads.map((p) => p._sd.join())).size).toBe(3);
  });

  it('refuses a batch that proves one key twice, also spelt another way: invalid_proof', async () => {
    const o = await offer();
    const { client } = testWallet(keys);
    const { issuerMetadata, accessToken } = await redeem(o);
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const first = await proofFor(issuerMetadata, keys[0]!, c_nonce);
    // The same key, its members in another order and with a kid: another string, the same RFC 7638 thumbprint.
    const { kty, crv, x, y } = keys[0]!.publicJwk as { kty: string; crv: string; x: string; y: string };
    const second = await new SignJWT({ nonce: c_nonce })
      .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: { y, x, crv, kty, kid: 'again' } })
      .setAudience(issuerMetadata.credentialIssuer.credential_issuer)
      .setIssuedAt()
      .sign(keys[0]!.privateKey);
    const r = await credentialRequest(accessToken, { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [first, second] } });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: 'invalid_proof', error_description: expect.stringMatching(/different key/) });
    // With two keys the same request is answered.
    const other = await proofFor(issuerMetadata, keys[1]!, c_nonce);
    const ok = await credentialRequest(accessToken, { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [first, other] } });
    expect(ok.status).toBe(200);
  });

  it('completes concurrent flows without a server error (one SQLite connection shared by requests)', async () => {
    const { client } = testWallet(keys);
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const o = await offer();
        const { issuerMetadata, accessToken } = await redeem(o);
        const { c_nonce } = await client.requestNonce({ issuerMetadata });
        const r = await credentialRequest(accessToken, { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [await proofFor(issuerMetadata, keys[0]!, c_nonce)] } });
        return r.status;
      }),
    );
    expect(statuses).toEqual(Array(12).fill(200));
  });

  it('refuses an expired offer: no offer object, invalid_grant at the token endpoint, status expired', async () => {
    const o = await offer();
    const credentialOffer = await (await fetch(o.credential_offer_uri)).json();
    const code = credentialOffer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
    shift = 31 * 60_000;
    try {
      expect((await fetch(o.credential_offer_uri)).status).toBe(404);
      const r = await fetch(`${iss.url}/offices/buergerbuero/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: o.tx_code }),
      });
      expect(r.status).toBe(400);
      // RFC 9449 §8: the token endpoint's answers carry a DPoP nonce, refusals too; never cached.
      expect(r.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_.-]{16,}$/);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(await r.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/expired/) });
      expect((await (await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}`)).json()).status).toBe('expired');
    } finally {
      shift = 0;
    }
  });

  it('answers a wrong tx_code with invalid_grant and locks the offer after five', async () => {
    const o = await offer();
    const token = (tx: string, code?: string) =>
      fetch(`${iss.url}/offices/buergerbuero/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code ?? '', tx_code: tx }),
      });
    const credentialOffer = await (await fetch(o.credential_offer_uri)).json();
    const code = credentialOffer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
    const wrong = o.tx_code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const r = await token(wrong, code);
      expect(r.status).toBe(400);
      // RFC 6749 §5.2 invalid_grant with our extension members (docs/contract.md).
      expect(await r.json()).toMatchObject(i < 4 ? { error: 'invalid_grant', id_ideal_reason: 'tx_code_wrong', attempts_remaining: 4 - i } : { error: 'invalid_grant', id_ideal_reason: 'offer_locked' });
    }
    const locked = await token(o.tx_code, code);
    expect(locked.status).toBe(400);
    expect(await locked.json()).toMatchObject({ error: 'invalid_grant', id_ideal_reason: 'offer_locked' });
    expect((await (await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}`)).json()).locked).toBe(true);
    expect((await token(o.tx_code, 'not-a-code')).status).toBe(400);
  });

  it('redeems the code of an offer stored before tx_code hashes were bound to the code, and only at its own office', async () => {
    const o = await offer();
    const credentialOffer = await (await fetch(o.credential_offer_uri)).json();
    const code = credentialOffer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
    const token = (slug: string) =>
      fetch(`${iss.url}/offices/${slug}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: o.tx_code }),
      });
    // As an earlier version stored it: the tx_code hash bound to the offer id.
    await iss.deps.store.ds.query('UPDATE issuer_offers SET tx_code_hash = ? WHERE id = ?', [iss.deps.codes.legacyTxCodeHash(o.offer_id, o.tx_code), o.offer_id]);
    const elsewhere = await token('bibliothek');
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.json()).toMatchObject({ error: 'invalid_grant', id_ideal_reason: 'code_unknown' });
    const r = await token('buergerbuero');
    expect(r.status, await r.clone().text()).toBe(200);
    expect(decodeJwt((await r.json()).access_token).sub).toBe(o.offer_id);
    expect(await (await token('buergerbuero')).json()).toMatchObject({ error: 'invalid_grant', id_ideal_reason: 'code_used' });
  });

  it('gives exactly one access token for one code, also under concurrent requests', async () => {
    const o = await offer();
    const credentialOffer = await (await fetch(o.credential_offer_uri)).json();
    const code = credentialOffer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
    const attempts = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${iss.url}/offices/buergerbuero/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: o.tx_code }),
        }),
      ),
    );
    const statuses = attempts.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
    // The offer object is no longer served once the code is redeemed.
    expect((await fetch(o.credential_offer_uri)).status).toBe(404);
  });

  it('rejects bad proofs with invalid_proof or invalid_nonce, and issues nothing', async () => {
    const o = await offer();
    const { issuerMetadata, accessToken } = await redeem(o);
    const aud = `${iss.url}/offices/buergerbuero`;
    const k = keys[0]!;
    const proof = async (opts: { header?: Record<string, unknown>; payload?: Record<string, unknown>; key?: HolderKey } = {}) =>
      new SignJWT({ aud, iat: Math.floor(Date.now() / 1000), nonce: await nonce(), ...opts.payload })
        .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: k.publicJwk, ...opts.header })
        .sign((opts.key ?? k).privateKey);
    const send = async (jwt: string) => {
      const r = await credentialRequest(accessToken, { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [jwt] } });
      return { status: r.status, body: await r.json() };
    };
    const other = await newHolderKey();
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'openid4vci-proof+jwt', jwk: k.publicJwk })}.${b64({ aud, iat: Math.floor(Date.now() / 1000), nonce: await nonce() })}.`;
    const hs = await new SignJWT({ aud, iat: Math.floor(Date.now() / 1000), nonce: await nonce() })
      .setProtectedHeader({ alg: 'HS256', typ: 'openid4vci-proof+jwt', jwk: k.publicJwk })
      .sign(new TextEncoder().encode(JSON.stringify(k.publicJwk)));

    const cases: [string, string, string][] = [
      ['foreign nonce', await proof({ payload: { nonce: 'a-nonce-we-never-issued' } }), 'invalid_nonce'],
      // c_nonces are stateless (issuer/c-nonce.ts): the MAC binds them to office and purpose.
      ['another office’s nonce', await proof({ payload: { nonce: (await (await fetch(`${iss.url}/offices/sozialamt/nonce`, { method: 'POST' })).json()).c_nonce } }), 'invalid_nonce'],
      ['a DPoP nonce as c_nonce', await proof({ payload: { nonce: (await fetch(`${iss.url}/offices/buergerbuero/nonce`, { method: 'POST' })).headers.get('dpop-nonce') } }), 'invalid_nonce'],
      ['a tampered nonce', await proof({ payload: { nonce: (await nonce()).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) } }), 'invalid_nonce'],
      ['wrong aud', await proof({ payload: { aud: 'https://elsewhere.example' } }), 'invalid_proof'],
      ['wrong typ', await proof({ header: { typ: 'JWT' } }), 'invalid_proof'],
      ['old iat', await proof({ payload: { iat: Math.floor(Date.now() / 1000) - 3600 } }), 'invalid_proof'],
      ['alg none', none, 'invalid_proof'],
      ['HMAC with the public key', hs, 'invalid_proof'],
      ['signed by another key than its header says', await proof({ key: other }), 'invalid_proof'],
    ];
    for (const [what, jwt, code] of cases) {
      const r = await send(jwt);
      expect(r.status, what).toBe(400);
      expect(r.body.error, what).toBe(code);
    }
    // A used nonce is stale.
    const n = await nonce();
    const first = await proofFor(issuerMetadata, k, n);
    expect((await send(first)).status).toBe(200);
    const o2 = await offer();
    const second = await redeem(o2);
    const stale = await credentialRequest(second.accessToken, { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [await proofFor(second.issuerMetadata, k, n)] } });
    expect(stale.status).toBe(400);
    expect((await stale.json()).error).toBe('invalid_nonce');
  });

  it('answers unknown configurations, missing or wrong tokens, and a second request with the protocol’s codes', async () => {
    const o = await offer();
    const { issuerMetadata, accessToken } = await redeem(o);
    const unknown = await credentialRequest(accessToken, { credential_configuration_id: 'personalausweis', proofs: { jwt: ['a.b.c'] } });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toBe('unknown_credential_configuration');
    const noToken = await credentialRequest(null, { credential_configuration_id: 'meldebescheinigung_sd_jwt' });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const badToken = await credentialRequest(`${accessToken.slice(0, -4)}AAAA`, { credential_configuration_id: 'meldebescheinigung_sd_jwt' });
    expect(badToken.status).toBe(401);
    expect((await badToken.json()).error).toBe('invalid_token');
    const garbage = await fetch(`${iss.url}/offices/buergerbuero/credential`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` }, body: '{"credential_configuration_id":' });
    expect(garbage.status).toBe(400);
    expect((await garbage.json()).error).toBe('invalid_request');

    const ok = await credentialRequest(accessToken, { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [await proofFor(issuerMetadata, keys[1]!, await nonce())] } });
    expect(ok.status).toBe(200);
    const again = await credentialRequest(accessToken, { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [await proofFor(issuerMetadata, keys[1]!, await nonce())] } });
    expect(again.status).toBe(401);
  });

  it('keeps a hash-chained audit trail of admin actions, without personal data', async () => {
    const o = await offer();
    const { client } = testWallet(keys);
    const { issuerMetadata, accessToken } = await redeem(o);
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: 'meldebescheinigung_sd_jwt', proofs: { jwt: [await proofFor(issuerMetadata, keys[0]!, c_nonce)] } });
    const [cred] = (await (await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}`)).json()).credentials;
    expect((await iss.admin(`/api/offices/buergerbuero/credentials/${cred.credential_id}/status`, { status: 'suspended' })).status).toBe(200);
    expect((await iss.admin(`/api/offices/buergerbuero/credentials/${cred.credential_id}/status`, { status: 'valid' })).status).toBe(200);
    const { entries } = await (await iss.admin('/api/audit')).json();
    const mine = entries.filter((e: { target: string }) => e.target === o.offer_id || e.target === cred.credential_id);
    expect(mine.map((e: { action: string }) => e.action)).toEqual(['offer.create', 'credential.status', 'credential.status']);
    expect(mine[1]).toMatchObject({ actor: 'admin:bootstrap', details: { office: 'buergerbuero', from: 'valid', to: 'suspended' } });
    expect(JSON.stringify(entries)).not.toContain('Mustermann');
    expect((await (await iss.admin('/api/audit/check')).json()).valid).toBe(true);
    expect((await iss.admin('/api/audit', undefined, null)).status).toBe(401);
  });

  it('serves each offer as a QR code and documents the admin API in /openapi.json', async () => {
    const o = await offer();
    const svg = await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}/qr.svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    expect(await svg.text()).toMatch(/^<svg/);
    const png = await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}/qr.svg?format=png`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    expect((await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}/qr.svg`, undefined, null)).status).toBe(401);
    const doc = await (await fetch(`${iss.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/api/offices/{slug}/offers');
    expect(doc.components.schemas.Claims_meldebescheinigung_sd_jwt.required).toContain('anschrift');
    // API keys and their refusals are documented on every operation.
    expect(doc.paths['/api/offices/{slug}/credentials/{credential_id}/status'].post.responses).toHaveProperty('403');
    expect(doc.paths['/api/offices/{slug}/offers'].post.responses).toHaveProperty('429');
  });

  it('validates offers at the admin API: 400 naming the field, 413, 401, 404', async () => {
    const bad = await iss.admin('/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: { ...MELDE, anschrift: { ...MELDE.anschrift, postleitzahl: '4109' } } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect((await bad.json()).field).toBe('claims.anschrift.postleitzahl');
    const extra = await iss.admin('/api/offices/sozialamt/offers', { credential_configuration_id: 'leipzig_pass_sd_jwt', claims: { ermaessigungsberechtigt: true, gueltig_bis: '2027-12-31', passnummer: 'LP-1234', vorname: 'A', familienname: 'B', geburtsdatum: '1980-01-01', sozialleistung: 'SGB II' } });
    expect(extra.status).toBe(400);
    expect((await extra.json()).field).toBe('claims.sozialleistung');
    const inconsistent = await iss.admin('/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: { ...MELDE, geburtsdatum: '2015-01-01' } });
    expect((await inconsistent.json()).field).toBe('claims.alter_ueber_18');
    expect((await iss.admin('/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE, pad: 'x'.repeat(100_000) })).status).toBe(413);
    expect((await iss.admin('/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE }, null)).status).toBe(401);
    expect((await iss.admin('/api/offices/nirgendwo/offers', { credential_configuration_id: 'x', claims: {} })).status).toBe(404);
    expect((await iss.admin('/api/offices/buergerbuero/offers', { credential_configuration_id: 'leipzig_pass_sd_jwt', claims: {} })).status).toBe(404);
  });

  it('defers an offer that needs a clerk’s approval, then hands the credential out once', async () => {
    const res = await iss.admin('/api/offices/standesamt/offers', {
      credential_configuration_id: 'geburtsurkunde_sd_jwt',
      approval: 'manual',
      claims: { vorname: 'Erika', familienname: 'Mustermann', geburtsname: 'Gabler', geburtsdatum: '1990-04-01', geburtsort: 'Leipzig', registernummer: 'G 1234/1990', standesamt: 'Leipzig' },
    });
    expect(res.status).toBe(201);
    const o = await res.json();
    const { client } = testWallet(keys);
    const { issuerMetadata, accessToken } = await redeem(o);
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const jwt = await proofFor(issuerMetadata, keys[0]!, c_nonce, 'geburtsurkunde_sd_jwt');
    const first = await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: 'geburtsurkunde_sd_jwt', proofs: { jwt: [jwt] } });
    expect(first.response.status).toBe(202);
    const transactionId = first.credentialResponse.transaction_id!;
    expect(transactionId).toBeTruthy();
    const poll = () => client.retrieveDeferredCredentials({ issuerMetadata, accessToken, transactionId });
    expect((await poll()).deferredCredentialResponse.credentials).toBeUndefined();
    expect((await (await iss.admin(`/api/offices/standesamt/offers/${o.offer_id}`)).json()).approved).toBe(false);

    expect((await iss.admin(`/api/offices/standesamt/offers/${o.offer_id}/approve`, {})).status).toBe(200);
    expect((await iss.admin(`/api/offices/standesamt/offers/${o.offer_id}/approve`, {})).status).toBe(409);
    const done = await poll();
    const creds = done.deferredCredentialResponse.credentials as { credential: string }[];
    expect(creds).toHaveLength(1);
    expect(decodeJwt(creds[0]!.credential.split('~')[0]!).vct).toBe(VCT.geburtsurkunde);
    await expect(poll()).rejects.toMatchObject({ response: { deferredCredentialErrorResponseResult: { data: { error: 'invalid_transaction_id' } } } });
    expect((await (await iss.admin(`/api/offices/standesamt/offers/${o.offer_id}`)).json()).status).toBe('issued');
    // An automatic offer needs no approval.
    const auto = await offer();
    expect((await iss.admin(`/api/offices/buergerbuero/offers/${auto.offer_id}/approve`, {})).status).toBe(409);
  });

  it('refuses with credential_request_denied once the registry suspends the office', async () => {
    const o = await offer('bibliothek', 'bibliotheksausweis_sd_jwt', { ausweisnummer: 'LSB-0001', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' });
    const { issuerMetadata, accessToken } = await redeem(o);
    const grants = (await (await iss.registry.admin(`/api/grants?entity_id=${encodeURIComponent(iss.officeDid('bibliothek'))}&action=issue`)).json()).grants;
    expect((await iss.registry.admin(`/api/grants/${grants[0].id}/status`, { body: { status: 'suspended', reason: 'Test der Sperre / suspension test' } })).status).toBe(200);
    const r = await fetch(`${iss.url}/offices/bibliothek/credential`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ credential_configuration_id: 'bibliotheksausweis_sd_jwt', proofs: { jwt: [await proofFor(issuerMetadata, keys[2]!, (await (await fetch(`${iss.url}/offices/bibliothek/nonce`, { method: 'POST' })).json()).c_nonce, 'bibliotheksausweis_sd_jwt')] } }),
    });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toBe('credential_request_denied');
    expect((await (await iss.admin(`/api/offices/bibliothek/offers/${o.offer_id}`)).json()).status).toBe('pending');
  });
});
