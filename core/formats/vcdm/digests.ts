/**
 * Well-formedness of the digests of VCDM 2.0 §5.3 Integrity of Related Resources. Only the form is
 * checked: whether a digest matches the resource needs the resource, and the issuer does not fetch
 * URLs its client chose (server-side request forgery), nor does the verifier.
 */

/** SRI §3.5 hash-expression: `sha256|sha384|sha512 "-" base64-value ["?" options]`, base64 or base64url (CSP3 base64-value). */
const SRI_LENGTHS: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 };
const SRI_EXPRESSION = /^(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})(\?[\x21-\x7e]*)?$/;

/** One or more hash-expressions separated by white space (SRI §3.5 metadata); undefined when well-formed, else the reason. */
export function sriProblem(v: string): string | undefined {
  const parts = v.trim().split(/\s+/);
  if (v.length > 1024 || parts.length === 0 || parts[0] === '') return 'must be an SRI hash-expression such as sha384-…';
  for (const p of parts) {
    const m = SRI_EXPRESSION.exec(p);
    if (!m) return 'must be an SRI hash-expression: sha256-, sha384- or sha512- followed by the base64 digest';
    const bytes = Buffer.from(m[2]!.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length !== SRI_LENGTHS[m[1]!]) return `the ${m[1]} digest must be ${SRI_LENGTHS[m[1]!]} bytes, not ${bytes.length}`;
  }
  return undefined;
}

/** Multihash codes of the SHA-2 and SHA-3 digests (multicodec table) and their lengths. */
const MULTIHASH_LENGTHS = new Map<number, number>([
  [0x12, 32], // sha2-256
  [0x20, 48], // sha2-384
  [0x13, 64], // sha2-512
  [0x16, 32], // sha3-256
  [0x15, 48], // sha3-384
  [0x14, 64], // sha3-512
]);

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58btc(s: string): Buffer | undefined {
  let n = 0n;
  for (const c of s) {
    const d = BASE58.indexOf(c);
    if (d < 0) return undefined;
    n = n * 58n + BigInt(d);
  }
  const hex = n === 0n ? '' : n.toString(16);
  const body = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  const zeros = s.length - s.replace(/^1+/, '').length;
  return Buffer.concat([Buffer.alloc(zeros), body]);
}

/**
 * digestMultibase (VCDM 2.0 §5.3, as defined by Verifiable Credential Data Integrity): a multibase
 * string — `u` (base64url, no padding) or `z` (base58btc) — of a multihash of a SHA-2/SHA-3 digest;
 * a bare 32, 48 or 64 byte digest is accepted too (the W3C VCDM 2.0 test suite's own positive
 * fixture has no multihash header). Undefined when well-formed, else the reason.
 */
export function multibaseProblem(v: string): string | undefined {
  if (v.length < 2 || v.length > 256) return 'must be a multibase-encoded digest';
  const prefix = v[0];
  const data = v.slice(1);
  let bytes: Buffer | undefined;
  if (prefix === 'u') bytes = /^[A-Za-z0-9_-]+$/.test(data) ? Buffer.from(data, 'base64url') : undefined;
  else if (prefix === 'z') bytes = base58btc(data);
  else return 'must be multibase base64url (u…) or base58btc (z…)';
  if (!bytes) return `is not valid ${prefix === 'u' ? 'base64url' : 'base58btc'}`;
  const want = MULTIHASH_LENGTHS.get(bytes[0]!);
  if (want !== undefined && bytes.length === want + 2 && bytes[1] === want) return undefined;
  if (bytes.length === 32 || bytes.length === 48 || bytes.length === 64) return undefined;
  return 'must be a multihash of a SHA-2 or SHA-3 digest';
}
