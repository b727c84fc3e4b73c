import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDidResolver } from '../../core/did/resolver.ts';
import { StatusListClient } from '../../core/status-list/status-list-client.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, resolveRequest } from '../helpers/holder.ts';
import { newHolderKey, testWallet, type HolderKey } from '../helpers/oid4vci-wallet.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Issue 18, status list capacity: with lists of 16 entries an office keeps issuing by opening list
 * after list; each credential names its own list, which resolves and shows a revocation at the
 * verifier. A slot is only kept by a credential that was issued: concurrent requests on one access
 * token that lose the race, and requests with a rejected proof, leave no slot behind.
 */
const LIST_SIZE = 16;
const CONFIGURATION = 'meldebescheinigung_sd_jwt';
const V2 = 'https://www.w3.org/ns/credentials/v2';
const CARD = { ausweisnummer: 'LSB-0815', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };

type StatusRef = { uri: string; idx: number };
type Received = { credential: string; key: HolderKey; status: StatusRef; offerId: string };

describe('issuer: status lists open one after another, slots only for issued credentials', () => {
  let stack: Stack;
  let db: Database.Database;
  beforeAll(async () => {
    stack = await startStack({ env: { ISSUER_STATUS_LIST_SIZE: String(LIST_SIZE), STATUS_LIST_MAX_AGE: '0', VERIFIER_TRUST_MAX_AGE: '0', ISSUER_TRUST_MAX_AGE: '0' } });
    db = new Database(join(stack.dataDir, 'issuer.sqlite'), { readonly: true });
  });
  afterAll(async () => {
    db?.close();
    await stack?.close();
  });

  /** Slot rows (issued and reserved) of the office's Token Status Lists, straight from the database. */
  const slotsOf = (office: string) => (db.prepare("SELECT count(*) AS n FROM issuer_status_slots WHERE status_list LIKE 'tsl:' || ? || ':%'").get(office) as { n: number }).n;
  const issuerUrl = () => `${stack.urls.issuer}/offices/buergerbuero`;

  const newOffer = async () => {
    const res = await stack.admin('issuer', '/api/offices/buergerbuero/offers', { credential_configuration_id: CONFIGURATION, claims: MELDE });
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json() as Promise<{ offer_id: string; credential_offer: string; tx_code: string }>;
  };
  const redeem = async (keys: HolderKey[]) => {
    const o = await newOffer();
    const { client, signer } = testWallet(keys);
    const credentialOffer = await client.resolveCredentialOffer(o.credential_offer);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code });
    const proof = async (key: HolderKey, nonce: string) => (await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: CONFIGURATION, signer: signer(key), nonce })).jwt;
    return { offerId: o.offer_id, accessToken: accessTokenResponse.access_token, proof };
  };
  const nonce = async () => (await (await fetch(`${issuerUrl()}/nonce`, { method: 'POST' })).json()).c_nonce as string;
  const credentialRequest = (accessToken: string, proofs: string[]) =>
    fetch(`${issuerUrl()}/credential`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ credential_configuration_id: CONFIGURATION, proofs: { jwt: proofs } }),
    });
  const statusOf = (sdJwt: string) => (decodeJwt(sdJwt.split('~')[0]!) as { status: { status_list: StatusRef } }).status.status_list;

  /** One offer, one batch request with a proof per key (OID4VCI 1.0 batch issuance, at most ISSUER_BATCH_SIZE = 10). */
  const receiveBatch = async (n: number): Promise<Received[]> => {
    const keys = await Promise.all(Array.from({ length: n }, () => newHolderKey()));
    const { offerId, accessToken, proof } = await redeem(keys);
    const c = await nonce();
    const res = await credentialRequest(accessToken, await Promise.all(keys.map((k) => proof(k, c))));
    expect(res.status, await res.clone().text()).toBe(200);
    const { credentials } = (await res.json()) as { credentials: { credential: string }[] };
    return credentials.map((x, i) => ({ credential: x.credential, key: keys[i]!, status: statusOf(x.credential), offerId }));
  };

  const verifierResult = async (r: Received) => {
    const created = await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' });
    expect(created.status).toBe(201);
    const { request_id, authorization_request } = await created.json();
    const req = await resolveRequest(authorization_request);
    expect((await postResponse(req, { meldebescheinigung: [await present(r.credential, r.key, req, 'meldebescheinigung')] })).status).toBe(200);
    const out = await (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${request_id}`)).json();
    return out.status === 'verified' ? 'verified' : ((out.last_attempt?.errors?.[0]?.code ?? out.result?.errors?.[0]?.code) as string);
  };

  it('issues 40 credentials into lists of 16: at least 3 lists, each credential resolving through its own list, revocation seen by the verifier', async () => {
    const received: Received[] = [];
    for (let i = 0; i < 4; i++) received.push(...(await receiveBatch(10)));
    expect(received).toHaveLength(40);

    // Each credential names its list (draft-ietf-oauth-status-list §6.2); no (uri, idx) twice, every index inside its list.
    const uris = new Set(received.map((r) => r.status.uri));
    expect(uris.size).toBeGreaterThanOrEqual(3);
    for (const u of uris) expect(u).toMatch(new RegExp(`^${issuerUrl().replace(/[.]/g, '\\.')}/status-lists/[1-9][0-9]*$`));
    expect(uris).toContain(`${issuerUrl()}/status-lists/1`);
    expect(new Set(received.map((r) => `${r.status.uri}#${r.status.idx}`)).size).toBe(40);
    for (const r of received) expect(r.status.idx >= 0 && r.status.idx < LIST_SIZE, JSON.stringify(r.status)).toBe(true);

    // Each list resolves as a relying party fetches it: signed by the office, sub = its URI, VALID at every index.
    const client = new StatusListClient({ resolver: createDidResolver(), maxAgeMs: 0 });
    for (const r of received) expect(await client.check(r.status, stack.officeDid('buergerbuero'))).toEqual({ ok: true, status: 0 });
    // The admin view names the same list and index.
    const view = await (await stack.admin('issuer', `/api/offices/buergerbuero/offers/${received[39]!.offerId}`)).json();
    const key = (r: StatusRef) => `${r.uri}#${r.idx}`;
    expect(view.credentials.map((c: { status_list: StatusRef }) => key(c.status_list)).sort()).toEqual(received.slice(30).map((r) => key(r.status)).sort());

    // Revoke one credential from a list other than 1; the verifier sees it revoked, a neighbour in the same list still valid.
    const later = received.filter((r) => !r.status.uri.endsWith('/status-lists/1'));
    const [victim, neighbour] = [later[0]!, later.find((r) => r.status.uri === later[0]!.status.uri && r !== later[0])!];
    const victimView = await (await stack.admin('issuer', `/api/offices/buergerbuero/offers/${victim.offerId}`)).json();
    const credentialId = victimView.credentials.find((c: { status_list: StatusRef }) => c.status_list.uri === victim.status.uri && c.status_list.idx === victim.status.idx).credential_id;
    expect((await stack.admin('issuer', `/api/offices/buergerbuero/credentials/${credentialId}/status`, { status: 'revoked' })).status).toBe(200);
    expect(await client.check(victim.status, stack.officeDid('buergerbuero'))).toEqual({ ok: true, status: 1 });
    expect(await verifierResult(victim)).toBe('credential_revoked');
    expect(await verifierResult(neighbour)).toBe('verified');

    // A list number that was never opened is not served.
    expect((await fetch(`${issuerUrl()}/status-lists/99`)).status).toBe(404);
    expect((await fetch(`${issuerUrl()}/status-lists/01`)).status).toBe(404);
  });

  it('opens further W3C Bitstring Status Lists for VC-API credentials, each verifiable and revocable', async () => {
    type Issued = { verifiableCredential: { id: string }; credential_id: string };
    const issued: Issued[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await stack.admin('issuer', '/offices/bibliothek/credentials/issue', { credential: { '@context': [V2], type: ['VerifiableCredential', 'Bibliotheksausweis'], credentialSubject: CARD } });
      expect(res.status, await res.clone().text()).toBe(201);
      issued.push(await res.json());
    }
    const statusOfVc = (vc: Issued) => (JSON.parse(Buffer.from(vc.verifiableCredential.id.split(',')[1]!.split('.')[1]!, 'base64url').toString()) as { credentialStatus: { statusListCredential: string; statusListIndex: string }[] }).credentialStatus;
    const lists = new Set(issued.map((vc) => statusOfVc(vc)[0]!.statusListCredential));
    expect(lists.size).toBeGreaterThanOrEqual(2);
    const base = `${stack.urls.issuer}/offices/bibliothek/status-lists/w3c/v2`;
    expect(lists).toContain(`${base}/revocation`);
    expect(lists).toContain(`${base}/revocation/2`);
    const second = issued.find((vc) => statusOfVc(vc)[0]!.statusListCredential === `${base}/revocation/2`)!;
    expect(statusOfVc(second)[1]!.statusListCredential).toBe(`${base}/suspension/2`);
    const verify = async (vc: Issued) => (await (await stack.admin('verifier', '/credentials/verify', { verifiableCredential: vc.verifiableCredential })).json()) as { verified: boolean; errors: { code: string }[] };
    expect(await verify(second)).toMatchObject({ verified: true });
    const changed = await (await stack.admin('issuer', `/api/offices/bibliothek/credentials/${second.credential_id}/status`, { status: 'revoked' })).json();
    expect(changed.status_list).toEqual({ uri: `${base}/revocation/2`, idx: Number(statusOfVc(second)[0]!.statusListIndex) });
    expect((await verify(second)).errors).toEqual([expect.objectContaining({ code: 'credential_revoked' })]);
    // The VC-JWT form of the same list number is served too; list 1 has no number in its URL.
    expect((await fetch(`${stack.urls.issuer}/offices/bibliothek/status-lists/w3c/revocation/2`)).status).toBe(200);
    expect((await fetch(`${stack.urls.issuer}/offices/bibliothek/status-lists/w3c/revocation/1`)).status).toBe(404);
  });

  it('keeps exactly one slot when concurrent requests on one access token race and only one can win', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => newHolderKey()));
    const { accessToken, proof } = await redeem(keys);
    // Each request brings its own c_nonce and key, so every one passes the proof check and reaches issuance.
    const bodies = await Promise.all(keys.map(async (k) => [await proof(k, await nonce())]));
    const before = slotsOf('buergerbuero');
    const statuses = (await Promise.all(bodies.map((p) => credentialRequest(accessToken, p)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(7);
    expect(slotsOf('buergerbuero') - before).toBe(1);
    // No reservation is left waiting for a credential.
    expect(db.prepare('SELECT count(*) AS n FROM issuer_status_slots s WHERE NOT EXISTS (SELECT 1 FROM issuer_credentials c WHERE c.status_list = s.status_list AND c.status_idx = s.status_idx)').get()).toEqual({ n: 0 });
  });

  it('claims no slot for a request whose proof is rejected', async () => {
    const [key, other] = await Promise.all([newHolderKey(), newHolderKey()]);
    const { accessToken, proof } = await redeem([key!]);
    const before = slotsOf('buergerbuero');
    const wrongAud = await new SignJWT({ aud: 'https://elsewhere.example', iat: Math.floor(Date.now() / 1000), nonce: await nonce() })
      .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: key!.publicJwk })
      .sign(key!.privateKey);
    const forged = await new SignJWT({ aud: issuerUrl(), iat: Math.floor(Date.now() / 1000), nonce: await nonce() })
      .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: key!.publicJwk })
      .sign(other!.privateKey);
    for (const proofs of [[wrongAud], [forged], [await proof(key!, await nonce()), forged]]) {
      const res = await credentialRequest(accessToken, proofs);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_proof');
      expect(slotsOf('buergerbuero')).toBe(before);
    }
    // The offer is still open: a good proof gets the credential and its one slot.
    expect((await credentialRequest(accessToken, [await proof(key!, await nonce())])).status).toBe(200);
    expect(slotsOf('buergerbuero')).toBe(before + 1);
  });
});
