import type { JWK } from 'jose';
import type { Signer } from '../../crypto/jws.ts';
import { signCompactEs256 } from '../../crypto/es256-compact.ts';
import { publicPart } from '../../crypto/jwk.ts';
import { assertP256Private, p256PublicKey } from './es256.ts';
import { type SaltGenerator, SD_ALG, randomSalt } from './hasher.ts';
import { type DisclosureFrame, packClaims } from './pack.ts';
import { ISSUER_SET_CLAIMS, SD_JWT_VC_TYP } from './profile.ts';
import { SdJwtVcUsageError, type StatusListReference } from './result.ts';

/** Path of a claim to make selectively disclosable: object member names and array indices. */
export type DisclosablePath = readonly (string | number)[];

export interface IssueSdJwtVcArgs {
  /** Issuer key; its `kid` (the DID URL of the key) goes into the header. */
  signer: Signer;
  /** The issuer's DID. */
  iss: string;
  vct: string;
  /**
   * SD-JWT VC §3.2.2.2 `vct#integrity`: W3C SRI integrity metadata (`sha256-…`) of the Type Metadata
   * document `vct` resolves to (core/catalog/type-metadata.ts typeMetadataIntegrity). Never disclosable.
   */
  vctIntegrity?: string;
  /**
   * RFC 7515 §4.1.6 `x5c`: the issuer's certificate chain, base64 (not base64url) DER, leaf first;
   * set beside `kid` in the header (HAIP issuer certificates). The leaf must certify `signer`'s key.
   */
  x5c?: readonly string[];
  /** Credential subject claims (JSON). Must not contain the names in ISSUER_SET_CLAIMS at the top level, nor `_sd` / `...` anywhere. */
  claims: Record<string, unknown>;
  /**
   * Claims to make selectively disclosable. Default (undefined): every member of every object,
   * recursively: each top-level claim, and inside a nested object each member as well as the
   * object itself (RFC 9901 §4.2.6 recursive disclosure), so a holder can reveal `anschrift.ort`
   * without `anschrift.strasse`. Arrays are disclosable as a whole; their elements are not
   * (unless listed here by index). An explicit list (possibly empty) replaces the default.
   */
  disclosable?: readonly DisclosablePath[];
  /** Holder's public key (RFC 7800 §3.2); only the public members are copied. Must be P-256. */
  cnf: { jwk: JWK };
  /** Seconds since the epoch. */
  iat: number;
  exp?: number;
  nbf?: number;
  /** Token Status List reference (draft-ietf-oauth-status-list §6.2). */
  status?: StatusListReference;
  /** Number of decoy digests added to the top-level `_sd` (RFC 9901 §4.2.5). Default 0. Ignored when no claim is disclosable. */
  decoys?: number;
  /** Salt source, injectable for tests. Default: 128 random bits (RFC 9901 §9.3). */
  salt?: SaltGenerator;
}

/**
 * Issues an SD-JWT VC (SD-JWT VC §2.2; RFC 9901 §4) in compact form `<jwt>~<disclosure>~…~`.
 * Throws SdJwtVcUsageError on invalid arguments.
 */
export async function issueSdJwtVc(args: IssueSdJwtVcArgs): Promise<string> {
  const { header, payload, frame, salt } = sdJwtVcParts(args);
  // RFC 9901 §4.2 packing in core/formats/sd-jwt-vc/pack.ts (why not the library's: see there).
  const { packed, disclosures } = packClaims(payload, frame, salt);
  // RFC 9901 §4.1.1: `_sd_alg` when anything is disclosable.
  const body = frame === undefined ? packed : { ...(packed as object), _sd_alg: SD_ALG };
  // RFC 7515 §5.1 compact JWS.
  assertP256Private(args.signer.privateKey, 'signing key');
  const jwt = signCompactEs256(args.signer.privateKey, header, body as Record<string, unknown>);
  // RFC 9901 §4: `<Issuer-signed JWT>~<Disclosure 1>~…~<Disclosure N>~`.
  return disclosures.length === 0 ? `${jwt}~` : `${jwt}~${disclosures.join('~')}~`;
}

/**
 * What goes into the packing, checked: the JWS header (members in the order @sd-jwt writes them:
 * typ, kid, x5c, alg), the payload before packing, the disclosure frame in the library's form and
 * the salt source. Exported for the test that holds our packing to the library's.
 */
export function sdJwtVcParts(args: IssueSdJwtVcArgs): { header: Record<string, unknown>; payload: Record<string, unknown>; frame: DisclosureFrame | undefined; salt: SaltGenerator } {
  const payload = buildPayload(args);
  const paths = args.disclosable ?? allMemberPaths(args.claims, []);
  const frame = disclosureFrame(args.claims, paths, args.decoys ?? 0);
  const header = { typ: SD_JWT_VC_TYP, kid: args.signer.kid, ...(args.x5c === undefined ? {} : { x5c: [...args.x5c] }), alg: args.signer.alg };
  return { header, payload, frame, salt: args.salt ?? randomSalt };
}

function buildPayload(args: IssueSdJwtVcArgs): Record<string, unknown> {
  const { signer, iss, vct, vctIntegrity, x5c, claims, cnf, iat, exp, nbf, status, decoys } = args;
  if (signer.alg !== 'ES256') throw new SdJwtVcUsageError('only ES256 signers are supported');
  if (typeof iss !== 'string' || iss === '') throw new SdJwtVcUsageError('iss must be a non-empty string');
  // SD-JWT VC §2.2.2.1: vct is a case-sensitive string (a Collision-Resistant Name).
  if (typeof vct !== 'string' || vct === '') throw new SdJwtVcUsageError('vct must be a non-empty string');
  // W3C SRI §3.5 integrity metadata: `<alg>-<base64 digest>`; SD-JWT VC §3.2.2.2 names sha256 at least.
  if (vctIntegrity !== undefined && (typeof vctIntegrity !== 'string' || !/^sha(256|384|512)-[A-Za-z0-9+/]+={0,2}$/.test(vctIntegrity))) throw new SdJwtVcUsageError('vct#integrity must be W3C SRI integrity metadata such as sha256-<base64>');
  // RFC 7515 §4.1.6: a non-empty array of base64 (not base64url) DER certificates.
  if (x5c !== undefined && (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(c)))) throw new SdJwtVcUsageError('x5c must be a non-empty array of base64 DER certificates');
  if (!Number.isSafeInteger(iat)) throw new SdJwtVcUsageError('iat must be an integer number of seconds');
  for (const [name, value] of [['exp', exp], ['nbf', nbf]] as const) {
    if (value !== undefined && !Number.isSafeInteger(value)) throw new SdJwtVcUsageError(`${name} must be an integer number of seconds`);
  }
  if (decoys !== undefined && !(Number.isSafeInteger(decoys) && decoys >= 0)) throw new SdJwtVcUsageError('decoys must be a non-negative integer');
  if (!p256PublicKey(cnf?.jwk)) throw new SdJwtVcUsageError('cnf.jwk must be a P-256 public key (key binding uses ES256)');
  if (status !== undefined && !isStatusReference(status)) throw new SdJwtVcUsageError('status must be { status_list: { idx: non-negative integer, uri: string } }');
  if (!isPlainObject(claims)) throw new SdJwtVcUsageError('claims must be an object');
  for (const name of Object.keys(claims)) {
    if (ISSUER_SET_CLAIMS.includes(name)) throw new SdJwtVcUsageError(`claim ${name} is set by the issuer function or reserved, not passed in claims`);
  }
  assertJson(claims, 'claims');

  return {
    iss,
    iat,
    ...(nbf !== undefined ? { nbf } : {}),
    ...(exp !== undefined ? { exp } : {}),
    vct,
    ...(vctIntegrity !== undefined ? { 'vct#integrity': vctIntegrity } : {}),
    cnf: { jwk: publicPart(cnf.jwk) },
    ...(status !== undefined ? { status: { status_list: { idx: status.status_list.idx, uri: status.status_list.uri } } } : {}),
    ...claims,
  };
}

/** The default: every object member at every depth; arrays are not entered. */
function allMemberPaths(obj: Record<string, unknown>, prefix: DisclosablePath): DisclosablePath[] {
  return Object.entries(obj).flatMap(([key, value]) => {
    const path = [...prefix, key];
    return isPlainObject(value) ? [path, ...allMemberPaths(value, path)] : [path];
  });
}

type Frame = DisclosureFrame & { _sd?: (string | number)[] };

/** Builds the library's DisclosureFrame (`{ _sd: [names], child: { _sd: [...] } }`) from paths. */
function disclosureFrame(claims: Record<string, unknown>, paths: readonly DisclosablePath[], decoys: number): Frame | undefined {
  if (paths.length === 0) return undefined; // SD-JWT VC §2.2.2.5: no `_sd` (not even decoys) when nothing is disclosable
  const root: Frame = {};
  for (const path of paths) {
    if (!Array.isArray(path) || path.length === 0) throw new SdJwtVcUsageError('a disclosable path must be a non-empty array');
    let node = root;
    let value: unknown = claims;
    path.forEach((seg, i) => {
      const exists = typeof seg === 'string' ? isPlainObject(value) && Object.hasOwn(value, seg) : Array.isArray(value) && Number.isInteger(seg) && seg >= 0 && seg < value.length;
      if (!exists) throw new SdJwtVcUsageError(`disclosable path ${JSON.stringify(path)} does not name a claim`);
      if (i === path.length - 1) {
        const sd = (node._sd ??= []);
        if (!sd.includes(seg)) sd.push(seg);
      } else {
        const key = String(seg);
        node = (node[key] ??= {}) as Frame;
        value = (value as Record<string, unknown>)[key];
      }
    });
  }
  if (decoys > 0) root._sd_decoy = decoys;
  return root;
}

function isStatusReference(s: unknown): s is StatusListReference {
  const list = isPlainObject(s) ? s['status_list'] : undefined;
  return isPlainObject(list) && Number.isSafeInteger(list['idx']) && (list['idx'] as number) >= 0 && typeof list['uri'] === 'string' && list['uri'] !== '';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Claims must survive JSON unchanged, and must not use the names SD-JWT reserves for digests. */
function assertJson(value: unknown, at: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SdJwtVcUsageError(`${at} is not a finite number`);
    return;
  }
  if (Array.isArray(value)) return value.forEach((v, i) => assertJson(v, `${at}[${i}]`));
  if (!isPlainObject(value)) throw new SdJwtVcUsageError(`${at} is not JSON`);
  for (const [key, v] of Object.entries(value)) {
    // RFC 9901 §4.1 item 7, §4.2.1: `_sd` and `...` only carry digests. `_sd_decoy` is a control key
    // of the library's disclosure frame and `__proto__` would not survive its packing.
    if (['_sd', '...', '_sd_alg', '_sd_decoy', '__proto__'].includes(key)) throw new SdJwtVcUsageError(`${at}.${key}: reserved member name`);
    assertJson(v, `${at}.${key}`);
  }
}
