import { SignJWT, decodeJwt, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { MELDE } from '../helpers/fixtures.ts';

/**
 * A lean OID4VCI 1.0 client for load and crash tests: plain fetch, one fresh ES256 holder key per
 * flow, and each step sent to an instance of choice (so a flow can cross instances the way a load
 * balancer would send it). URLs published by the issuer name its public URL; `base` is where the
 * step is actually sent.
 */
/** These tests send bursts from one address: per-client rate limits (core/http/rate-limit.ts) are not their subject. */
export const NO_RATE_LIMITS = { RATE_LIMIT_PUBLIC: '10000000', RATE_LIMIT_TRQP: '10000000', RATE_LIMIT_AUTH_FAILURES: '10000' };

export const PRE_AUTH = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
const OFFICE = 'buergerbuero';
const CONFIGURATION = 'meldebescheinigung_sd_jwt';

export interface Issued {
  offerId: string;
  credential: string;
  /** The status list entry inside the credential the wallet received. */
  status: { uri: string; idx: number };
}

export class StepError extends Error {
  constructor(
    readonly step: string,
    readonly status: number,
    body: string,
  ) {
    super(`${step} answered ${status}: ${body.slice(0, 300)}`);
  }
}

async function ok(step: string, res: Response, status = 200): Promise<any> {
  if (res.status !== status) throw new StepError(step, res.status, await res.text());
  return res.json();
}

export async function createOffer(base: string, adminToken: string): Promise<{ offer_id: string; credential_offer_uri: string; tx_code: string }> {
  return ok('offer', await fetch(`${base}/api/offices/${OFFICE}/offers`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ credential_configuration_id: CONFIGURATION, claims: MELDE }) }), 201);
}

/** The pre-authorized code of an offer, read from the offer object (by reference, §4.1.3). */
export async function preAuthorizedCode(base: string, publicUrl: string, offerUri: string): Promise<string> {
  const offer = await ok('offer object', await fetch(offerUri.replace(publicUrl, base)));
  return offer.grants[PRE_AUTH]['pre-authorized_code'];
}

export function tokenRequest(base: string, code: string, txCode: string): Promise<Response> {
  return fetch(`${base}/offices/${OFFICE}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: PRE_AUTH, 'pre-authorized_code': code, tx_code: txCode }) });
}

export async function cNonce(base: string): Promise<string> {
  return (await ok('nonce', await fetch(`${base}/offices/${OFFICE}/nonce`, { method: 'POST' }))).c_nonce;
}

export async function holderKey(): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, jwk: await exportJWK(publicKey) };
}

/** A key proof (OID4VCI 1.0 Appendix F.1) for the office at `publicUrl`. */
export function proofJwt(key: { privateKey: CryptoKey; jwk: JWK }, publicUrl: string, nonce: string): Promise<string> {
  return new SignJWT({ aud: `${publicUrl}/offices/${OFFICE}`, iat: Math.floor(Date.now() / 1000), nonce }).setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: key.jwk }).sign(key.privateKey);
}

export function credentialRequest(base: string, accessToken: string, proof: string): Promise<Response> {
  return fetch(`${base}/offices/${OFFICE}/credential`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ credential_configuration_id: CONFIGURATION, proofs: { jwt: [proof] } }) });
}

/** The status list entry of an SD-JWT VC (its `status.status_list`). */
export function statusOf(sdJwt: string): { uri: string; idx: number } {
  const payload = decodeJwt(sdJwt.split('~')[0]!) as { status: { status_list: { uri: string; idx: number } } };
  return payload.status.status_list;
}

/**
 * One whole issuance: offer (admin), offer object, token, nonce, credential. `bases` picks the
 * instance per step (cycled), e.g. [a] for one instance or [a, b] to alternate.
 */
export async function issueOnce(bases: string[], publicUrl: string, adminToken: string, observe: { offer?: (offerId: string) => void; token?: (offerId: string, accessToken: string) => void } = {}): Promise<Issued> {
  const at = (i: number) => bases[i % bases.length]!;
  const created = await createOffer(at(0), adminToken);
  observe.offer?.(created.offer_id);
  const code = await preAuthorizedCode(at(1), publicUrl, created.credential_offer_uri);
  const token = await ok('token', await tokenRequest(at(2), code, created.tx_code));
  observe.token?.(created.offer_id, token.access_token);
  const key = await holderKey();
  const nonce = await cNonce(at(3));
  const body = await ok('credential', await credentialRequest(at(4), token.access_token, await proofJwt(key, publicUrl, nonce)));
  const credential = body.credentials[0].credential as string;
  return { offerId: created.offer_id, credential, status: statusOf(credential) };
}

/** The admin view of an offer: `{status, credentials: [{credential_id, format, status_list: {uri, idx}}]}`. */
export async function adminOffer(base: string, adminToken: string, offerId: string): Promise<{ httpStatus: number; body: any }> {
  const res = await fetch(`${base}/api/offices/${OFFICE}/offers/${offerId}`, { headers: { authorization: `Bearer ${adminToken}` } });
  return { httpStatus: res.status, body: await res.json().catch(() => null) };
}
