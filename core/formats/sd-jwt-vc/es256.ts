import { KeyObject, createPublicKey, sign } from 'node:crypto';
import type { JWK } from 'jose';
import { publicKeyObject } from '../../crypto/jwk.ts';
import { SdJwtVcUsageError } from './result.ts';

/**
 * ES256 only (core/crypto/jws.ts ALLOWED_ALGS). The library assembles the JWS itself and asks for
 * a raw signature callback, so signing for it happens here with node:crypto; all verification
 * goes through core/crypto/jws.ts.
 */

const isP256 = (key: KeyObject): boolean => key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';

export function assertP256Private(key: KeyObject, what: string): void {
  if (key.type !== 'private' || !isP256(key)) throw new SdJwtVcUsageError(`${what} must be a P-256 private key (ES256)`);
}

/** Signature callback for the library: base64url(r || s) over the ASCII signing input (RFC 7518 §3.4). */
export function es256Sign(privateKey: KeyObject): (data: string) => string {
  assertP256Private(privateKey, 'signing key');
  return (data) => sign('sha256', Buffer.from(data, 'ascii'), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

/** A P-256 public key from a JWK or KeyObject, or undefined if it is anything else. */
export function p256PublicKey(key: JWK | KeyObject): KeyObject | undefined {
  try {
    const keyObject = key instanceof KeyObject ? key : publicKeyObject(key);
    return keyObject.type === 'public' && isP256(keyObject) ? keyObject : undefined;
  } catch {
    return undefined;
  }
}

/** The public JWK of a private KeyObject, for comparison with `cnf.jwk`. */
export function publicJwkOf(privateKey: KeyObject): JWK {
  return createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
}

