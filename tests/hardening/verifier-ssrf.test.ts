import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign } from 'jose';
import { p256KeyFromPrivateHex } from '../../core/crypto/jwk.ts';
import { createHolderResolver } from '../../core/did/holder-resolver.ts';
import { createDidResolver } from '../../core/did/resolver.ts';
import { issueSdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { BitstringStatusClient, vcJwtBitstringLoader } from '../../core/status-list/bitstring-status-client.ts';
import { StatusListClient } from '../../core/status-list/status-list-client.ts';
import { verifyCredentialRequest, verifyPresentationRequest, type VerifyDeps } from '../../verifier/use-cases/verify-vc-api.ts';
import { checkSdJwtPresentation } from '../../verifier/verify-sd-jwt-presentation.ts';
import { checkVcJwtPresentation } from '../../verifier/verify-vc-jwt-presentation.ts';
import { postResponse, resolveRequest } from '../helpers/holder.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { didJwkKey, fakeRegistry, PASS, vcJwt, vpJwt, type TestKey } from '../verifier/fake-registry.ts';

/**
 * Issue 18: nothing a presenter names is fetched before trust. A local "victim" server counts every
 * request it gets; DIDs pointing at it are put where a presenter can put them:
 * - the holder of a VP (its `kid`): holders resolve offline only (did:jwk, did:key), so a did:web
 *   holder is refused and never fetched;
 * - the issuer of a credential: its did:web is resolved only after the registry named that DID as an
 *   issuer of that credential's type;
 * - a status list URI: fetched only after a trusted issuer's signature verified.
 * A positive control shows that the counter does see a fetch when the registry does name the DID.
 */
describe('verifier: no fetch of a presenter-chosen URL before trust', () => {
  let victim: Server;
  const hits: string[] = [];
  let victimDid: string;
  let victimUrl: string;
  let holder: TestKey;
  let trusted: TestKey;
  let rogue: TestKey;
  let deps: VerifyDeps;
  const resolver = createDidResolver();
  const holders = createHolderResolver();
  const now = () => Date.now();

  beforeAll(async () => {
    victim = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => victim.listen(0, '127.0.0.1', r));
    const port = (victim.address() as AddressInfo).port;
    victimDid = `did:web:127.0.0.1%3A${port}`;
    victimUrl = `http://127.0.0.1:${port}`;
    [holder, trusted, rogue] = await Promise.all([didJwkKey(), didJwkKey(), didJwkKey()]);
    // The victim's did:web IS a registered issuer here, but only for the card type (CARD).
    const index = fakeRegistry([trusted.did, victimDid]);
    const bitstring = new BitstringStatusClient({ clock: now, load: vcJwtBitstringLoader({ resolver, maxAgeMs: 0 }) });
    deps = { resolver, holders, trust: { index: async () => index }, bitstring, bitstringV2: bitstring, clock: now };
  });
  afterAll(async () => {
    await new Promise((r) => victim.close(r));
  });

  const AUD = 'https://counter.example';
  const oid4vp = (presentation: string, nonce = 'n-1') =>
    checkVcJwtPresentation({ resolver, holders, trust: () => deps.trust.index(), bitstring: deps.bitstring }, { presentation, nonce, clientId: AUD, now: Date.now(), queryId: 'q' });
  /** A holder who claims the victim's did:web (signed with some key; the kid is what matters). */
  const webHolder = () => ({ did: victimDid, kid: `${victimDid}#key-1`, privateKey: rogue.privateKey });
  const expectNoHits = (what: string) => expect(hits, what).toEqual([]);

  it('refuses a VP-JWT whose holder kid is a did:web, on the OID4VP and VC-API paths, without fetching it', async () => {
    hits.length = 0;
    const vc = await vcJwt({ issuer: trusted, holder: victimDid });
    const r = await oid4vp(await vpJwt(webHolder(), [vc], 'n-1', AUD));
    expect(r).toMatchObject({ ok: false, error: { code: 'holder_binding_failed' } });
    const api = await verifyPresentationRequest(deps, { verifiablePresentation: await vpJwt(webHolder(), [vc], 'n-1', AUD), options: { challenge: 'n-1', domain: AUD } });
    expect(api.verified).toBe(false);
    expect(api.errors[0]!.code).toBe('holder_binding_failed');
    expectNoHits('holder did:web (VP-JWT)');
  });

  it('refuses a VC-JOSE-COSE presentation whose holder is a did:web, without fetching it', async () => {
    hits.length = 0;
    const vp = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: 'VerifiablePresentation', holder: victimDid, verifiableCredential: [], nonce: 'n-1' };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(vp))).setProtectedHeader({ alg: 'ES256', typ: 'vp+jwt', cty: 'vp', kid: `${victimDid}#key-1` }).sign(rogue.privateKey);
    const r = await verifyPresentationRequest(deps, { verifiablePresentation: { '@context': 'https://www.w3.org/ns/credentials/v2', id: `data:application/vp+jwt,${jws}`, type: 'EnvelopedVerifiablePresentation' }, options: { challenge: 'n-1' } });
    expect(r.verified).toBe(false);
    expect(r.errors[0]!.code).toBe('key_unresolved');
    expectNoHits('holder did:web (VC-JOSE-COSE VP)');
  });

  it('refuses a credential of a type its did:web issuer is not registered for before resolving that DID (VC-JWT, VC-JOSE-COSE, SD-JWT VC)', async () => {
    hits.length = 0;
    // VC-JWT claiming the pass type: the victim DID is a registered issuer, but not of passes.
    const pass = await vcJwt({ issuer: { did: victimDid, privateKey: rogue.privateKey }, holder: holder.did, types: ['VerifiableCredential', 'LeipzigPass'] });
    expect(await oid4vp(await vpJwt(holder, [pass], 'n-1', AUD))).toMatchObject({ ok: false, error: { code: 'untrusted_issuer' } });
    expect((await verifyCredentialRequest(deps, { verifiableCredential: pass })).errors).toEqual([expect.objectContaining({ code: 'untrusted_issuer', check: 'trust' })]);
    // VCDM 2.0 secured with VC-JOSE-COSE, same claim.
    const doc = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential', 'LeipzigPass'], issuer: victimDid, credentialSubject: { ermaessigungsberechtigt: true } };
    const jose = await new CompactSign(new TextEncoder().encode(JSON.stringify(doc))).setProtectedHeader({ alg: 'ES256', typ: 'vc+jwt', kid: `${victimDid}#key-1` }).sign(rogue.privateKey);
    expect((await verifyCredentialRequest(deps, { verifiableCredential: jose })).errors).toEqual([expect.objectContaining({ code: 'untrusted_issuer', check: 'trust' })]);
    // SD-JWT VC with the pass vct.
    const k = p256KeyFromPrivateHex(randomBytes(32).toString('hex'));
    const sdJwt = await issueSdJwtVc({ signer: { kid: `${victimDid}#key-1`, alg: 'ES256', publicJwk: k.publicJwk, privateKey: k.privateKey }, iss: victimDid, vct: PASS, claims: { ermaessigungsberechtigt: true }, cnf: { jwk: holder.publicJwk }, iat: Math.floor(Date.now() / 1000) });
    const sd = await checkSdJwtPresentation({ resolver, trust: () => deps.trust.index(), status: new StatusListClient({ resolver, clock: now, maxAgeMs: 0 }) }, { presentation: sdJwt, nonce: 'n-1', clientId: AUD, now: Date.now(), queryId: 'q' });
    expect(sd).toMatchObject({ ok: false, error: { code: 'untrusted_issuer' } });
    expectNoHits('issuer did:web registered for another type');

    // Positive control: for the card type the registry names the victim DID, and only then is it resolved.
    const card = await vcJwt({ issuer: { did: victimDid, kid: `${victimDid}#key-1`, privateKey: rogue.privateKey }, holder: holder.did });
    expect(await oid4vp(await vpJwt(holder, [card], 'n-1', AUD))).toMatchObject({ ok: false, error: { code: 'invalid_signature' } });
    expect(hits).toEqual(['GET /.well-known/did.json']);
  });

  it('never fetches the status list of a credential whose signature does not verify', async () => {
    hits.length = 0;
    const status = { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: `${victimUrl}/status/1` };
    const forged = await vcJwt({ issuer: { did: trusted.did, privateKey: rogue.privateKey }, holder: holder.did, vc: { credentialStatus: status } });
    expect(await oid4vp(await vpJwt(holder, [forged], 'n-1', AUD))).toMatchObject({ ok: false, error: { code: 'invalid_signature' } });
    expect((await verifyCredentialRequest(deps, { verifiableCredential: forged })).errors).toEqual([expect.objectContaining({ code: 'invalid_signature' })]);
    expectNoHits('status list of a forged credential');
    // Control: signed by the trusted issuer, the list is fetched (and fails closed, as the victim answers 404).
    const signed = await vcJwt({ issuer: trusted, holder: holder.did, vc: { credentialStatus: status } });
    expect(await oid4vp(await vpJwt(holder, [signed], 'n-1', AUD))).toMatchObject({ ok: false, error: { code: 'status_unavailable' } });
    expect(hits).toEqual(['GET /status/1']);
  });

  describe('over HTTP, against the real services', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ env: { VERIFIER_TRUST_MAX_AGE: '0' } });
    });
    afterAll(async () => {
      await stack?.close();
    });
    const request = async () => {
      const res = await stack.admin('verifier', '/api/verifiers/bibliothek/requests', { template: 'bibliotheksausweis' });
      expect(res.status).toBe(201);
      const r = (await res.json()) as { request_id: string; authorization_request: string };
      return { id: r.request_id, req: await resolveRequest(r.authorization_request) };
    };
    const status = async (id: string) => (await stack.admin('verifier', `/api/verifiers/bibliothek/requests/${id}`)).json();

    it('response endpoint: a VP-JWT with a did:web holder kid is refused, the request stays open, nothing is fetched', async () => {
      hits.length = 0;
      const { id, req } = await request();
      const vc = await vcJwt({ issuer: trusted, holder: victimDid });
      const vp = await vpJwt(webHolder(), [vc], req.payload.nonce, req.clientId);
      expect((await postResponse(req, { bibliotheksausweis_w3c: [vp] })).status).toBe(200);
      const out = await status(id);
      expect(out).toMatchObject({ status: 'rejected', final: false });
      expect(out.last_attempt.errors.map((e: { code: string }) => e.code)).toEqual(['holder_binding_failed']);
      expectNoHits('holder did:web at the response endpoint');
    });

    it('response endpoint and /credentials/verify: a VC-JWT by an unregistered did:web issuer is untrusted, its DID never fetched', async () => {
      hits.length = 0;
      const { id, req } = await request();
      const vc = await vcJwt({ issuer: { did: victimDid, kid: `${victimDid}#key-1`, privateKey: rogue.privateKey }, holder: holder.did });
      await postResponse(req, { bibliotheksausweis_w3c: [await vpJwt(holder, [vc], req.payload.nonce, req.clientId)] });
      expect((await status(id)).last_attempt.errors.map((e: { code: string }) => e.code)).toEqual(['untrusted_issuer']);
      const res = await stack.admin('verifier', '/credentials/verify', { verifiableCredential: vc });
      expect(res.status).toBe(200);
      expect((await res.json()).errors).toEqual([expect.objectContaining({ code: 'untrusted_issuer', check: 'trust' })]);
      const vp = await stack.admin('verifier', '/presentations/verify', { verifiablePresentation: await vpJwt(webHolder(), [vc], 'n-5', AUD), options: { challenge: 'n-5', domain: AUD } });
      expect((await vp.json()).errors[0].code).toBe('holder_binding_failed');
      expectNoHits('unregistered did:web issuer over HTTP');
    });
  });
});
