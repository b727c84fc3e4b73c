import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, SignJWT, decodeJwt, exportJWK, generateKeyPair, importJWK } from 'jose';
import { newHolderKey } from '../helpers/oid4vci-wallet.ts';
import { oid4vpWallet } from '../helpers/oid4vp-wallet.ts';
import { VCT } from '../../core/demo/leipzig.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { MELDE } from '../helpers/fixtures.ts';

const PASS = { ermaessigungsberechtigt: true, gueltig_bis: '2027-12-31', passnummer: 'LP-2026-0042', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };

describe('verifier: OID4VP 1.0 with DCQL against the real registry and issuer', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0', VERIFIER_TRUST_MAX_AGE: '0', ISSUER_TRUST_MAX_AGE: '0' } });
  });
  afterAll(async () => {
    await stack.close();
  });

  const newRequest = async (slug: string, body: unknown) => {
    const res = await stack.admin('verifier', `/api/verifiers/${slug}/requests`, body);
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json() as Promise<{ request_id: string; authorization_request: string; expires_at: string }>;
  };
  const result = async (slug: string, id: string) => (await stack.admin('verifier', `/api/verifiers/${slug}/requests/${id}`)).json();
  /**
   * An answer that did not verify reads `rejected` with its reasons (docs/contract.md), marked not
   * final: the request still takes a verifying response until it expires.
   */
  const failedCodes = (out: any): string[] => {
    expect(out.status, JSON.stringify(out)).toBe('rejected');
    expect(out.final).toBe(false);
    expect(out.result).toMatchObject({ verified: false, credentials: [] });
    expect(out.last_attempt).toMatchObject({ final: false, kind: 'presentation' });
    expect(out.result.errors.map((e: { code: string }) => e.code)).toEqual(out.last_attempt.errors.map((e: { code: string }) => e.code));
    return out.last_attempt.errors.map((e: { code: string }) => e.code);
  };

  it('verifies a Meldebescheinigung at the Bürgerbüro counter and keeps only what was asked', async () => {
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const r = await newRequest('buergerbuero', { template: 'meldebescheinigung' });
    expect(r.authorization_request).toMatch(/^openid4vp:\/\/\?client_id=decentralized_identifier%3Adid%3Aweb%3A/);
    const req = await resolveRequest(r.authorization_request);
    expect(req.payload).toMatchObject({ response_type: 'vp_token', response_mode: 'direct_post', aud: 'https://self-issued.me/v2', client_id: `decentralized_identifier:${stack.rpDid('buergerbuero')}` });
    expect((await result('buergerbuero', r.request_id)).status).toBe('pending');

    const vp = await present(credential, key, req, 'meldebescheinigung');
    const res = await postResponse(req, { meldebescheinigung: [vp] });
    expect(res.status).toBe(200);
    const out = await result('buergerbuero', r.request_id);
    expect(out.status, JSON.stringify(out)).toBe('verified');
    expect(out.result.verified).toBe(true);
    expect(out.result.credentials).toHaveLength(1);
    const c = out.result.credentials[0];
    expect(c).toMatchObject({ vct: VCT.meldebescheinigung, issuer: stack.officeDid('buergerbuero'), issuer_name: 'Bürgerbüro Leipzig' });
    expect(c.claims).toEqual({ vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01', anschrift: MELDE.anschrift, wohnsitz_leipzig: true, alter_ueber_18: true });

    // Replay of the same response: refused, the verdict stays.
    const replay = await postResponse(req, { meldebescheinigung: [vp] });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/^replay/) });
    expect((await result('buergerbuero', r.request_id)).status).toBe('verified');
  });

  it('accepts an encrypted response (direct_post.jwt) and refuses one encrypted to another key', async () => {
    const { credential, key } = await receiveCredential(stack, 'bibliothek', 'bibliotheksausweis_sd_jwt', { ausweisnummer: 'LSB-0815', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' });
    const r = await newRequest('bibliothek', { template: 'bibliotheksausweis', response_mode: 'direct_post.jwt' });
    const req = await resolveRequest(r.authorization_request);
    expect(req.payload.response_mode).toBe('direct_post.jwt');
    const jwk = req.payload.client_metadata.jwks.keys[0];
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'enc', alg: 'ECDH-ES' });
    expect(jwk.d).toBeUndefined();
    const vp = await present(credential, key, req, 'bibliotheksausweis');
    const encrypt = async (to: Record<string, unknown>, state = req.payload.state) =>
      new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ vp_token: { bibliotheksausweis: [vp] }, state })))
        .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A128GCM', kid: jwk.kid })
        .encrypt(await importJWK(to as never, 'ECDH-ES'));
    const post = (response: string) => fetch(req.payload.response_uri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ response }) });

    // Plain direct_post to an encrypted request is refused; so is a JWE for another key.
    expect((await postResponse(req, { bibliotheksausweis: [vp] })).status).toBe(400);
    const other = await exportJWK((await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true })).publicKey);
    const wrong = await post(await encrypt(other));
    expect(wrong.status).toBe(400);
    expect((await result('bibliothek', r.request_id)).status).toBe('pending');

    const ok = await post(await encrypt(jwk));
    expect(ok.status).toBe(200);
    const out = await result('bibliothek', r.request_id);
    expect(out.status, JSON.stringify(out.result?.errors)).toBe('verified');
    expect(out.result.credentials[0].claims).toEqual({ ausweisnummer: 'LSB-0815', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann' });
    expect((await post(await encrypt(jwk))).status).toBe(400);
  });

  it('works with a wallet played by @openid4vc/openid4vp, in both response modes', async () => {
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const wallet = oid4vpWallet();
    for (const mode of ['direct_post', 'direct_post.jwt'] as const) {
      const r = await newRequest('buergerbuero', { template: 'meldebescheinigung', response_mode: mode });
      const resolved = await wallet.resolve(r.authorization_request);
      expect(resolved.client.prefix).toBe('decentralized_identifier');
      expect(resolved.client.effective).toBe(`decentralized_identifier:${stack.rpDid('buergerbuero')}`);
      const payload = resolved.authorizationRequestPayload as Record<string, any>;
      const vp = await present(credential, key, { clientId: resolved.client.effective, payload }, 'meldebescheinigung');
      const res = await wallet.respond(resolved, { meldebescheinigung: [vp] });
      expect(res.status, mode).toBe(200);
      const out = await result('buergerbuero', r.request_id);
      expect(out.status, `${mode}: ${JSON.stringify(out.result?.errors)}`).toBe('verified');
    }
  });

  it('notes a wallet error response (the citizen declined) as a non-final hint; the request stays answerable', async () => {
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const r = await newRequest('buergerbuero', { template: 'meldebescheinigung' });
    const req = await resolveRequest(r.authorization_request);
    const res = await fetch(req.payload.response_uri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ error: 'access_denied', state: req.payload.state }) });
    expect(res.status).toBe(200);
    const out = await result('buergerbuero', r.request_id);
    expect(out).toMatchObject({ status: 'rejected', final: false, result: { verified: false, errors: [{ code: 'declined' }] } });
    expect(out.last_attempt).toMatchObject({ final: false, kind: 'wallet_error', error: 'access_denied', message: expect.stringMatching(/^Die Wallet hat abgelehnt.* \/ The wallet declined/) });
    // The citizen changes their mind: a verifying response still ends the request.
    expect((await postResponse(req, { meldebescheinigung: [await present(credential, key, req, 'meldebescheinigung')] })).status).toBe(200);
    const done = await result('buergerbuero', r.request_id);
    expect(done.status).toBe('verified');
    expect(done.last_attempt).toBeUndefined();
    // After the verdict, neither an error response nor anything else changes it.
    const late = await fetch(req.payload.response_uri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ error: 'access_denied', state: req.payload.state }) });
    expect(late.status).toBe(400);
    expect((await result('buergerbuero', r.request_id)).status).toBe('verified');
  });

  it('verifies a W3C VC-JWT library card inside a VP-JWT, each credential checked itself', async () => {
    const card = { ausweisnummer: 'LSB-1234', nutzergruppe: 'ermaessigt', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };
    const { credential, key } = await receiveCredential(stack, 'bibliothek', 'bibliotheksausweis_jwt_vc', card);
    const vpFor = async (req: Awaited<ReturnType<typeof resolveRequest>>, k = key, vcs = [credential]) => {
      const { kty, crv, x, y } = k.publicJwk;
      const did = `did:jwk:${Buffer.from(JSON.stringify({ crv, kty, x, y })).toString('base64url')}`;
      return new SignJWT({ nonce: req.payload.nonce, vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: vcs } })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: `${did}#0` })
        .setIssuer(did)
        .setAudience(req.clientId)
        .setIssuedAt()
        .sign(k.privateKey);
    };
    let r = await newRequest('bibliothek', { template: 'bibliotheksausweis' });
    let req = await resolveRequest(r.authorization_request);
    expect((await postResponse(req, { bibliotheksausweis_w3c: [await vpFor(req)] })).status).toBe(200);
    let out = await result('bibliothek', r.request_id);
    expect(out.status, JSON.stringify(out.result?.errors)).toBe('verified');
    expect(out.result.credentials[0]).toMatchObject({ vct: VCT.bibliotheksausweis, issuer_name: 'Leipziger Städtische Bibliotheken' });
    expect(out.result.credentials[0].claims).toEqual({ ausweisnummer: 'LSB-1234', nutzergruppe: 'ermaessigt', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann' });

    // Presented by someone else: the VP verifies, but the card is not theirs.
    const thief = await newHolderKey();
    r = await newRequest('bibliothek', { template: 'bibliotheksausweis' });
    req = await resolveRequest(r.authorization_request);
    await postResponse(req, { bibliotheksausweis_w3c: [await vpFor(req, thief)] });
    out = await result('bibliothek', r.request_id);
    expect(failedCodes(out)[0]).toBe('holder_binding_failed');

    // A tampered card inside a correctly signed VP.
    const [h, p, sig] = credential.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.vc.credentialSubject.nutzergruppe = 'kind';
    r = await newRequest('bibliothek', { template: 'bibliotheksausweis' });
    req = await resolveRequest(r.authorization_request);
    await postResponse(req, { bibliotheksausweis_w3c: [await vpFor(req, key, [`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`])] });
    expect(failedCodes(await result('bibliothek', r.request_id))[0]).toBe('invalid_signature');
  });

  it('follows the W3C Bitstring Status List of a VC-JWT card: one revocation entry, suspension refused (409), revoked', async () => {
    const card = { ausweisnummer: 'LSB-5555', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };
    const { credential, key, offerId } = await receiveCredential(stack, 'bibliothek', 'bibliotheksausweis_jwt_vc', card);
    // VCDM 1.1 §4.9: credentialStatus is one object; the VC-JWT carries the revocation entry only.
    const status = decodeJwt(credential).vc as { credentialStatus: { type: string; statusPurpose: string; statusListCredential: string } };
    expect(Array.isArray(status.credentialStatus)).toBe(false);
    expect(status.credentialStatus).toMatchObject({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation' });
    const [row] = (await (await stack.admin('issuer', `/api/offices/bibliothek/offers/${offerId}`)).json()).credentials;
    expect(row.status_list.uri).toBe(status.credentialStatus.statusListCredential);
    const check = async () => {
      const r = await newRequest('bibliothek', { template: 'bibliotheksausweis' });
      const req = await resolveRequest(r.authorization_request);
      const { kty, crv, x, y } = key.publicJwk;
      const did = `did:jwk:${Buffer.from(JSON.stringify({ crv, kty, x, y })).toString('base64url')}`;
      const vp = await new SignJWT({ nonce: req.payload.nonce, vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: [credential] } })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: `${did}#0` })
        .setIssuer(did)
        .setAudience(req.clientId)
        .setIssuedAt()
        .sign(key.privateKey);
      await postResponse(req, { bibliotheksausweis_w3c: [vp] });
      const out = await result('bibliothek', r.request_id);
      return out.status === 'verified' ? 'verified' : failedCodes(out)[0];
    };
    const setStatus = (s: string) => stack.admin('issuer', `/api/offices/bibliothek/credentials/${row.credential_id}/status`, { status: s });
    expect(await check()).toBe('verified');
    // No suspension entry, so no suspension: a clear 409 problem, and nothing changes.
    const suspend = await setStatus('suspended');
    expect(suspend.status).toBe(409);
    expect(suspend.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await suspend.json()).toMatchObject({ type: 'urn:id-ideal:problem:status-not-supported', status: 409, detail: expect.stringMatching(/gesperrt.* \/ .*suspended/) });
    const [after] = (await (await stack.admin('issuer', `/api/offices/bibliothek/offers/${offerId}`)).json()).credentials;
    expect(after.status).toBe('valid');
    expect(await check()).toBe('verified');
    expect((await setStatus('revoked')).status).toBe(200);
    expect(await check()).toBe('credential_revoked');
  });

  it('registers at the library with address and discount entitlement only, never the benefit or pass number', async () => {
    const melde = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const pass = await receiveCredential(stack, 'sozialamt', 'leipzig_pass_sd_jwt', PASS);
    const r = await newRequest('bibliothek', { template: 'anmeldung_bibliothek' });
    const req = await resolveRequest(r.authorization_request);
    const res = await postResponse(req, {
      meldebescheinigung: [await present(melde.credential, melde.key, req, 'meldebescheinigung')],
      leipzig_pass: [await present(pass.credential, pass.key, req, 'leipzig_pass')],
    });
    expect(res.status).toBe(200);
    const out = await result('bibliothek', r.request_id);
    expect(out.status, JSON.stringify(out.result?.errors)).toBe('verified');
    const lp = out.result.credentials.find((c: { vct: string }) => c.vct === VCT.leipzig_pass);
    expect(lp.claims).toEqual({ ermaessigungsberechtigt: true, gueltig_bis: '2027-12-31' });
    expect(lp.issuer_name).toBe('Sozialamt Leipzig');
    expect(JSON.stringify(out)).not.toContain('LP-2026-0042');
  });

  it('rejects presentations that fail, with stable reason codes', async () => {
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const check = async (build: (req: Awaited<ReturnType<typeof resolveRequest>>) => Promise<unknown>, code: string) => {
      const r = await newRequest('buergerbuero', { template: 'meldebescheinigung' });
      const req = await resolveRequest(r.authorization_request);
      const res = await postResponse(req, await build(req));
      const out = await result('buergerbuero', r.request_id);
      expect(failedCodes(out), code).toContain(code);
      return res;
    };
    await check(async (req) => ({ meldebescheinigung: [await present(credential, key, req, 'meldebescheinigung', { nonce: 'nonce-of-another-request' })] }), 'nonce_mismatch');
    await check(async (req) => ({ meldebescheinigung: [await present(credential, key, req, 'meldebescheinigung', { aud: 'decentralized_identifier:did:web:elsewhere.example' })] }), 'audience_mismatch');
    // Without the Key Binding JWT: only the SD-JWT part.
    await check(async (req) => {
      const vp = await present(credential, key, req, 'meldebescheinigung');
      return { meldebescheinigung: [vp.slice(0, vp.lastIndexOf('~') + 1)] };
    }, 'holder_binding_failed');
    // A disclosure added that the issuer never signed.
    await check(async (req) => {
      const vp = await present(credential, key, req, 'meldebescheinigung');
      const parts = vp.split('~');
      const forged = Buffer.from(JSON.stringify(['c2FsdHNhbHRzYWx0', 'wohnsitz_leipzig', false])).toString('base64url');
      return { meldebescheinigung: [[parts[0], forged, ...parts.slice(1)].join('~')] };
    }, 'invalid_disclosure');
    // Fewer claims than asked (alter_ueber_18 withheld).
    await check(async (req) => {
      const cq = req.payload.dcql_query.credentials[0];
      const { presentSdJwtVc } = await import('../../core/formats/sd-jwt-vc/index.ts');
      const { KeyObject } = await import('node:crypto');
      const vp = await presentSdJwtVc({ sdJwt: credential, disclose: cq.claims.map((c: { path: string[] }) => c.path).filter((p: string[]) => p[0] !== 'alter_ueber_18'), holderKey: KeyObject.from(key.privateKey as never), aud: req.clientId, nonce: req.payload.nonce, iat: Math.floor(Date.now() / 1000) });
      return { meldebescheinigung: [vp] };
    }, 'query_not_satisfied');
  });

  it('answers garbage, unknown state and non-form bodies with 400 invalid_request, never 500', async () => {
    const r = await newRequest('buergerbuero', { template: 'meldebescheinigung' });
    const req = await resolveRequest(r.authorization_request);
    const unknown = await postResponse(req, { meldebescheinigung: ['x'] }, 'state-that-was-never-issued');
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toBe('invalid_request');
    const garbage = await postResponse(req, '{not json');
    expect(garbage.status).toBe(400);
    expect((await garbage.json()).error).toBe('invalid_request');
    expect(failedCodes(await result('buergerbuero', r.request_id))[0]).toBe('invalid_presentation');
    const empty = await fetch(req.payload.response_uri, { method: 'POST' });
    expect(empty.status).toBe(400);
    const json = await fetch(req.payload.response_uri, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"vp_token":' });
    expect(json.status).toBe(400);
    expect((await json.json()).error).toBe('invalid_request');
  });

  it('rejects a revoked credential and an issuer the registry suspended', async () => {
    const { credential, key, offerId } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const [cred] = (await (await stack.admin('issuer', `/api/offices/buergerbuero/offers/${offerId}`)).json()).credentials;
    const once = async () => {
      const rr = await newRequest('buergerbuero', { template: 'meldebescheinigung' });
      const q = await resolveRequest(rr.authorization_request);
      await postResponse(q, { meldebescheinigung: [await present(credential, key, q, 'meldebescheinigung')] });
      const out = await result('buergerbuero', rr.request_id);
      return out.status === 'verified' ? 'verified' : failedCodes(out)[0];
    };
    const set = async (status: string) => expect((await stack.admin('issuer', `/api/offices/buergerbuero/credentials/${cred.credential_id}/status`, { status })).status).toBe(200);
    await set('suspended');
    expect(await once()).toBe('credential_suspended');
    await set('valid');
    expect(await once()).toBe('verified');
    await set('revoked');
    expect(await once()).toBe('credential_revoked');
    // Revocation is final.
    expect((await stack.admin('issuer', `/api/offices/buergerbuero/credentials/${cred.credential_id}/status`, { status: 'valid' })).status).toBe(409);
    let r;
    let req;

    const fresh = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const grants = (await (await stack.admin('registry', `/api/grants?entity_id=${encodeURIComponent(stack.officeDid('buergerbuero'))}&action=issue`)).json()).grants;
    expect((await stack.admin('registry', `/api/grants/${grants[0].id}/status`, { status: 'suspended', reason: 'Prüfung / review' })).status).toBe(200);
    try {
      r = await newRequest('buergerbuero', { template: 'meldebescheinigung' });
      req = await resolveRequest(r.authorization_request);
      await postResponse(req, { meldebescheinigung: [await present(fresh.credential, fresh.key, req, 'meldebescheinigung')] });
      expect(failedCodes(await result('buergerbuero', r.request_id))[0]).toBe('issuer_suspended');
    } finally {
      // A reinstatement must take effect after the suspension it lifts (a second later at the earliest);
      // later tests present Bürgerbüro credentials and need the grant active again.
      await new Promise((done) => setTimeout(done, 1100));
      expect((await stack.admin('registry', `/api/grants/${grants[0].id}/status`, { status: 'active', reason: 'erledigt / done' })).status).toBe(200);
    }
  });

  it('serves the counter page in German by default and in English, with a strict CSP, and the request QR code', async () => {
    const de = await fetch(`${stack.urls.verifier}/verifiers/bibliothek/counter`);
    expect(de.status).toBe(200);
    expect(de.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await de.text();
    expect(html).toContain('<html lang="de">');
    expect(html).toContain('Nachweise prüfen');
    expect(html).toContain('Anmeldung in der Bibliothek');
    const en = await (await fetch(`${stack.urls.verifier}/verifiers/bibliothek/counter?lang=en`)).text();
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('Library registration');
    expect((await fetch(`${stack.urls.verifier}/static/counter.js`)).headers.get('content-type')).toContain('javascript');
    const r = await newRequest('bibliothek', { template: 'bibliotheksausweis' });
    const qr = await stack.admin('verifier', `/api/verifiers/bibliothek/requests/${r.request_id}/qr.svg`);
    expect(qr.headers.get('content-type')).toContain('image/svg+xml');
    expect((await fetch(`${stack.urls.verifier}/verifiers/nirgendwo/counter`)).status).toBe(404);
  });

  it('lets a counter ask only for what the registry lets it ask', async () => {
    const ask = (vct: string, claims: string[][]) => stack.admin('verifier', '/api/verifiers/bibliothek/requests', { dcql_query: { credentials: [{ id: 'x', format: 'dc+sd-jwt', meta: { vct_values: [vct] }, claims: claims.map((path) => ({ path })) }] } });
    // Allowed: entitlement and validity of the Leipzig-Pass.
    expect((await ask(VCT.leipzig_pass, [['ermaessigungsberechtigt']])).status).toBe(201);
    // Not allowed: the pass number, and a type the library is not registered for at all.
    const more = await ask(VCT.leipzig_pass, [['ermaessigungsberechtigt'], ['passnummer']]);
    expect(more.status).toBe(403);
    expect(await more.json()).toMatchObject({ type: 'urn:id-ideal:problem:exceeds-registration', detail: expect.stringContaining('passnummer') });
    expect((await ask(VCT.geburtsurkunde, [['vorname']])).status).toBe(403);
  });

  it('rejects a credential signed with a key outside the issuer’s DID document, and a self-made issuer copying the right vct', async () => {
    const { issueSdJwtVc } = await import('../../core/formats/sd-jwt-vc/index.ts');
    const { p256KeyFromPrivateHex, thumbprint } = await import('../../core/crypto/jwk.ts');
    const { randomBytes } = await import('node:crypto');
    const holder = await newHolderKey();
    const rogue = p256KeyFromPrivateHex(randomBytes(32).toString('hex'));
    const cases: [string, string, string][] = [];
    // 1. Claims to be the Bürgerbüro, but the key is not in its did:web document.
    const office = stack.officeDid('buergerbuero');
    cases.push([
      'foreign key',
      await issueSdJwtVc({ signer: { kid: `${office}#${await thumbprint(rogue.publicJwk)}`, alg: 'ES256', publicJwk: rogue.publicJwk, privateKey: rogue.privateKey }, iss: office, vct: VCT.meldebescheinigung, claims: MELDE, cnf: { jwk: holder.publicJwk }, iat: Math.floor(Date.now() / 1000) }),
      'invalid_signature',
    ]);
    // 2. A self-made issuer (its own did:jwk, valid signature) copying the Meldebescheinigung type.
    const selfDid = `did:jwk:${Buffer.from(JSON.stringify({ crv: 'P-256', kty: 'EC', x: rogue.publicJwk.x, y: rogue.publicJwk.y })).toString('base64url')}`;
    cases.push([
      'self-made issuer',
      await issueSdJwtVc({ signer: { kid: `${selfDid}#0`, alg: 'ES256', publicJwk: rogue.publicJwk, privateKey: rogue.privateKey }, iss: selfDid, vct: VCT.meldebescheinigung, claims: MELDE, cnf: { jwk: holder.publicJwk }, iat: Math.floor(Date.now() / 1000) }),
      'untrusted_issuer',
    ]);
    for (const [what, credential, code] of cases) {
      const r = await newRequest('buergerbuero', { template: 'meldebescheinigung' });
      const req = await resolveRequest(r.authorization_request);
      await postResponse(req, { meldebescheinigung: [await present(credential, holder, req, 'meldebescheinigung')] });
      const out = await result('buergerbuero', r.request_id);
      expect(failedCodes(out)[0], what).toBe(code);
    }
  });

  it('applies the per-type rule after an office is suspended: a library card issued before stays valid, a Meldebescheinigung does not', async () => {
    const card = await receiveCredential(stack, 'bibliothek', 'bibliotheksausweis_sd_jwt', { ausweisnummer: 'LSB-7000', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' });
    const grants = (await (await stack.admin('registry', `/api/grants?entity_id=${encodeURIComponent(stack.officeDid('bibliothek'))}&action=issue`)).json()).grants;
    // The suspension takes effect a second after issuance, so "issued before" is unambiguous.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await stack.admin('registry', `/api/grants/${grants[0].id}/status`, { status: 'suspended', reason: 'Prüfung / review' })).status).toBe(200);
    try {
      const r = await newRequest('bibliothek', { template: 'bibliotheksausweis' });
      const req = await resolveRequest(r.authorization_request);
      await postResponse(req, { bibliotheksausweis: [await present(card.credential, card.key, req, 'bibliotheksausweis')] });
      const out = await result('bibliothek', r.request_id);
      expect(out.status, JSON.stringify(out.result?.errors)).toBe('verified');
      expect(out.result.warnings.join(' ')).toMatch(/suspended/);
    } finally {
      await stack.admin('registry', `/api/grants/${grants[0].id}/status`, { status: 'active', reason: 'erledigt / done' });
    }
  });

  it('validates counter requests: unknown template 404, bad DCQL 400, no token 401', async () => {
    expect((await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'personalausweis' })).status).toBe(404);
    const bad = await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { dcql_query: { credentials: [] } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).field).toBe('dcql_query');
    expect((await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' }, null)).status).toBe(401);
    expect((await stack.admin('verifier', '/api/verifiers/nirgendwo/requests', { template: 'meldebescheinigung' })).status).toBe(404);
  });
});
