import { ECDH, createECDH, createPrivateKey, createPublicKey, type JsonWebKey as NodeJwk, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';

/**
 * P-256 key helpers built on node:crypto. Written here rather than taken from @veramo/utils,
 * whose createJWK drops leading zero bytes of the coordinates (RFC 7518 §6.2.1.2 wants 32 bytes).
 */

export interface EcPublicJwk extends JWK {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** Public JWK from a P-256 public key in hex, compressed (02/03…) or uncompressed (04…). */
export function p256JwkFromPublicHex(hex: string): EcPublicJwk {
  const raw = Buffer.from(hex.replace(/^0x/, ''), 'hex');
  const point = raw.length === 33 ? ECDHConvert(raw) : raw;
  if (point.length !== 65 || point[0] !== 0x04) throw new Error('not a P-256 public key');
  return { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)) };
}

function ECDHConvert(compressed: Buffer): Buffer {
  return ECDH.convertKey(compressed, 'prime256v1', undefined, undefined, 'uncompressed') as Buffer;
}

/** Private P-256 KeyObject and its public JWK from the 32-byte private scalar in hex. */
export function p256KeyFromPrivateHex(hex: string): { privateKey: KeyObject; publicJwk: EcPublicJwk } {
  const d = Buffer.from(hex.replace(/^0x/, ''), 'hex');
  if (d.length !== 32) throw new Error('not a P-256 private key');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const publicJwk = p256JwkFromPublicHex(ecdh.getPublicKey('hex', 'uncompressed'));
  const privateKey = createPrivateKey({ key: { ...publicJwk, d: b64u(d) }, format: 'jwk' });
  return { privateKey, publicJwk };
}

/** Strips everything but the public members of an EC or OKP JWK. */
export function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)) as JWK;
}

/**
 * Imported public keys by their members: importing a JWK costs more than the signature check it
 * serves (measured), and the same keys (office keys, issuer keys) come back on every request. A
 * KeyObject is immutable; the map is bounded and drops its oldest entry first.
 */
const imported = new Map<string, KeyObject>();
const IMPORTED_MAX = 2048;

export function publicKeyObject(jwk: JWK): KeyObject {
  const pub = publicPart(jwk);
  const id = `${pub.kty}|${pub.crv}|${pub.x}|${pub.y}|${pub.n}|${pub.e}`;
  let key = imported.get(id);
  if (!key) {
    key = createPublicKey({ key: pub as NodeJwk, format: 'jwk' });
    if (imported.size >= IMPORTED_MAX) imported.delete(imported.keys().next().value!);
    imported.set(id, key);
  }
  return key;
}

/**
 * Whether two JWKs name the same public key, exactly as equal RFC 7638 thumbprints would say: the
 * thumbprint hashes the key type's required members (§3.2) verbatim, so comparing those members is
 * the same test without two hashes (jose's thumbprint goes through WebCrypto: about two thirds of a
 * presentation's CPU in the bench's load generator, issue 16).
 */
export function sameJwkKey(a: JWK, b: JWK): boolean {
  const members = a.kty === 'EC' ? (['kty', 'crv', 'x', 'y'] as const) : a.kty === 'OKP' ? (['kty', 'crv', 'x'] as const) : a.kty === 'RSA' ? (['kty', 'e', 'n'] as const) : undefined;
  return members !== undefined && members.every((m) => typeof a[m] === 'string' && a[m] === b[m]);
}

/** RFC 7638 thumbprint (SHA-256, base64url). */
export function thumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(publicPart(jwk), 'sha256');
}
