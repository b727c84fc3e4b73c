import { createHash } from 'node:crypto';

/**
 * OID4VP 1.0 §5.9.3 `x509_hash`: the base64url-encoded (no padding) SHA-256 hash of the DER-encoded
 * leaf certificate of the `x5c` chain that signs the Request Object.
 */
export function x509Hash(leafDer: Uint8Array): string {
  return createHash('sha256').update(leafDer).digest('base64url');
}

/** The Client Identifier `x509_hash:<hash>` (OID4VP 1.0 §5.9.3) for a leaf given as an `x5c` entry (base64 DER). */
export function x509HashClientId(leafX5c: string): string {
  return `x509_hash:${x509Hash(Buffer.from(leafX5c, 'base64'))}`;
}
