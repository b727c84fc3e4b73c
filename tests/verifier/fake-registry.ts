import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { didJwk } from '../../core/formats/vc-jwt/vc-jwt-issuer.ts';
import { TrustIndex } from '../../core/trust/evaluate.ts';
import type { Grant, RegistryState } from '../../core/trust/model.ts';

/**
 * A hand-built registry for in-process verifier tests: one root, issuers each granted `issue` on
 * the card type only (W3C type `Bibliotheksausweis`); the pass type (`LeipzigPass`) is registered
 * but granted to nobody here.
 */
export const ROOT = 'did:web:registry.example:authorities:city';
export const CARD = 'urn:test:card';
export const PASS = 'urn:test:pass';
export const V1 = 'https://www.w3.org/2018/credentials/v1';

export function fakeRegistry(issuers: string[], from = Date.parse('2020-01-01T00:00:00Z')): TrustIndex {
  const grants: Grant[] = issuers.map((id, i) => ({ id: `g${i}`, authority_id: ROOT, entity_id: id, action: 'issue', resource: CARD, valid_from: new Date(from).toISOString(), valid_until: null, constraints: {}, statement: 'x.y.z', history: [] }));
  const state: RegistryState = {
    authority_id: ROOT,
    entities: [{ id: ROOT, kind: 'authority', name: { de: 'Stadt', en: 'City' } }, ...issuers.map((id) => ({ id, kind: 'issuer' as const, name: { de: 'Testamt', en: 'Test office' } }))],
    credential_types: [
      { vct: CARD, name: { de: 'Karte', en: 'Card' }, issued_before_suspension: 'accept', w3c_types: ['Bibliotheksausweis'] },
      { vct: PASS, name: { de: 'Pass', en: 'Pass' }, issued_before_suspension: 'reject', w3c_types: ['LeipzigPass'] },
    ],
    grants,
  };
  return new TrustIndex(state);
}

/** A private key as jose's generateKeyPair returns it. */
export type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface TestKey {
  did: string;
  kid: string;
  publicJwk: JWK;
  privateKey: PrivateKey;
}

/** A P-256 key named by its did:jwk (resolved offline). */
export async function didJwkKey(): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const did = didJwk(publicJwk);
  return { did, kid: `${did}#0`, publicJwk, privateKey };
}

export interface VcJwtOptions {
  issuer: { did: string; kid?: string; privateKey: PrivateKey };
  holder: string;
  /** Header typ; null: no typ member. Default "JWT". */
  typ?: string | null;
  alg?: string;
  types?: string[];
  vc?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  nbf?: number;
  exp?: number;
}

/** A VCDM 1.1 VC-JWT as our issuer writes one (iss, sub, nbf, exp, vc without issuer/subject id). */
export function vcJwt(o: VcJwtOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    vc: { '@context': [V1], type: o.types ?? ['VerifiableCredential', 'Bibliotheksausweis'], credentialSubject: { ausweisnummer: 'LSB-4711', nutzergruppe: 'erwachsen', ...o.claims }, ...o.vc },
    sub: o.holder,
    nbf: o.nbf ?? now - 10,
    exp: o.exp ?? now + 3600,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: o.alg ?? 'ES256', kid: o.issuer.kid ?? `${o.issuer.did}#0`, ...(o.typ === null ? {} : { typ: o.typ ?? 'JWT' }) })
    .setIssuer(o.issuer.did)
    .sign(o.issuer.privateKey);
}

/** A VCDM 1.1 VP-JWT by `holder` with this nonce and audience. */
export function vpJwt(holder: { kid: string; did: string; privateKey: PrivateKey }, vcs: string[], nonce: string, aud: string): Promise<string> {
  return new SignJWT({ nonce, vp: { '@context': [V1], type: ['VerifiablePresentation'], verifiableCredential: vcs } })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: holder.kid })
    .setIssuer(holder.did)
    .setAudience(aud)
    .setIssuedAt()
    .sign(holder.privateKey);
}
