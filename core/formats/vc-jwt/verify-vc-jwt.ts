import { decodeJwt, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { ALLOWED_ALGS, JoseVerifyError, peekHeader, translateJoseError } from '../../crypto/jws.ts';
import { publicKeyObject } from '../../crypto/jwk.ts';

/**
 * The one verification of a W3C VC-JWT (VCDM 1.1 §6.3, `jwt_vc_json`). The verifier's OID4VP path,
 * its VC-API path and the wallet's receipt check all call this function, so they cannot differ in
 * strictness. Order, fixed here rather than left to callers:
 *
 * 1. header: `alg` ES256 only (never `none`, never HMAC; RFC 8725 §3.1), `typ` absent or `JWT`;
 * 2. claims, unverified: `iss`, `kid` naming a key of `iss`, `vc` with `type`, and the VCDM 1.1
 *    §6.3.1 correspondences (iss = vc.issuer, sub = credentialSubject.id, jti = vc.id);
 * 3. `authorize`: the caller's trust decision on the still unverified issuer and types. It runs
 *    BEFORE the issuer's DID is resolved, so a presenter-chosen did:web is never fetched unless the
 *    registry names that DID as an issuer of that type;
 * 4. the issuer's key (`issuerKey`, from the DID document) and the signature, with nbf/exp and skew.
 *
 * Status lists are not fetched here: the caller checks `credentialStatus` after a verified result,
 * so a status URI is only ever fetched for a credential a trusted issuer signed.
 * A failed verification is a result with a closed reason code (STYLE §8), never an exception.
 */

export const VC_JWT_FAILURE_CODES = [
  /** Not a compact JWS, payload not JSON, or a required claim missing or of the wrong type. */
  'malformed',
  /** `alg` outside the allow-list (ES256). */
  'unsupported_alg',
  /** `typ` present and not `JWT`. */
  'wrong_typ',
  /** A VCDM 1.1 §6.3.1 correspondence broken (iss/issuer, sub/credentialSubject.id, jti/id, kid/iss). */
  'claim_mismatch',
  /** The caller's `authorize` refused the issuer for these types (see `trustCode`). */
  'untrusted',
  /** The issuer's key could not be resolved from its DID. */
  'issuer_key_unresolved',
  /** The signature does not verify with the issuer's key. */
  'invalid_signature',
  /** `exp` has passed (beyond the skew). */
  'expired',
  /** `nbf` lies in the future (beyond the skew). */
  'not_yet_valid',
] as const;
export type VcJwtFailureCode = (typeof VC_JWT_FAILURE_CODES)[number];

export interface VcJwtFailure {
  ok: false;
  code: VcJwtFailureCode;
  /** Set with `untrusted`: the code `authorize` gave. */
  trustCode?: string;
  /** Diagnostic text without claim values; never branch on it. */
  message: string;
}

/** What `authorize` is shown: nothing of it is verified yet. */
export interface ClaimedVcJwt {
  iss: string;
  kid: string;
  /** `vc.type`, `VerifiableCredential` included. */
  types: string[];
  /** Seconds: `nbf` (VCDM 1.1 issuanceDate), else `iat`. */
  issuedAt: number | undefined;
}

export type Authorization<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export interface VcJwtVerified<T> {
  ok: true;
  header: Record<string, unknown>;
  payload: JWTPayload;
  iss: string;
  types: string[];
  /** The `vc` claim as signed. */
  vc: Record<string, unknown>;
  /** credentialSubject without its id. */
  claims: Record<string, unknown>;
  /** `sub` (VCDM 1.1: credentialSubject.id), the holder the credential is bound to. */
  subject?: string;
  issuedAt?: number;
  expiresAt?: number;
  /** `vc.credentialStatus` as signed, for the caller to check. */
  credentialStatus?: unknown;
  /** What `authorize` returned. */
  authorization: T;
}

export interface VerifyVcJwtArgs<T> {
  jwt: string;
  /** ms since the epoch. */
  now: number;
  skewSeconds?: number;
  authorize: (claimed: ClaimedVcJwt) => Authorization<T> | Promise<Authorization<T>>;
  /** The public key of `kid`, an assertion method of `iss` (core/did/resolver.ts resolveAssertionKey). */
  issuerKey: (kid: string, iss: string) => Promise<JWK>;
}

/** VC-JWT 1.1 / RFC 7519 §5.1: `typ` is optional and, when present, "JWT". Anything else is another format. */
const VC_JWT_TYPS: readonly (string | undefined)[] = [undefined, 'JWT'];

const fail = (code: VcJwtFailureCode, message: string, trustCode?: string): VcJwtFailure => ({ ok: false, code, message, ...(trustCode ? { trustCode } : {}) });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const idOf = (v: unknown): unknown => (isObject(v) ? v.id : v);

export async function verifyVcJwt<T>(args: VerifyVcJwtArgs<T>): Promise<VcJwtVerified<T> | VcJwtFailure> {
  // 1. Header. RFC 8725 §3.1: the algorithm comes from the allow-list, never from the token.
  let header: ReturnType<typeof peekHeader>;
  try {
    header = peekHeader(args.jwt);
  } catch (e) {
    return e instanceof JoseVerifyError && e.reason === 'bad_alg' ? fail('unsupported_alg', 'algorithm not allowed (ES256 only)') : fail('malformed', 'malformed JWS header');
  }
  // RFC 8725 §3.11, VCDM 1.1 §6.3.1 (typ "JWT" or absent): an SD-JWT, a VP, a KB-JWT or a VC-JOSE-COSE
  // `vc+jwt` is not accepted as a VC-JWT, even when signed by the right key.
  if (!VC_JWT_TYPS.includes(header.typ)) return fail('wrong_typ', 'typ must be absent or JWT for a VCDM 1.1 VC-JWT');
  let payload: JWTPayload;
  try {
    payload = decodeJwt(args.jwt);
  } catch {
    return fail('malformed', 'the VC-JWT payload is not a JSON object');
  }

  // 2. Claims (VCDM 1.1 §6.3.1), checked on the signed bytes before any key is looked for.
  const iss = payload.iss;
  if (typeof iss !== 'string' || iss === '') return fail('malformed', 'iss is missing');
  const kid = header.kid;
  if (typeof kid !== 'string' || !kid.includes('#')) return fail('malformed', 'kid must be a DID URL of the issuer');
  if (kid.slice(0, kid.indexOf('#')) !== iss) return fail('claim_mismatch', 'kid is not a key of iss');
  const vc = payload.vc;
  if (!isObject(vc)) return fail('malformed', 'the VC-JWT has no vc claim');
  const types = Array.isArray(vc.type) ? vc.type : [vc.type];
  if (!types.every((t): t is string => typeof t === 'string') || !types.includes('VerifiableCredential')) return fail('malformed', 'vc.type must include VerifiableCredential');
  // "iss MUST represent the issuer property of a verifiable credential".
  if (vc.issuer !== undefined && idOf(vc.issuer) !== iss) return fail('claim_mismatch', 'iss does not match vc.issuer');
  const subject = vc.credentialSubject;
  if (subject !== undefined && !isObject(subject)) return fail('malformed', 'vc.credentialSubject must be an object');
  // "sub MUST represent the id property contained in the credentialSubject".
  if (payload.sub !== undefined && typeof payload.sub !== 'string') return fail('malformed', 'sub must be a string');
  if (subject?.id !== undefined && payload.sub !== subject.id) return fail('claim_mismatch', 'sub does not match credentialSubject.id');
  // "jti MUST represent the id property of the verifiable credential".
  if (payload.jti !== undefined && vc.id !== undefined && payload.jti !== vc.id) return fail('claim_mismatch', 'jti does not match vc.id');
  for (const name of ['nbf', 'exp', 'iat'] as const) if (payload[name] !== undefined && typeof payload[name] !== 'number') return fail('malformed', `${name} must be a number`);
  const issuedAt = payload.nbf ?? payload.iat;

  // 3. Trust, on the claimed issuer and types, before the issuer's DID is resolved.
  const authorization = await args.authorize({ iss, kid, types, issuedAt });
  if (!authorization.ok) return fail('untrusted', authorization.message, authorization.code);

  // 4. Key and signature; RFC 7519 §4.1.4/§4.1.5 nbf and exp with the skew (jose checks both).
  let key: JWK;
  try {
    key = await args.issuerKey(kid, iss);
  } catch (e) {
    return fail('issuer_key_unresolved', (e as Error).message);
  }
  try {
    await jwtVerify(args.jwt, publicKeyObject(key), { algorithms: [...ALLOWED_ALGS], issuer: iss, currentDate: new Date(args.now), clockTolerance: args.skewSeconds ?? 60 });
  } catch (e) {
    const t = translateJoseError(e);
    if (t.reason === 'expired') return fail('expired', 'the credential has expired (exp)');
    if (t.reason === 'not_yet_valid') return fail('not_yet_valid', 'the credential is not yet valid (nbf)');
    if (t.reason === 'bad_alg') return fail('unsupported_alg', t.message);
    return fail('invalid_signature', 'the signature does not verify with the issuer’s key');
  }
  const { id: _id, ...claims } = subject ?? {};
  void _id;
  return {
    ok: true,
    header,
    payload,
    iss,
    types,
    vc,
    claims,
    ...(typeof payload.sub === 'string' ? { subject: payload.sub } : {}),
    ...(issuedAt !== undefined ? { issuedAt } : {}),
    ...(payload.exp !== undefined ? { expiresAt: payload.exp } : {}),
    ...(vc.credentialStatus !== undefined ? { credentialStatus: vc.credentialStatus } : {}),
    authorization: authorization.value,
  };
}
