import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { certificatesFromPem } from '../../core/x509/pem.ts';
import { receive } from '../../wallet-demo/core/receive.ts';
import { presentOverDcApi } from '../../wallet-demo/core/present-dc-api.ts';
import { openWallet, type WalletContext } from '../../wallet-demo/core/wallet.ts';
import { SdJwtVcRecord } from '@credo-ts/core';
import { createCredoHolder, type CredoHolder } from '../helpers/credo/holder.ts';
import { present, receiveCredential } from '../helpers/holder.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';

/**
 * OpenID4VP 1.0 Appendix A, the W3C Digital Credentials API (HAIP), over HTTP against the real
 * stack: the counter API hands out a signed `openid4vp-v1-signed` request (`dc_api.jwt`,
 * `expected_origins`, no response_uri), the demo wallet core answers it as a platform wallet would
 * (present-dc-api.ts, audience `origin:<origin>`), and the verifier takes the answer from the page's
 * call only if it is encrypted for this very request, bound to its nonce and to the verifier's origin.
 */
const CARD = { ausweisnummer: 'LSB-2026-0042', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };
const QUERY_ID = 'bibliotheksausweis';

describe('OID4VP over the Digital Credentials API (Appendix A, HAIP)', () => {
  let stack: Stack;
  let ctx: WalletContext;
  let origin: string;
  let card: Awaited<ReturnType<typeof receiveCredential>>;

  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0' } });
    origin = new URL(stack.urls.verifier).origin;
    ctx = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-dcapi-wallet-')), passphrase: 'korrekt-pferd-batterie', registryUrl: stack.urls.registry, allowLocalHttp: true });
    const offer = await (await stack.admin('issuer', '/api/offices/bibliothek/offers', { credential_configuration_id: 'bibliotheksausweis_sd_jwt', claims: CARD })).json();
    await receive(ctx, offer.credential_offer, offer.tx_code);
    // A second card held outside the wallet core, for answers built by hand.
    card = await receiveCredential(stack, 'bibliothek', 'bibliotheksausweis_sd_jwt', CARD);
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  interface DcRequest {
    request_id: string;
    protocol: string;
    data: { request: string };
  }
  const newRequest = async (): Promise<DcRequest> => {
    const r = await stack.admin('verifier', '/api/verifiers/bibliothek/dc-api/requests', { template: 'bibliotheksausweis' });
    expect(r.status).toBe(201);
    return r.json();
  };
  const answer = (id: string, body: unknown, token: string | null = TOKENS.verifier) =>
    fetch(`${stack.urls.verifier}/api/verifiers/bibliothek/requests/${id}/dc-api-response`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const status = async (id: string) => (await stack.admin('verifier', `/api/verifiers/bibliothek/requests/${id}`)).json();
  /** An answer built by hand: the card presented with `aud` and `nonce`, encrypted to the key of `to` (as a wallet would, §8.3). */
  const handMade = async (to: DcRequest, opts: { aud: string; nonce: string }) => {
    const payload = decodeJwt(to.data.request) as Record<string, any>;
    const presentation = await present(card.credential, card.key, { clientId: payload.client_id, payload }, QUERY_ID, opts);
    const jwk = payload.client_metadata.jwks.keys[0] as JWK;
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ vp_token: { [QUERY_ID]: [presentation] } })))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A128GCM', kid: jwk.kid! })
      .encrypt(await importJWK(jwk, 'ECDH-ES'));
    return { protocol: 'openid4vp-v1-signed', data: { response: jwe } };
  };

  it('hands out a signed request for the DC API: dc_api.jwt, expected_origins = the verifier’s origin, no response_uri, no state', async () => {
    const req = await newRequest();
    expect(req.protocol).toBe('openid4vp-v1-signed');
    expect(decodeProtectedHeader(req.data.request)).toMatchObject({ alg: 'ES256', typ: 'oauth-authz-req+jwt' });
    const payload = decodeJwt(req.data.request) as Record<string, any>;
    expect(payload.response_mode).toBe('dc_api.jwt');
    expect(payload.expected_origins).toEqual([origin]);
    expect(payload.client_id).toBe(`decentralized_identifier:${stack.rpDid('bibliothek')}`);
    expect(payload).not.toHaveProperty('response_uri');
    expect(payload).not.toHaveProperty('state');
    expect(typeof payload.nonce).toBe('string');
    expect(payload.dcql_query.credentials.map((c: { id: string }) => c.id)).toContain(QUERY_ID);
    expect(payload.client_metadata.jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ECDH-ES', kid: `enc-${req.request_id}` });
    expect(payload.client_metadata.jwks.keys[0]).not.toHaveProperty('d');
    expect(payload.client_metadata.encrypted_response_enc_values_supported).toEqual(['A128GCM', 'A256GCM']);
    // Never served at request_uri: the DC API request reaches a wallet only through the page at its origin.
    expect((await fetch(`${stack.urls.verifier}/verifiers/bibliothek/requests/${req.request_id}/request.jwt`)).status).toBe(404);
    // Only the counter's clerks may ask.
    const anon = await stack.admin('verifier', '/api/verifiers/bibliothek/dc-api/requests', { template: 'bibliotheksausweis' }, null);
    expect(anon.status).toBe(401);
  });

  it('accepts the wallet core’s answer (audience origin:<origin>) and stores the verdict as for every request; a replay is refused', async () => {
    const req = await newRequest();
    const data = await presentOverDcApi(ctx, { protocol: req.protocol, data: req.data }, origin);
    const inner = decodeProtectedHeader(data.response);
    expect(inner).toMatchObject({ alg: 'ECDH-ES', kid: `enc-${req.request_id}` });
    // Without the clerk's key nobody can hand in the answer (session binding).
    expect((await answer(req.request_id, { protocol: req.protocol, data }, null)).status).toBe(401);
    const r = await answer(req.request_id, { protocol: req.protocol, data });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ request_id: req.request_id, status: 'verified', final: true, errors: [] });
    const s = await status(req.request_id);
    expect(s.status).toBe('verified');
    expect(s.result.credentials[0].claims).toMatchObject({ ausweisnummer: CARD.ausweisnummer, vorname: 'Erika' });
    expect(s.result.credentials[0].claims).not.toHaveProperty('geburtsdatum');
    const again = await answer(req.request_id, { protocol: req.protocol, data });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ type: 'urn:id-ideal:problem:invalid-dc-api-response', error: 'invalid_request' });
  });

  it('refuses a presentation whose audience is the client_id (the direct_post kind), not origin:<origin>', async () => {
    const req = await newRequest();
    const payload = decodeJwt(req.data.request) as Record<string, any>;
    const r = await answer(req.request_id, await handMade(req, { aud: payload.client_id, nonce: payload.nonce }));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'rejected', final: false, errors: [{ code: 'audience_mismatch' }] });
    const s = await status(req.request_id);
    expect(s).toMatchObject({ status: 'rejected', final: false });
    // The same hand-built answer with the origin as audience verifies: only the audience was wrong.
    const ok = await answer(req.request_id, await handMade(req, { aud: `origin:${origin}`, nonce: payload.nonce }));
    expect(await ok.json()).toMatchObject({ status: 'verified' });
  });

  it('refuses an answer bound to another request’s nonce, and one encrypted for another request', async () => {
    const a = await newRequest();
    const b = await newRequest();
    const nonceA = (decodeJwt(a.data.request) as { nonce: string }).nonce;
    const r = await answer(b.request_id, await handMade(b, { aud: `origin:${origin}`, nonce: nonceA }));
    expect(await r.json()).toMatchObject({ status: 'rejected', final: false, errors: [{ code: 'nonce_mismatch' }] });
    // A's genuine answer handed in for B: not encrypted for B, refused before anything is decrypted.
    const forA = await presentOverDcApi(ctx, { protocol: a.protocol, data: a.data }, origin);
    const crossed = await answer(b.request_id, { protocol: b.protocol, data: forA });
    expect(crossed.status).toBe(400);
    expect(await crossed.json()).toMatchObject({ error: 'invalid_request' });
    expect((await status(b.request_id)).status).not.toBe('verified');
    // It still answers A.
    expect(await (await answer(a.request_id, { protocol: a.protocol, data: forA })).json()).toMatchObject({ status: 'verified' });
  });

  it('the wallet core refuses a request replayed from another origin (not in expected_origins): invalid_request, nothing sent', async () => {
    const req = await newRequest();
    const before = ctx.store.snapshot.history.length;
    for (const other of ['https://evil.example', `${origin}/`, origin.replace('localhost', '127.0.0.1'), 'http://localhost:1']) {
      const err = await presentOverDcApi(ctx, { protocol: req.protocol, data: req.data }, other).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(err, other).toBeDefined();
      expect(err!.code).toBe('invalid_request');
    }
    expect(ctx.store.snapshot.history.length).toBe(before);
    // A request_uri-style request object handed in over the DC API is refused too (no expected_origins).
    const plain = await (await stack.admin('verifier', '/api/verifiers/bibliothek/requests', { template: 'bibliotheksausweis' })).json();
    const jwt = await (await fetch(new URL(plain.authorization_request).searchParams.get('request_uri')!)).text();
    await expect(presentOverDcApi(ctx, { protocol: 'openid4vp-v1-signed', data: { request: jwt } }, origin)).rejects.toMatchObject({ code: 'invalid_request' });
    // Unsigned requests are not accepted.
    await expect(presentOverDcApi(ctx, { protocol: 'openid4vp-v1-unsigned', data: decodeJwt(req.data.request) }, origin)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('refuses an unencrypted response, a wrong protocol and a DC API answer at the direct_post.jwt response endpoint', async () => {
    const req = await newRequest();
    const payload = decodeJwt(req.data.request) as Record<string, any>;
    const presentation = await present(card.credential, card.key, { clientId: payload.client_id, payload }, QUERY_ID, { aud: `origin:${origin}`, nonce: payload.nonce });
    const plain = await answer(req.request_id, { protocol: req.protocol, data: { vp_token: { [QUERY_ID]: [presentation] } } });
    expect(plain.status).toBe(400);
    expect(plain.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await plain.json()).toMatchObject({ type: 'urn:id-ideal:problem:invalid-dc-api-response', error: 'invalid_request' });
    const good = await handMade(req, { aud: `origin:${origin}`, nonce: payload.nonce });
    expect((await answer(req.request_id, { protocol: 'openid4vp-v1-unsigned', data: good.data })).status).toBe(400);
    const side = await fetch(`${stack.urls.verifier}/verifiers/bibliothek/response`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ response: good.data.response }) });
    expect(side.status).toBe(400);
    expect(await side.json()).toMatchObject({ error: 'invalid_request' });
    expect((await status(req.request_id)).status).toBe('pending');
    // Malformed bodies are 400, never 500.
    for (const body of [null, [], { protocol: 1, data: {} }, { protocol: req.protocol, data: 'x' }, { protocol: req.protocol, data: { response: 'not.a.jwe' } }, { protocol: req.protocol, data: { response: 'a.b.c.d.e' } }]) {
      expect((await answer(req.request_id, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await answer('00000000-0000-0000-0000-000000000000', good)).status).toBe(404);
    // A.4: a wallet's error comes as { error } in data; noted as a refusal, the request stays open.
    expect(await (await answer(req.request_id, { protocol: req.protocol, data: { error: 'access_denied' } })).json()).toMatchObject({ status: 'rejected', final: false, errors: [{ code: 'declined' }] });
    expect(await status(req.request_id)).toMatchObject({ status: 'rejected', final: false, last_attempt: { kind: 'wallet_error' } });
    // The control: the same answer where it belongs verifies.
    expect(await (await answer(req.request_id, good)).json()).toMatchObject({ status: 'verified' });
  });
});

describe('OID4VP over the DC API with an x509_hash client (HAIP)', () => {
  let stack: Stack;
  let origin: string;
  const walletFor = async (trusted: boolean) => {
    const ca = certificatesFromPem(readFileSync(join(stack.dataDir, 'city-ca', 'city-ca.pem'), 'utf8'));
    const ctx = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-dcapi-x509-')), passphrase: 'korrekt-pferd-batterie', registryUrl: stack.urls.registry, allowLocalHttp: true, trustedCas: () => (trusted ? ca : []) });
    const offer = await (await stack.admin('issuer', '/api/offices/bibliothek/offers', { credential_configuration_id: 'bibliotheksausweis_sd_jwt', claims: CARD })).json();
    await receive(ctx, offer.credential_offer, offer.tx_code);
    return ctx;
  };
  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0', VERIFIER_X509_HASH_CLIENTS: 'bibliothek' } });
    origin = new URL(stack.urls.verifier).origin;
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('signs the DC API request with the city-CA certificate (x5c, x509_hash:); the wallet checks chain and host against the origin and the verdict is accepted', async () => {
    const req = await (await stack.admin('verifier', '/api/verifiers/bibliothek/dc-api/requests', { template: 'bibliotheksausweis' })).json();
    expect(decodeProtectedHeader(req.data.request).x5c).toBeDefined();
    expect((decodeJwt(req.data.request) as { client_id: string }).client_id).toMatch(/^x509_hash:/);
    // A wallet that does not trust the city CA refuses before anything is built (the signature check needs a chain to a trusted CA, §5.9.3).
    await expect(presentOverDcApi(await walletFor(false), req, origin)).rejects.toMatchObject({ code: 'invalid_request' });
    const data = await presentOverDcApi(await walletFor(true), req, origin);
    const r = await fetch(`${stack.urls.verifier}/api/verifiers/bibliothek/requests/${req.request_id}/dc-api-response`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.verifier}` }, body: JSON.stringify({ protocol: req.protocol, data }) });
    expect(await r.json()).toMatchObject({ status: 'verified' });
  });
});

describe('OID4VP over the DC API with a third-party wallet (Credo 0.6, @credo-ts/openid4vc)', () => {
  let stack: Stack;
  let holder: CredoHolder;
  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0' } });
    holder = await createCredoHolder({ trustedCertificates: [readFileSync(join(stack.dataDir, 'city-ca', 'city-ca.pem'), 'utf8')] });
    const o = await (await stack.admin('issuer', '/api/offices/bibliothek/offers', { credential_configuration_id: 'bibliotheksausweis_sd_jwt', claims: CARD })).json();
    const api = holder.agent.modules.openid4vc.holder;
    const resolvedCredentialOffer = await api.resolveCredentialOffer(o.credential_offer);
    const token = await api.requestToken({ resolvedCredentialOffer, txCode: o.tx_code });
    const { credentials } = await api.requestCredentials({ resolvedCredentialOffer, ...token, credentialBindingResolver: holder.credentialBindingResolver });
    await holder.agent.sdJwtVc.store({ record: credentials[0]!.record as SdJwtVcRecord });
  }, 120_000);
  afterAll(async () => {
    await holder?.agent.shutdown();
    await stack?.close();
  });

  it('Credo resolves the DC API request with the page’s origin, answers dc_api.jwt with aud origin:<origin>, and the verifier accepts it', async () => {
    const origin = new URL(stack.urls.verifier).origin;
    const req = await (await stack.admin('verifier', '/api/verifiers/bibliothek/dc-api/requests', { template: 'bibliotheksausweis' })).json();
    const api = holder.agent.modules.openid4vc.holder;
    // Credo refuses the request from another origin (A.2), and takes it from ours.
    await expect(api.resolveOpenId4VpAuthorizationRequest(req.data, { origin: 'https://evil.example' })).rejects.toThrow();
    const resolved = await api.resolveOpenId4VpAuthorizationRequest(req.data, { origin });
    expect(resolved.dcql?.queryResult.can_be_satisfied).toBe(true);
    const credentials = api.selectCredentialsForDcqlRequest(resolved.dcql!.queryResult);
    const accepted = await api.acceptOpenId4VpAuthorizationRequest({ authorizationRequestPayload: resolved.authorizationRequestPayload, dcql: { credentials }, origin });
    const kb = (Object.values(accepted.authorizationResponsePayload.vp_token as Record<string, string[]>)[0]![0]!).split('~').at(-1)!;
    expect(decodeJwt(kb).aud).toBe(`origin:${origin}`);
    expect(accepted.authorizationResponse).toHaveProperty('response');
    const r = await fetch(`${stack.urls.verifier}/api/verifiers/bibliothek/requests/${req.request_id}/dc-api-response`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.verifier}` },
      body: JSON.stringify({ protocol: req.protocol, data: accepted.authorizationResponse }),
    });
    expect(await r.json(), 'verdict').toMatchObject({ status: 'verified' });
    expect((await (await stack.admin('verifier', `/api/verifiers/bibliothek/requests/${req.request_id}`)).json()).status).toBe('verified');
  }, 60_000);
});
