import { createHash } from 'node:crypto';
import { pooledRandomBytes } from '../../crypto/random.ts';
import { digest } from '@sd-jwt/crypto-nodejs';
import type { SDJWTVCConfig } from '@sd-jwt/sd-jwt-vc';

/** The library's callback types, taken from its exported config so we import nothing it does not export. */
export type Hasher = NonNullable<SDJWTVCConfig['hasher']>;
export type SaltGenerator = () => string;

/**
 * The only `_sd_alg` we issue and accept. RFC 9901 §4.1.1: implementations MUST support sha-256;
 * §7.1 step 2.5: the verifier checks the value is understood and deemed secure.
 */
export const SD_ALG = 'sha-256';

/**
 * Hasher for the library callbacks. @sd-jwt/crypto-nodejs `digest` hashes whatever node:crypto
 * knows after stripping a dash ('sha-512', 'md-5' …); we refuse everything but sha-256 so an
 * unexpected `_sd_alg` can never silently change the digest function.
 */
export const sha256Hasher: Hasher = (data, alg) => {
  if (alg !== SD_ALG) throw new Error(`unsupported _sd_alg ${alg}`);
  return digest(data, SD_ALG);
};

/**
 * base64url(SHA-256(US-ASCII bytes of `text`)): the digest of a Disclosure (RFC 9901 §4.2.3) and
 * the `sd_hash` of a presentation (RFC 9901 §4.3.1).
 */
export function sdDigest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * Salt of 128 random bits, base64url-encoded (RFC 9901 §9.3). Written here rather than taken
 * from @sd-jwt/crypto-nodejs: its `generateSalt(16)` returns the first 16 *hex* characters of
 * 16 random bytes, i.e. only 64 bits of entropy.
 */
export const randomSalt: SaltGenerator = () => pooledRandomBytes(16).toString('base64url');
