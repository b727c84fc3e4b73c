import { type KeyObject, sign, verify } from 'node:crypto';

/**
 * ES256 compact JWS signing and signature checking on node:crypto's synchronous `sign`/`verify`.
 *
 * Why not jose here (issue 16, docs/performance.md "Change 2"): jose 6 signs and verifies through
 * WebCrypto, which on Node 20 spends most of its time outside the cryptography (WebIDL algorithm
 * normalisation, a key import into WebCrypto for every KeyObject, a promise job per operation).
 * The CPU profile of the bench put `node:internal/crypto/util` at 9.7 % of the verifier's busy time
 * and jose's verify and sign at 16 % inclusive; measured in one process, an ES256 JWT costs
 * 0.12 ms to sign with jose and 0.03 ms with node:crypto, and 0.44 ms to verify with a new key
 * against 0.15 ms.
 *
 * Only the common, well-formed case is handled here: three base64url segments, a protected
 * header that is a JSON object with `alg: ES256` and neither `crit` nor `b64`, a 64-byte
 * signature, a P-256 public key. Anything else returns `undefined` and the caller falls back to
 * jose, so every unusual input is judged exactly as before.
 */

const B64U = /^[A-Za-z0-9_-]*$/;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

const b64uJson = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

const isP256 = (key: KeyObject): boolean => key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';

/** RFC 7515 §7.1 compact serialisation, signed with ES256 (RFC 7518 §3.4: r || s, 64 bytes). */
export function signCompactEs256(privateKey: KeyObject, header: Record<string, unknown>, payload: Uint8Array | Record<string, unknown>): string {
  if (privateKey.type !== 'private' || !isP256(privateKey)) throw new TypeError('ES256 needs a P-256 private key');
  if (header.alg !== 'ES256') throw new TypeError('only ES256 is signed here');
  const encodedPayload = payload instanceof Uint8Array ? Buffer.from(payload).toString('base64url') : b64uJson(payload);
  const input = `${b64uJson(header)}.${encodedPayload}`;
  const signature = sign('sha256', Buffer.from(input, 'ascii'), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export interface FastVerified {
  /** true: the signature verifies with the key; false: it does not. */
  valid: boolean;
  header: Record<string, unknown>;
  /** The decoded payload bytes. */
  payload: Uint8Array;
}

/**
 * Checks an ES256 compact JWS with node:crypto when it is of the common shape (see above);
 * `undefined` when it is not, and the caller must use jose.
 */
export function verifyCompactEs256(jws: string, publicKey: KeyObject): FastVerified | undefined {
  if (publicKey.type !== 'public' || !isP256(publicKey)) return undefined;
  const first = jws.indexOf('.');
  const second = jws.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || jws.indexOf('.', second + 1) !== -1) return undefined;
  const h = jws.slice(0, first);
  const p = jws.slice(first + 1, second);
  const s = jws.slice(second + 1);
  if (!B64U.test(h) || !B64U.test(p) || !B64U.test(s) || s.length !== 86) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(fatalUtf8.decode(Buffer.from(h, 'base64url')));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
  const hd = header as Record<string, unknown>;
  if (hd.alg !== 'ES256' || 'crit' in hd || 'b64' in hd) return undefined;
  const signature = Buffer.from(s, 'base64url');
  if (signature.length !== 64) return undefined;
  const valid = verify('sha256', Buffer.from(`${h}.${p}`, 'ascii'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  const bytes = Buffer.from(p, 'base64url');
  // A plain Uint8Array view, as jose returns (a Buffer would compare and serialise differently).
  return { valid, header: hd, payload: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) };
}

/** The payload of a verified JWT as a JSON object, or undefined (RFC 7519 §7.2 step 10). */
export function jwtClaimsOf(payload: Uint8Array): Record<string, unknown> | undefined {
  try {
    const claims: unknown = JSON.parse(fatalUtf8.decode(payload));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The claims of a compact JWT, read without checking anything (not its signature, not its header):
 * for a look at one claim before the full check, which refuses what this reads wrongly. Undefined
 * if the payload is not a JSON object or its segment is longer than `maxSegment` characters.
 * Plain base64url and JSON.parse, not the @openid4vc library's decodeJwt: that validates header and
 * payload with zod (issue 16: timed in place at 53 µs for a proof's nonce, and 1.4 % of the issuer's
 * busy time for a token's `cnf`).
 */
export function unverifiedClaims(jwt: string, maxSegment = 8192): Record<string, unknown> | undefined {
  const dot = jwt.indexOf('.');
  const end = jwt.indexOf('.', dot + 1);
  if (dot < 0 || end < 0 || end - dot > maxSegment) return undefined;
  return jwtClaimsOf(Buffer.from(jwt.slice(dot + 1, end), 'base64url'));
}

/** The jwtVerify options the fast path understands; any other option sends the caller to jose. */
export interface FastClaimOptions {
  issuer?: string | string[];
  subject?: string;
  audience?: string | string[];
  requiredClaims?: string[];
  maxTokenAge?: number;
  clockTolerance?: number;
  currentDate?: Date;
}

const FAST_OPTIONS = new Set(['issuer', 'subject', 'audience', 'requiredClaims', 'maxTokenAge', 'clockTolerance', 'currentDate']);

/** The options, when the fast claim check (core/crypto/jwt-claims.ts) covers them exactly; else undefined. */
export function fastClaimOptions(opts: object): FastClaimOptions | undefined {
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined) continue;
    if (!FAST_OPTIONS.has(k)) return undefined;
    if ((k === 'clockTolerance' || k === 'maxTokenAge') && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) return undefined;
    if (k === 'currentDate' && (!(v instanceof Date) || !Number.isFinite(v.getTime()))) return undefined;
  }
  return opts as FastClaimOptions;
}
