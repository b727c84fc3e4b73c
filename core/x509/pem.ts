import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 signs and hashes with WebCrypto; Node's implementation, set once for the process.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

/** At most this many certificates in one chain (leaf, intermediates): bounds the work on untrusted input. */
export const MAX_CHAIN_LENGTH = 5;
/** Largest certificate accepted (DER bytes); a city CA's certificates are well under 4 KiB. */
export const MAX_CERTIFICATE_BYTES = 8192;

/** Every certificate in a PEM text (RFC 7468 §5), in order. Throws when there is none or one does not parse. */
export function certificatesFromPem(text: string): x509.X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate found');
  return blocks.map((b) => new x509.X509Certificate(b));
}

/** PEM text of a chain (RFC 7468 §5.1), one block per certificate, leaf first. */
export function pemOf(certs: readonly x509.X509Certificate[]): string {
  return certs.map((c) => c.toString('pem')).join('\n') + '\n';
}

/** RFC 7515 §4.1.6 `x5c`: base64 (not base64url) DER, leaf first. */
export function x5cOf(certs: readonly x509.X509Certificate[]): string[] {
  return certs.map((c) => Buffer.from(c.rawData).toString('base64'));
}

/**
 * Parses an `x5c` member from an untrusted header (RFC 7515 §4.1.6): a non-empty array of at most
 * MAX_CHAIN_LENGTH base64 DER certificates. Returns a reason string when it is not one.
 */
export function certificatesFromX5c(x5c: unknown): { certs: x509.X509Certificate[]; der: Buffer[] } | string {
  if (!Array.isArray(x5c) || x5c.length === 0) return 'x5c is not a non-empty array';
  if (x5c.length > MAX_CHAIN_LENGTH) return `x5c has more than ${MAX_CHAIN_LENGTH} certificates`;
  const certs: x509.X509Certificate[] = [];
  const der: Buffer[] = [];
  for (const entry of x5c) {
    // RFC 7515 §4.1.6: base64 (RFC 4648 §4), not base64url.
    if (typeof entry !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(entry) || entry.length > (MAX_CERTIFICATE_BYTES * 4) / 3 + 4) return 'x5c entry is not base64 DER of acceptable size';
    const bytes = Buffer.from(entry, 'base64');
    try {
      certs.push(new x509.X509Certificate(bytes));
    } catch {
      return 'x5c entry is not an X.509 certificate';
    }
    der.push(bytes);
  }
  return { certs, der };
}
