import type { JWK } from 'jose';
import type { ConcretePath } from './claim-path.ts';

/**
 * Every reason a presentation can fail verification. Closed set: callers may switch over it.
 * Each code is set at the step that detects the failure (STYLE §8).
 */
export const SD_JWT_VC_FAILURE_CODES = [
  /** Not an SD-JWT / SD-JWT+KB in compact form, undecodable JSON, or a required claim missing or of the wrong type. */
  'malformed',
  /** JWS `alg` outside the allow-list (ES256 only; `none` and HMAC never), or an `_sd_alg` other than sha-256. */
  'unsupported_alg',
  /** `typ` of the Issuer-signed JWT is not the expected one (`dc+sd-jwt`), or the KB-JWT's is not `kb+jwt`. */
  'wrong_typ',
  /** The issuer-key callback threw, or returned something that is not a P-256 public key. */
  'issuer_key_unresolved',
  /** The Issuer-signed JWT's signature does not verify with the issuer's key. */
  'invalid_signature',
  /** `exp` has passed (beyond the allowed clock skew). */
  'expired',
  /** `nbf` or `iat` lies in the future (beyond the allowed clock skew). */
  'not_yet_valid',
  /** A Disclosure breaks RFC 9901 §4.2 / §7.1 step 3 (wrong shape, `_sd`/`...` as name, name clash) or discloses a claim SD-JWT VC forbids disclosing. */
  'disclosure_invalid',
  /** A Disclosure is referenced by no digest (RFC 9901 §7.1 step 5). */
  'disclosure_unreferenced',
  /** The same Disclosure sent twice, or a digest occurring more than once (RFC 9901 §4, §4.1, §7.1 step 4). */
  'disclosure_duplicate',
  /** Key Binding required but no KB-JWT presented, or the credential carries no `cnf.jwk` to bind to. */
  'holder_binding_missing',
  /** KB-JWT not signed by the `cnf` key (or that key is unusable). */
  'holder_binding_failed',
  /** KB-JWT `nonce` differs from the expected one. */
  'nonce_mismatch',
  /** KB-JWT `aud` is not the expected single string. */
  'audience_mismatch',
  /** KB-JWT `iat` outside [now - kbMaxAge - skew, now + skew], or the KB-JWT's own `exp`/`nbf` fail. */
  'kb_stale',
  /** KB-JWT `sd_hash` does not match the presented SD-JWT. */
  'sd_hash_mismatch',
] as const;

export type SdJwtVcFailureCode = (typeof SD_JWT_VC_FAILURE_CODES)[number];

export interface VerifyFailure {
  ok: false;
  code: SdJwtVcFailureCode;
  /** Diagnostic text for logs; never branch on it. Contains no claim values. */
  message: string;
}

export function fail(code: SdJwtVcFailureCode, message: string): VerifyFailure {
  return { ok: false, code, message };
}

/** Status reference per Token Status List (draft-ietf-oauth-status-list §6.2 "status_list"). */
export interface StatusListReference {
  status_list: { idx: number; uri: string };
}

/** What a verified KB-JWT asserted (RFC 9901 §4.3). */
export interface KeyBindingClaims {
  iat: number;
  aud: string;
  nonce: string;
  sd_hash: string;
}

/** A successfully verified SD-JWT (any profile). */
export interface SdJwtVerified {
  ok: true;
  /** Protected header of the Issuer-signed JWT. */
  header: Record<string, unknown>;
  /** Issuer-signed payload exactly as signed (with `_sd`, `_sd_alg` and digests). */
  payload: Record<string, unknown>;
  /** Processed SD-JWT Payload (RFC 9901 §7.1): plaintext claims plus the disclosed ones; `_sd`, `_sd_alg` and undisclosed array elements removed. */
  claims: Record<string, unknown>;
  /** Path of every claim revealed by a Disclosure, in the processed payload's coordinates (array indices after removal of undisclosed elements). */
  disclosedPaths: ConcretePath[];
  /** Holder key from `cnf.jwk`, when present. */
  cnfJwk?: JWK;
  /** Present when a KB-JWT was presented and verified. */
  keyBinding?: KeyBindingClaims;
}

/** A successfully verified SD-JWT VC. */
export interface SdJwtVcVerified extends SdJwtVerified {
  vct: string;
  iss: string;
  iat?: number;
  exp?: number;
  nbf?: number;
  /** `status` claim as issued, shape-checked but NOT checked against the status list (the caller does that). */
  status?: StatusListReference;
}

export type SdJwtVerifyResult = SdJwtVerified | VerifyFailure;
export type SdJwtVcVerifyResult = SdJwtVcVerified | VerifyFailure;

/** Thrown by issue/present on caller mistakes (STYLE: a failed verification is a result, misuse is an exception). */
export class SdJwtVcUsageError extends Error {
  override name = 'SdJwtVcUsageError';
}
