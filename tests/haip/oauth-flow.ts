import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { RunningIssuer } from '../helpers/issuer.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { openCityCa, type CityCa } from '../../core/x509/city-ca.ts';
import { issueLeafCertificate } from '../../core/x509/issue-certificate.ts';

/**
 * Raw HTTP steps of the pre-authorized code flow for the HAIP tests (DPoP, wallet attestation, key
 * attestation): every header and claim is ours to set, so each test can get one thing wrong.
 */

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
export interface Key {
  privateKey: PrivateKey;
  publicJwk: JWK;
}

export async function newKey(): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  return { privateKey, publicJwk: { kty, crv, x, y } };
}

export const thumbprint = (jwk: JWK) => calculateJwkThumbprint(jwk, 'sha256');
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** RFC 9449 §4.2 proof; every claim can be overridden (undefined removes it). */
export async function dpopProof(key: Key, o: { htm: string; htu: string; nonce?: string; accessToken?: string; jti?: string; iat?: number; typ?: string; extra?: Record<string, unknown> }): Promise<string> {
  const payload: Record<string, unknown> = { htm: o.htm, htu: o.htu, jti: o.jti ?? randomBytes(16).toString('base64url'), iat: o.iat ?? now(), ...(o.nonce ? { nonce: o.nonce } : {}), ...(o.accessToken ? { ath: ath(o.accessToken) } : {}), ...o.extra };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: o.typ ?? 'dpop+jwt', jwk: key.publicJwk }).sign(key.privateKey);
}

export interface Offer {
  offer_id: string;
  credential_offer_uri: string;
  tx_code: string;
}

export async function createOffer(iss: RunningIssuer, slug = 'buergerbuero', configuration = 'meldebescheinigung_sd_jwt', claims: unknown = MELDE): Promise<Offer & { code: string }> {
  const res = await iss.admin(`/api/offices/${slug}/offers`, { credential_configuration_id: configuration, claims });
  if (res.status !== 201) throw new Error(`offer: ${res.status} ${await res.text()}`);
  const o = (await res.json()) as Offer;
  const offerObject = (await (await fetch(o.credential_offer_uri)).json()) as { grants: Record<string, { 'pre-authorized_code': string }> };
  return { ...o, code: offerObject.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']!['pre-authorized_code'] };
}

export const tokenUrl = (iss: RunningIssuer, slug = 'buergerbuero') => `${iss.url}/offices/${slug}/token`;
export const credentialUrl = (iss: RunningIssuer, slug = 'buergerbuero') => `${iss.url}/offices/${slug}/credential`;

export async function tokenRequest(iss: RunningIssuer, offer: { code: string; tx_code: string }, headers: Record<string, string> = {}, slug = 'buergerbuero') {
  const res = await fetch(tokenUrl(iss, slug), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': offer.code, tx_code: offer.tx_code }).toString(),
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

/** A server DPoP nonce, from the nonce endpoint's DPoP-Nonce header (OID4VCI 1.0 §7.2). */
export async function nonces(iss: RunningIssuer, slug = 'buergerbuero'): Promise<{ cNonce: string; dpopNonce: string }> {
  const res = await fetch(`${iss.url}/offices/${slug}/nonce`, { method: 'POST' });
  const body = (await res.json()) as { c_nonce: string };
  return { cNonce: body.c_nonce, dpopNonce: res.headers.get('dpop-nonce')! };
}

/** OID4VCI 1.0 Appendix F.1 key proof with a `jwk` header; extra header members (key_attestation) allowed. */
export async function keyProof(key: Key, o: { aud: string; nonce: string; header?: Record<string, unknown> }): Promise<string> {
  return new SignJWT({ aud: o.aud, nonce: o.nonce, iat: now() }).setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: key.publicJwk, ...o.header }).sign(key.privateKey);
}

export async function credentialRequest(iss: RunningIssuer, auth: string, proofs: string[], headers: Record<string, string> = {}, slug = 'buergerbuero', configuration = 'meldebescheinigung_sd_jwt') {
  const res = await fetch(credentialUrl(iss, slug), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth, ...headers },
    body: JSON.stringify({ credential_configuration_id: configuration, proofs: { jwt: proofs } }),
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

/** Changes an office in the catalogue (PUT /api/catalog/offices/{slug}) with `patch` merged into its definition. */
export async function patchOffice(iss: RunningIssuer, slug: string, patch: (def: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const catalog = (await (await iss.admin('/api/catalog')).json()) as { offices: Record<string, unknown>[] };
  const def = catalog.offices.find((o) => o.slug === slug)!;
  const res = await fetch(`${iss.url}/api/catalog/offices/${slug}`, { method: 'PUT', headers: { authorization: 'Bearer test-issuer-admin-token-0123456789', 'content-type': 'application/json' }, body: JSON.stringify(patch(def)) });
  if (res.status >= 300) throw new Error(`catalogue: ${res.status} ${await res.text()}`);
}

/** A wallet provider (or key attestation issuer): a P-256 key certified by `ca` (core/x509/issue-certificate.ts). */
export async function walletProvider(ca: CityCa, name = 'Test Wallet Provider'): Promise<Key & { x5c: string[] }> {
  const key = await newKey();
  const leaf = await issueLeafCertificate(ca, { publicJwk: key.publicJwk, name, uris: ['https://wallet-provider.example'], now: Date.now() });
  return { ...key, x5c: leaf.x5c };
}

/** draft-ietf-oauth-attestation-based-client-auth: the attestation JWT (by the provider) and its PoP (by the instance key). */
export async function walletAttestationHeaders(provider: Key & { x5c: string[] }, instance: Key, o: { aud: string; sub?: string; jti?: string; popIat?: number; header?: Record<string, unknown> }): Promise<Record<string, string>> {
  const sub = o.sub ?? 'wallet-instance-1';
  const t = now();
  const attestation = await new SignJWT({ iss: 'https://wallet-provider.example', sub, iat: t, exp: t + 3600, cnf: { jwk: instance.publicJwk }, wallet_name: 'Testwallet' })
    .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation+jwt', x5c: provider.x5c, ...o.header })
    .sign(provider.privateKey);
  const pop = await new SignJWT({ iss: sub, aud: o.aud, iat: o.popIat ?? t, exp: (o.popIat ?? t) + 300, jti: o.jti ?? randomBytes(16).toString('base64url') })
    .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation-pop+jwt' })
    .sign(instance.privateKey);
  return { 'OAuth-Client-Attestation': attestation, 'OAuth-Client-Attestation-PoP': pop };
}

/** OID4VCI 1.0 Appendix D.1 key attestation, signed by `issuer` with its x5c. */
export async function keyAttestation(issuer: Key & { x5c: string[] }, attested: JWK[], o: { nonce?: string; keyStorage?: string[]; userAuthentication?: string[]; exp?: number; typ?: string } = {}): Promise<string> {
  const t = now();
  return new SignJWT({ iss: 'https://wallet-provider.example', iat: t, exp: o.exp ?? t + 3600, attested_keys: attested, key_storage: o.keyStorage ?? ['iso_18045_high'], user_authentication: o.userAuthentication ?? ['iso_18045_high'], ...(o.nonce ? { nonce: o.nonce } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: o.typ ?? 'key-attestation+jwt', x5c: issuer.x5c })
    .sign(issuer.privateKey);
}

/** The demo city CA the test issuer created in its DATA_DIR (trusted in demo mode for wallet providers). */
export async function issuerDemoCa(iss: RunningIssuer): Promise<CityCa> {
  return (await openCityCa({ mode: 'demo', dataDir: iss.registry.dataDir, keyEncryptionSecret: 'a'.repeat(64), now: Date.now() }))!;
}
