import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { JoseVerifyError, type JoseFailure, peekHeader, verifyJwt } from '../../crypto/jws.ts';
import { type CompactSdJwt, decodeJsonObject, parseCompact } from './compact.ts';
import { p256PublicKey } from './es256.ts';
import { SD_ALG, sdDigest } from './hasher.ts';
import { processDisclosures } from './process-disclosures.ts';
import { KB_JWT_TYP } from './profile.ts';
import { type KeyBindingClaims, type SdJwtVcFailureCode, type SdJwtVerifyResult, type VerifyFailure, fail } from './result.ts';

/**
 * Resolves the issuer's public key for an Issuer-signed JWT, e.g. from the DID in `iss` and the
 * `kid` header, after checking the key belongs to that issuer (RFC 9901 §7.1 step 2.3; SD-JWT VC
 * §2.5). Header and payload are NOT yet verified when it is called. A throw means "no acceptable key".
 */
export type IssuerKeyResolver = (header: Record<string, unknown>, payload: Record<string, unknown>) => Promise<JWK | KeyObject>;

/**
 * Key Binding policy (RFC 9901 §7.3 step 1: decided by the verifier, never by what was presented).
 * When required, the expected nonce and audience are mandatory. When not required, a KB-JWT that
 * is nevertheless presented is still verified, against these expectations if given.
 */
export type KeyBindingPolicy =
  | { requireKeyBinding?: true; expectedNonce: string; expectedAud: string }
  | { requireKeyBinding: false; expectedNonce?: string; expectedAud?: string };

export type VerifyOptions = {
  /** The presentation: `<jwt>~<disclosures>~` or `<jwt>~<disclosures>~<kb-jwt>`. */
  sdJwt: string;
  issuerKey: IssuerKeyResolver;
  /** Current time in milliseconds since the epoch. */
  now: number;
  /** Maximum age of a KB-JWT `iat`. Default 300. */
  kbMaxAgeSeconds?: number;
  /** Tolerance for `exp`, `nbf`, `iat` of both JWTs. Default 60. */
  clockSkewSeconds?: number;
} & KeyBindingPolicy;

export type VerifySdJwtArgs = VerifyOptions & {
  /** Expected `typ` of the Issuer-signed JWT, compared exactly (RFC 9901 §9.11, RFC 8725 §3.11). */
  typ: string;
};

const DEFAULT_KB_MAX_AGE_SECONDS = 300;
const DEFAULT_CLOCK_SKEW_SECONDS = 60;

interface Settings {
  requireKeyBinding: boolean;
  nowSeconds: number;
  kbMaxAge: number;
  skew: number;
}

/**
 * Verifies an SD-JWT or SD-JWT+KB of any profile (RFC 9901 §7.1 and §7.3). Never throws for bad
 * input: every failure is a result with a code. Throws TypeError only for caller mistakes
 * (missing nonce/audience when Key Binding is required, non-numeric clock).
 *
 * Built on core/crypto/jws.ts (jose) and this module's own disclosure processing rather than on
 * @sd-jwt/sd-jwt-vc's `verify`, which (0.19.0, see tests/formats/sd-jwt-library-behaviour.test.ts)
 * checks neither `typ` nor `alg` of the Issuer-signed JWT (its verifier callback only gets the
 * signing input), skips the whole KB-JWT unless `keyBindingNonce` is passed, never checks KB `aud`
 * or `iat`, accepts unreferenced, duplicated and malformed Disclosures, fetches the status list
 * over the network whenever `status` is present, and reports every failure as an exception told
 * apart only by its message text (STYLE §5 forbids branching on that).
 */
export async function verifySdJwt(args: VerifySdJwtArgs): Promise<SdJwtVerifyResult> {
  const settings = checkArgs(args);
  try {
    return await run(args, settings);
  } catch (err) {
    // Defensive: every expected failure returns above; anything else is still a rejection.
    return fail('malformed', `verification aborted: ${err instanceof Error ? err.name : typeof err}`);
  }
}

async function run(args: VerifySdJwtArgs, s: Settings): Promise<SdJwtVerifyResult> {
  // RFC 9901 §7.3 step 3 and §7.1 step 1: separate the Issuer-signed JWT, Disclosures and KB-JWT.
  const parts = parseCompact(args.sdJwt);
  if (typeof parts === 'string') return fail('malformed', parts);

  // RFC 9901 §7.3 step 2: Key Binding required but an SD-JWT without KB-JWT presented.
  if (s.requireKeyBinding && !parts.kbJwt) return fail('holder_binding_missing', 'Key Binding is required but no KB-JWT was presented');

  // RFC 9901 §7.1 step 2.1 (RFC 8725 §3.1, §3.2): algorithm allow-list (ES256), never `none` or HMAC,
  // checked before the token reaches the key resolver.
  let header: Record<string, unknown>;
  try {
    header = peekHeader(parts.jwt);
  } catch (err) {
    return joseFailure(err, { bad_alg: 'unsupported_alg' }, 'Issuer-signed JWT');
  }
  // SD-JWT VC §2.2.1 / RFC 9901 §9.11: explicit typing, compared exactly.
  if (header['typ'] !== args.typ) return fail('wrong_typ', `Issuer-signed JWT typ must be ${args.typ}`);
  const unverifiedPayload = decodeJsonObject(parts.jwt.split('.')[1] ?? '');
  if (!unverifiedPayload) return fail('malformed', 'Issuer-signed JWT payload is not a JSON object');

  // RFC 9901 §7.1 step 2.3, SD-JWT VC §2.4/§2.5: the key must belong to the issuer; the caller decides.
  let issuerKey: KeyObject | undefined;
  try {
    issuerKey = p256PublicKey(await args.issuerKey(header, unverifiedPayload));
  } catch {
    return fail('issuer_key_unresolved', 'no acceptable key for the issuer');
  }
  if (!issuerKey) return fail('issuer_key_unresolved', 'the issuer key is not a P-256 public key');

  // RFC 9901 §7.1 step 2.2: signature; step 6: `exp` and `nbf` at the injected clock (jose checks them after the signature).
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await verifyJwt(parts.jwt, issuerKey, { typ: args.typ, currentDate: new Date(s.nowSeconds * 1000), clockTolerance: s.skew }));
  } catch (err) {
    return joseFailure(err, { bad_alg: 'unsupported_alg', bad_typ: 'wrong_typ', bad_signature: 'invalid_signature', expired: 'expired', not_yet_valid: 'not_yet_valid' }, 'Issuer-signed JWT');
  }
  // RFC 9901 §7.1 step 2.5 and §4.1.1: `_sd_alg` (default sha-256) must be one we accept.
  const sdAlg = payload['_sd_alg'] ?? SD_ALG;
  if (sdAlg !== SD_ALG) return fail('unsupported_alg', '_sd_alg must be sha-256');

  // RFC 9901 §7.1 steps 3 to 5.
  const processed = processDisclosures(payload, parts.disclosures);
  if (!processed.ok) return fail(processed.code, processed.message);

  // RFC 9901 §7.1 step 6: validity claims of the *processed* payload. jose checked the plaintext
  // exp/nbf above; this also covers validity claims a (non-VC) issuer made selectively disclosable.
  const invalid = checkValidity(processed.claims, s);
  if (invalid) return invalid;

  const cnfJwk = cnfJwkOf(processed.claims);
  const base = {
    ok: true as const,
    header,
    payload,
    claims: processed.claims,
    disclosedPaths: processed.placed.map((p) => p.path),
    ...(cnfJwk ? { cnfJwk } : {}),
  };
  if (!parts.kbJwt) return base;

  const kb = await verifyKeyBinding(parts as Required<CompactSdJwt>, cnfJwk, args, s);
  if (!kb.ok) return kb;
  return { ...base, keyBinding: kb.claims };
}

/** RFC 9901 §7.3 step 5 (and §4.3 for the claims a KB-JWT must carry). */
async function verifyKeyBinding(
  parts: Required<CompactSdJwt>,
  cnfJwk: JWK | undefined,
  expect: KeyBindingPolicy,
  s: Settings,
): Promise<{ ok: true; claims: KeyBindingClaims } | VerifyFailure> {
  // §7.3 5.1, SD-JWT VC §2.4: the holder key is the one in `cnf`.
  if (!cnfJwk) return fail('holder_binding_missing', 'the credential has no cnf.jwk to verify the KB-JWT with');
  const holderKey = p256PublicKey(cnfJwk);
  if (!holderKey) return fail('holder_binding_failed', 'cnf.jwk is not a P-256 public key');

  // §7.3 5.2 to 5.4 and 5.8: alg allow-list, signature by the cnf key, typ kb+jwt, any exp/nbf of the KB-JWT.
  let kb: Record<string, unknown>;
  try {
    ({ payload: kb } = await verifyJwt(parts.kbJwt, holderKey, { typ: KB_JWT_TYP, currentDate: new Date(s.nowSeconds * 1000), clockTolerance: s.skew }));
  } catch (err) {
    return joseFailure(err, { bad_alg: 'unsupported_alg', bad_typ: 'wrong_typ', bad_signature: 'holder_binding_failed', expired: 'kb_stale', not_yet_valid: 'kb_stale' }, 'KB-JWT');
  }
  const { iat, aud, nonce, sd_hash } = kb;

  // §7.3 5.5: `iat` within an acceptable window around now.
  if (typeof iat !== 'number') return fail('malformed', 'KB-JWT iat missing or not a number');
  if (iat > s.nowSeconds + s.skew) return fail('kb_stale', 'KB-JWT iat is in the future');
  if (iat < s.nowSeconds - s.kbMaxAge - s.skew) return fail('kb_stale', 'KB-JWT is too old');

  // §7.3 5.6: bound to this transaction (nonce) and this verifier (aud). §4.3: aud is a single string.
  // The library never compares `aud`; its nonce check only runs when asked to.
  if (expect.expectedNonce === undefined || typeof nonce !== 'string' || nonce !== expect.expectedNonce) {
    return fail('nonce_mismatch', expect.expectedNonce === undefined ? 'a KB-JWT was presented but no nonce is expected' : 'KB-JWT nonce does not match');
  }
  if (expect.expectedAud === undefined || typeof aud !== 'string' || aud !== expect.expectedAud) {
    return fail('audience_mismatch', expect.expectedAud === undefined ? 'a KB-JWT was presented but no audience is expected' : 'KB-JWT aud is not this verifier');
  }

  // §7.3 5.7 and §4.3.1: sd_hash over `<jwt>~<d1>~…~<dn>~` exactly as received, with the `_sd_alg` hash.
  if (typeof sd_hash !== 'string' || sd_hash !== sdDigest(parts.sdJwt)) return fail('sd_hash_mismatch', 'KB-JWT sd_hash does not match the presented SD-JWT');

  return { ok: true, claims: { iat, aud, nonce, sd_hash } };
}

/** RFC 7519 §4.1.4 to §4.1.6 with the injected clock and skew; an `iat` in the future means not valid yet. */
function checkValidity(claims: Record<string, unknown>, s: Settings): VerifyFailure | undefined {
  const { exp, nbf, iat } = claims;
  for (const [name, value] of [['exp', exp], ['nbf', nbf], ['iat', iat]] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) return fail('malformed', `${name} is not a number`);
  }
  if (typeof exp === 'number' && exp <= s.nowSeconds - s.skew) return fail('expired', 'exp has passed');
  if (typeof nbf === 'number' && nbf > s.nowSeconds + s.skew) return fail('not_yet_valid', 'nbf is in the future');
  if (typeof iat === 'number' && iat > s.nowSeconds + s.skew) return fail('not_yet_valid', 'iat is in the future');
  return undefined;
}

function cnfJwkOf(claims: Record<string, unknown>): JWK | undefined {
  const cnf = claims['cnf'];
  const jwk = typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf) ? (cnf as Record<string, unknown>)['jwk'] : undefined;
  return typeof jwk === 'object' && jwk !== null && !Array.isArray(jwk) ? (jwk as JWK) : undefined;
}

/** Translates core/crypto/jws.ts reasons (themselves translated from jose error classes) to our codes. */
function joseFailure(err: unknown, map: Partial<Record<JoseFailure, SdJwtVcFailureCode>>, what: string): VerifyFailure {
  if (!(err instanceof JoseVerifyError)) return fail('malformed', `${what} could not be verified`);
  return fail(map[err.reason] ?? 'malformed', `${what}: ${err.message}`);
}

function checkArgs(args: VerifySdJwtArgs): Settings {
  const requireKeyBinding = args.requireKeyBinding !== false;
  if (requireKeyBinding && (typeof args.expectedNonce !== 'string' || args.expectedNonce === '' || typeof args.expectedAud !== 'string' || args.expectedAud === '')) {
    throw new TypeError('expectedNonce and expectedAud are required when Key Binding is required');
  }
  if (typeof args.issuerKey !== 'function') throw new TypeError('issuerKey must be a function');
  if (!Number.isFinite(args.now)) throw new TypeError('now must be a time in milliseconds');
  const kbMaxAge = args.kbMaxAgeSeconds ?? DEFAULT_KB_MAX_AGE_SECONDS;
  const skew = args.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (!(kbMaxAge >= 0) || !(skew >= 0)) throw new TypeError('kbMaxAgeSeconds and clockSkewSeconds must be non-negative');
  return { requireKeyBinding, nowSeconds: Math.floor(args.now / 1000), kbMaxAge, skew };
}
