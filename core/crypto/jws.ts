import { KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWK, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { publicKeyObject } from './jwk.ts';
import { fastClaimOptions, jwtClaimsOf, signCompactEs256, verifyCompactEs256 } from './es256-compact.ts';
import { checkRegisteredClaims } from './jwt-claims.ts';

/**
 * The one place that signs and verifies JOSE objects. Only asymmetric algorithms from the
 * allow-list are ever accepted; `none` and HMAC can never pass (RFC 8725 §3.1, §3.2).
 */
export const ALLOWED_ALGS = ['ES256'] as const;
export type Alg = (typeof ALLOWED_ALGS)[number];

/** A signing key held in memory (decrypted once at start-up), with its public JWK and `kid`. */
export interface Signer {
  /** Full key id as it appears in the JWS header, e.g. `did:web:…#<thumbprint>`. */
  kid: string;
  alg: Alg;
  publicJwk: JWK;
  privateKey: KeyObject;
}

export interface SignOptions {
  typ: string;
  /** Header members besides alg, kid, typ. */
  header?: Record<string, unknown>;
}

/**
 * Signing is node:crypto's synchronous ES256 (core/crypto/es256-compact.ts: 4x less CPU than jose's
 * WebCrypto path); the bytes are those jose would write: base64url of the JSON of the header as
 * given and of the payload.
 */
export async function signJwt(signer: Signer, payload: JWTPayload, opts: SignOptions): Promise<string> {
  // As jose's SignJWT: a numeric date that is not finite would serialise as null.
  const header = { ...opts.header, alg: signer.alg, kid: signer.kid, typ: opts.typ };
  if (!isP256PrivateKeyObject(signer.privateKey)) return new SignJWT(payload).setProtectedHeader(header).sign(signer.privateKey);
  for (const claim of ['iat', 'nbf', 'exp'] as const) if (typeof payload[claim] === 'number' && !Number.isFinite(payload[claim])) throw new TypeError(`"${claim}" claim must be a finite number`);
  return signCompactEs256(signer.privateKey, header, payload as Record<string, unknown>);
}

export async function signJws(signer: Signer, payload: Uint8Array, opts: SignOptions): Promise<string> {
  const header = { ...opts.header, alg: signer.alg, kid: signer.kid, typ: opts.typ };
  if (!isP256PrivateKeyObject(signer.privateKey)) return new CompactSign(payload).setProtectedHeader(header).sign(signer.privateKey);
  return signCompactEs256(signer.privateKey, header, payload);
}

/** Keys the node:crypto path signs with; anything else (a WebCrypto CryptoKey from a caller) goes through jose as before. */
const isP256PrivateKeyObject = (k: unknown): k is KeyObject => k instanceof KeyObject && k.type === 'private' && k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1';

/** Stable failure reasons for JOSE verification, translated from jose error codes. */
export type JoseFailure = 'malformed' | 'bad_alg' | 'bad_typ' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'claim_invalid';

export class JoseVerifyError extends Error {
  override name = 'JoseVerifyError';
  constructor(
    readonly reason: JoseFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Translate jose errors by code, never by message (STYLE §5). */
export function translateJoseError(err: unknown): JoseVerifyError {
  if (err instanceof JoseVerifyError) return err;
  if (err instanceof errors.JWTExpired) return new JoseVerifyError('expired', 'token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    // jose's `reason`: 'missing' (a required claim is absent) or 'check_failed' (present, wrong value).
    if (err.reason === 'missing') return new JoseVerifyError('claim_invalid', `claim ${err.claim} is missing`);
    if (err.claim === 'nbf' || err.claim === 'iat') return new JoseVerifyError('not_yet_valid', `token ${err.claim} is in the future`);
    return new JoseVerifyError('claim_invalid', `claim ${err.claim} is invalid`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new JoseVerifyError('bad_signature', 'signature does not verify');
  if (err instanceof errors.JOSEAlgNotAllowed) return new JoseVerifyError('bad_alg', 'algorithm not allowed');
  if (err instanceof errors.JOSENotSupported) return new JoseVerifyError('bad_alg', 'algorithm or key not supported');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new JoseVerifyError('malformed', 'malformed JWS');
  return new JoseVerifyError('malformed', 'JWS could not be verified');
}

/** Reads the protected header without trusting it, rejecting anything outside the allow-list. */
export function peekHeader(jws: string): { alg: Alg; kid?: string; typ?: string; [k: string]: unknown } {
  let header;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new JoseVerifyError('malformed', 'malformed JWS header');
  }
  if (!ALLOWED_ALGS.includes(header.alg as Alg)) throw new JoseVerifyError('bad_alg', `algorithm ${String(header.alg)} not allowed`);
  return header as { alg: Alg; kid?: string; typ?: string };
}

export interface VerifyJwtOptions extends Omit<JWTVerifyOptions, 'algorithms' | 'typ'> {
  /** Expected `typ` header, compared exactly (RFC 8725 §3.11). */
  typ: string;
}

export async function verifyJwt(jwt: string, key: JWK | KeyObject, opts: VerifyJwtOptions): Promise<{ payload: JWTPayload; header: Record<string, unknown> }> {
  const header = peekHeader(jwt);
  if (header.typ !== opts.typ) throw new JoseVerifyError('bad_typ', `typ must be ${opts.typ}`);
  const keyObject = 'kty' in key ? publicKeyObject(key as JWK) : (key as KeyObject);
  // Fast path (node:crypto) for a well-formed ES256 JWT and the usual claim options; the same checks and failure reasons as jose.
  const { typ: _typ, ...rest } = opts;
  const claimOpts = fastClaimOptions(rest);
  const fast = claimOpts ? verifyCompactEs256(jwt, keyObject) : undefined;
  if (fast) {
    if (!fast.valid) throw new JoseVerifyError('bad_signature', 'signature does not verify');
    const claims = jwtClaimsOf(fast.payload);
    if (!claims) throw new JoseVerifyError('malformed', 'malformed JWS');
    try {
      checkRegisteredClaims(claims, claimOpts!);
    } catch (err) {
      throw translateJoseError(err);
    }
    return { payload: claims as JWTPayload, header: fast.header };
  }
  try {
    const { payload, protectedHeader } = await jwtVerify(jwt, keyObject, { ...opts, algorithms: [...ALLOWED_ALGS] });
    return { payload, header: protectedHeader as Record<string, unknown> };
  } catch (err) {
    throw translateJoseError(err);
  }
}

export async function verifyJws(jws: string, key: JWK | KeyObject, typ: string): Promise<{ payload: Uint8Array; header: Record<string, unknown> }> {
  const header = peekHeader(jws);
  if (header.typ !== typ) throw new JoseVerifyError('bad_typ', `typ must be ${typ}`);
  const keyObject = 'kty' in key ? publicKeyObject(key as JWK) : (key as KeyObject);
  const fast = verifyCompactEs256(jws, keyObject);
  if (fast) {
    if (!fast.valid) throw new JoseVerifyError('bad_signature', 'signature does not verify');
    return { payload: fast.payload, header: fast.header };
  }
  try {
    const { payload, protectedHeader } = await compactVerify(jws, keyObject, { algorithms: [...ALLOWED_ALGS] });
    return { payload, header: protectedHeader as Record<string, unknown> };
  } catch (err) {
    throw translateJoseError(err);
  }
}
