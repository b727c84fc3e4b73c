import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** JSON canonical form (RFC 8785, JCS). The `canonicalize` package is its reference implementation. */
export function jcs(value: unknown): string {
  const out = (canonicalize as unknown as (v: unknown) => string | undefined)(value);
  if (out === undefined) throw new Error('value cannot be canonicalized');
  return out;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
