import { type KeyObject, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { JWK } from 'jose';
import { thumbprint } from '../../core/crypto/jwk.ts';
import type { Signer } from '../../core/crypto/jws.ts';
import { type IssueSdJwtVcArgs, issueSdJwtVc, presentSdJwtVc, type VerifySdJwtVcArgs } from '../../core/formats/sd-jwt-vc/index.ts';

/** Shared fixtures for the SD-JWT VC tests: keys, a Leipzig-style credential, a frozen clock. */

export const T0 = Date.parse('2026-06-01T08:00:00Z');
export const T0_S = T0 / 1000;
export const ISSUER_DID = 'did:web:issuer.leipzig.example:offices:buergeramt';
export const VCT = 'https://credentials.leipzig.example/meldebescheinigung';
export const AUD = 'did:web:verifier.leipzig.example:counters:bibliothek';
export const NONCE = 'n-0S6_WzA2Mj';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

export function p256(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey, publicJwk: publicKey.export({ format: 'jwk' }) as JWK };
}

export async function signerFor(keys: KeyPair, did = ISSUER_DID): Promise<Signer> {
  return { kid: `${did}#${await thumbprint(keys.publicJwk)}`, alg: 'ES256', publicJwk: keys.publicJwk, privateKey: keys.privateKey };
}

export const issuerKeys = p256();
export const holderKeys = p256();
export const otherKeys = p256();

export const CLAIMS = {
  vorname: 'Erika',
  nachname: 'Mustermann',
  geburtsdatum: '1963-08-12',
  anschrift: { strasse: 'Heidestraße', hausnummer: '17', postleitzahl: '04109', ort: 'Leipzig' },
  staatsangehoerigkeiten: ['DE'],
};

/** Counter-based salts: deterministic output for tests that compare strings. */
export function countingSalt(prefix = 's'): () => string {
  let n = 0;
  return () => `${prefix}${(n++).toString().padStart(4, '0')}`;
}

export async function issue(overrides: Partial<IssueSdJwtVcArgs> = {}): Promise<string> {
  return issueSdJwtVc({
    signer: await signerFor(issuerKeys),
    iss: ISSUER_DID,
    vct: VCT,
    claims: CLAIMS,
    cnf: { jwk: holderKeys.publicJwk },
    iat: T0_S - 3600,
    exp: T0_S + 365 * 86400,
    ...overrides,
  });
}

export async function present(sdJwt: string, disclose: (string | number | null)[][], overrides: Partial<Parameters<typeof presentSdJwtVc>[0]> = {}): Promise<string> {
  return presentSdJwtVc({ sdJwt, disclose, holderKey: holderKeys.privateKey, aud: AUD, nonce: NONCE, iat: T0_S, ...overrides });
}

/** Verifier arguments for the default credential; the issuer key callback checks kid and iss like a DID resolver would. */
export function verifyArgs(sdJwt: string, overrides: Partial<VerifySdJwtVcArgs> = {}): VerifySdJwtVcArgs {
  return {
    sdJwt,
    issuerKey: async (header, payload) => {
      if (payload['iss'] !== ISSUER_DID || typeof header['kid'] !== 'string' || !header['kid'].startsWith(`${ISSUER_DID}#`)) throw new Error('unknown issuer');
      return issuerKeys.publicJwk;
    },
    expectedNonce: NONCE,
    expectedAud: AUD,
    now: T0,
    ...overrides,
  } as VerifySdJwtVcArgs;
}

// ---- raw JOSE helpers for forging tokens --------------------------------------------------

export const b64u = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
export const json64 = (v: unknown): string => b64u(JSON.stringify(v));
export const unjson64 = <T = Record<string, unknown>>(s: string): T => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as T;

/** A compact JWS signed with ES256 over whatever header and payload are given. */
export function es256Jws(header: Record<string, unknown>, payload: unknown, key: KeyObject): string {
  const input = `${json64(header)}.${json64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

export function hs256Jws(header: Record<string, unknown>, payload: unknown, secret: Buffer): string {
  const input = `${json64({ ...header, alg: 'HS256' })}.${json64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function disclosure(...parts: unknown[]): string {
  return json64(parts);
}
