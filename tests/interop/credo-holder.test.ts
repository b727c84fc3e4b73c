import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { SdJwtVcRecord, W3cCredentialRecord } from '@credo-ts/core';
import { startStack, type Stack } from '../helpers/stack.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { testWallet } from '../helpers/oid4vci-wallet.ts';
import { createCredoHolder, type CredoHolder } from '../helpers/credo/holder.ts';

/**
 * A third-party holder against our issuer and verifier: Credo 0.6.3 (@credo-ts/openid4vc) receives
 * credentials over OID4VCI 1.0 with a tx_code and presents them over OID4VP 1.0 with DCQL, with
 * Credo's protocol code throughout. Then, one test per interop defect Credo showed.
 */

const CARD = { ausweisnummer: 'LSB-4711', nutzergruppe: 'ermaessigt', gueltig_bis: '2028-06-30', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('interop: Credo 0.6 holder against our issuer and verifier', () => {
  let stack: Stack;
  let holder: CredoHolder;
  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0', VERIFIER_TRUST_MAX_AGE: '0', ISSUER_TRUST_MAX_AGE: '0' } });
    // The city CA the issuer's demo mode created (HAIP x5c): the wallet trusts it like an EU wallet trusts its issuer list.
    holder = await createCredoHolder({ trustedCertificates: [readFileSync(join(stack.dataDir, 'city-ca', 'city-ca.pem'), 'utf8')] });
  });
  afterAll(async () => {
    await holder?.agent.shutdown();
    await stack?.close();
  });

  const offer = async (office: string, configuration: string, claims: unknown) => {
    const res = await stack.admin('issuer', `/api/offices/${office}/offers`, { credential_configuration_id: configuration, claims });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { offer_id: string; credential_offer: string; tx_code: string };
  };
  const offerState = async (office: string, id: string) => (await (await stack.admin('issuer', `/api/offices/${office}/offers/${id}`)).json()) as { status: string; credentials: unknown[] };

  /** Credo resolves the offer, redeems the code with the tx_code, proves its key, and stores the credential. */
  const receive = async (office: string, configuration: string, claims: unknown) => {
    const o = await offer(office, configuration, claims);
    const api = holder.agent.modules.openid4vc.holder;
    const resolvedCredentialOffer = await api.resolveCredentialOffer(o.credential_offer);
    const token = await api.requestToken({ resolvedCredentialOffer, txCode: o.tx_code });
    const { credentials } = await api.requestCredentials({ resolvedCredentialOffer, ...token, credentialBindingResolver: holder.credentialBindingResolver });
    expect(credentials).toHaveLength(1);
    const record = credentials[0]!.record;
    if (record instanceof SdJwtVcRecord) return holder.agent.sdJwtVc.store({ record });
    if (record instanceof W3cCredentialRecord) return holder.agent.w3cCredentials.store({ record });
    throw new Error(`unexpected record ${record.constructor.name}`);
  };

  /** The verifier asks; Credo resolves the signed request (did:web client), matches DCQL, answers; the verdict is read back. */
  const presentTo = async (slug: string, body: unknown) => {
    const res = await stack.admin('verifier', `/api/verifiers/${slug}/requests`, body);
    expect(res.status, await res.clone().text()).toBe(201);
    const r = (await res.json()) as { request_id: string; authorization_request: string };
    const api = holder.agent.modules.openid4vc.holder;
    const resolved = await api.resolveOpenId4VpAuthorizationRequest(r.authorization_request);
    if (!resolved.dcql) throw new Error('no DCQL query in the request');
    expect(resolved.dcql.queryResult.can_be_satisfied).toBe(true);
    const credentials = api.selectCredentialsForDcqlRequest(resolved.dcql.queryResult);
    const { serverResponse, authorizationResponsePayload } = await api.acceptOpenId4VpAuthorizationRequest({ authorizationRequestPayload: resolved.authorizationRequestPayload, dcql: { credentials } });
    expect(serverResponse?.status, JSON.stringify(serverResponse?.body)).toBe(200);
    const out = await (await stack.admin('verifier', `/api/verifiers/${slug}/requests/${r.request_id}`)).json();
    return { out, vpToken: authorizationResponsePayload.vp_token as Record<string, string[]> | undefined };
  };

  it('Credo receives meldebescheinigung_sd_jwt with a tx_code', async () => {
    const stored = (await receive('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE)) as SdJwtVcRecord;
    expect(stored.firstCredential.prettyClaims).toMatchObject({ vorname: 'Erika', wohnsitz_leipzig: true });
  });

  it('Credo receives bibliotheksausweis_jwt_vc with a tx_code, bound to its own did:jwk, with one status entry it can parse', async () => {
    const stored = (await receive('bibliothek', 'bibliotheksausweis_jwt_vc', CARD)) as W3cCredentialRecord;
    const vc = stored.firstCredential;
    expect(vc.type).toContain('Bibliotheksausweis');
    // Bound to exactly the DID Credo proved (OID4VCI 1.0 Appendix F.1 kid), which Credo holds in its DID store.
    const subject = decodeJwt(stored.encoded as string).sub!;
    expect(subject).toMatch(/^did:jwk:/);
    const own = await holder.agent.dids.getCreatedDids({ method: 'jwk' });
    expect(own.map((d) => d.did)).toContain(subject);
    // VCDM 1.1 §4.9: one credentialStatus object, the revocation entry; Credo's model holds it.
    const status = (decodeJwt(stored.encoded as string).vc as { credentialStatus: unknown }).credentialStatus;
    expect(Array.isArray(status)).toBe(false);
    expect(status).toMatchObject({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation' });
    expect(vc.credentialStatus).toMatchObject({ type: 'BitstringStatusListEntry' });
  });

  it('Credo presents the Meldebescheinigung at the Bürgerbüro (direct_post and direct_post.jwt): verified', async () => {
    for (const response_mode of ['direct_post', 'direct_post.jwt']) {
      const { out } = await presentTo('buergerbuero', { template: 'meldebescheinigung', response_mode });
      expect(out.status, `${response_mode}: ${JSON.stringify(out.result?.errors)}`).toBe('verified');
      expect(out.result.credentials[0].claims).toMatchObject({ vorname: 'Erika', wohnsitz_leipzig: true });
    }
  });

  it('Credo presents the library card (jwt_vc_json in a VP-JWT without iat) at the library (direct_post and direct_post.jwt): verified', async () => {
    for (const response_mode of ['direct_post', 'direct_post.jwt']) {
      const { out, vpToken } = await presentTo('bibliothek', { template: 'bibliotheksausweis', response_mode });
      expect(out.status, `${response_mode}: ${JSON.stringify(out.result?.errors)}`).toBe('verified');
      expect(out.result.credentials[0].claims).toMatchObject({ ausweisnummer: 'LSB-4711' });
      // Credo's VP-JWT carries no iat (VCDM 1.1 §6.3.1 does not require one); nonce and aud bind it.
      const vp = Object.values(vpToken ?? {})[0]?.[0];
      if (response_mode === 'direct_post') expect(decodeJwt(vp!).iat).toBeUndefined();
    }
  });

  it('Credo presents both credentials in one DCQL request (dc+sd-jwt and jwt_vc_json): verified', async () => {
    const { out } = await presentTo('bibliothek', {
      dcql_query: {
        credentials: [
          { id: 'melde', format: 'dc+sd-jwt', meta: { vct_values: ['urn:id-ideal:vct:meldebescheinigung'] }, claims: [{ path: ['vorname'] }, { path: ['anschrift'] }, { path: ['wohnsitz_leipzig'] }] },
          { id: 'karte', format: 'jwt_vc_json', meta: { type_values: [['VerifiableCredential', 'Bibliotheksausweis']] }, claims: [{ path: ['credentialSubject', 'ausweisnummer'] }] },
        ],
      },
    });
    expect(out.status, JSON.stringify(out.result?.errors)).toBe('verified');
    expect(out.result.credentials).toHaveLength(2);
  });

  it('key proofs: a did:jwk kid binds to that exact DID; other DID methods, malformed did:jwk and private keys are invalid_proof with the reason, and nothing is issued', async () => {
    /** An offer redeemed with its tx_code: the access token for one credential request. */
    const redeemed = async () => {
      const o = await offer('bibliothek', 'bibliotheksausweis_jwt_vc', CARD);
      const { client } = testWallet([]);
      const credentialOffer = await client.resolveCredentialOffer(o.credential_offer);
      const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
      const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code });
      const request = async (jwt: string) => {
        const r = await fetch(`${aud}/credential`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${accessTokenResponse.access_token}` },
          body: JSON.stringify({ credential_configuration_id: 'bibliotheksausweis_jwt_vc', proofs: { jwt: [jwt] } }),
        });
        return { status: r.status, body: (await r.json()) as { error?: string; error_description?: string; credentials?: { credential: string }[] } };
      };
      return { offerId: o.offer_id, request };
    };
    const aud = `${stack.urls.issuer}/offices/bibliothek`;
    const nonce = async () => (await (await fetch(`${aud}/nonce`, { method: 'POST' })).json()).c_nonce as string;
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const { kty, crv, x, y } = await exportJWK(publicKey);
    const proof = async (header: Record<string, unknown>) =>
      new SignJWT({ aud, iat: Math.floor(Date.now() / 1000), nonce: await nonce() }).setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', ...header }).sign(privateKey);

    const refused: [string, string, RegExp][] = [
      ['did:web', 'did:web:wallet.example#key-1', /did:web.*not accepted/],
      ['did:key', 'did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169', /did:key.*not accepted/],
      ['did:jwk without #0', `did:jwk:${b64({ kty, crv, x, y })}`, /#0/],
      ['did:jwk of something that is not JSON', `did:jwk:${Buffer.from('not json').toString('base64url')}#0`, /does not decode/],
      ['did:jwk with the private key', `did:jwk:${b64(jwk)}#0`, /private key/],
    ];
    const first = await redeemed();
    for (const [what, kid, why] of refused) {
      const r = await first.request(await proof({ kid }));
      expect(r.status, what).toBe(400);
      expect(r.body.error, what).toBe('invalid_proof');
      expect(r.body.error_description, what).toMatch(why);
    }
    expect(await offerState('bibliothek', first.offerId)).toMatchObject({ status: 'pending', credentials: [] });

    // A jwk header whose `kid` names another key's did:jwk: bound to the proven key, not to the DID it names.
    const other = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    const otherDid = `did:jwk:${b64({ crv: other.crv, kty: other.kty, x: other.x, y: other.y })}`;
    const viaJwk = await first.request(await proof({ jwk: { kty, crv, x, y, kid: `${otherDid}#0` } }));
    expect(viaJwk.status, JSON.stringify(viaJwk.body)).toBe(200);
    expect(decodeJwt(viaJwk.body.credentials![0]!.credential).sub).toBe(`did:jwk:${b64({ crv, kty, x, y })}`);

    // A did:jwk whose JSON members are in another order than ours: the credential names that DID, as sent.
    const did = `did:jwk:${b64({ y, x, kty, crv })}`;
    const ok = await (await redeemed()).request(await proof({ kid: `${did}#0` }));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const payload = decodeJwt(ok.body.credentials![0]!.credential);
    // VC-JWT (VCDM 1.1 §6.3.1): credentialSubject.id travels as `sub`.
    expect(payload.sub).toBe(did);
  });

  it('VP-JWT iat: optional (absent verifies), but a stale one is still refused', async () => {
    const { credential, key } = await receiveCredential(stack, 'bibliothek', 'bibliotheksausweis_jwt_vc', { ...CARD, ausweisnummer: 'LSB-4712' });
    const { kty, crv, x, y } = key.publicJwk;
    const did = `did:jwk:${b64({ crv, kty, x, y })}`;
    const attempt = async (iat: number | undefined) => {
      const res = await stack.admin('verifier', '/api/verifiers/bibliothek/requests', { template: 'bibliotheksausweis' });
      const r = (await res.json()) as { request_id: string; authorization_request: string };
      const req = await resolveRequest(r.authorization_request);
      const jwt = new SignJWT({ nonce: req.payload.nonce, vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: [credential] } })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: `${did}#0` })
        .setIssuer(did)
        .setAudience(req.clientId);
      if (iat !== undefined) jwt.setIssuedAt(iat);
      await postResponse(req, { bibliotheksausweis_w3c: [await jwt.sign(key.privateKey)] });
      const out = await (await stack.admin('verifier', `/api/verifiers/bibliothek/requests/${r.request_id}`)).json();
      return out.status === 'verified' ? 'verified' : out.result.errors.map((e: { code: string }) => e.code)[0];
    };
    expect(await attempt(undefined)).toBe('verified');
    expect(await attempt(Math.floor(Date.now() / 1000))).toBe('verified');
    expect(await attempt(Math.floor(Date.now() / 1000) - 3600)).toBe('holder_binding_failed');
  });
});
