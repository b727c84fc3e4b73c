/**
 * Compact serialization of SD-JWT and SD-JWT+KB (RFC 9901 §4):
 *   SD-JWT    = JWT "~" *(DISCLOSURE "~")
 *   SD-JWT-KB = SD-JWT KB-JWT
 *
 * Parsed here rather than by the library: its `splitSdJwt`/`SDJwt.fromEncode` accept a bare JWT
 * without any "~" and read whatever follows the last "~" as a KB-JWT, and do not check the
 * base64url alphabet, so the form errors below would surface later as unrelated failures.
 */

const B64URL = /^[A-Za-z0-9_-]+$/;
/** Three base64url parts; the signature may be empty so that `alg: none` tokens reach the alg check. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface CompactSdJwt {
  /** The Issuer-signed JWT. */
  jwt: string;
  /** Disclosures in the order received, as the base64url strings received. */
  disclosures: string[];
  /** The KB-JWT, when the input is an SD-JWT+KB. */
  kbJwt?: string;
  /** `<Issuer-signed JWT>~<Disclosure 1>~…~<Disclosure N>~` exactly as received: the `sd_hash` input (RFC 9901 §4.3.1). */
  sdJwt: string;
}

export function parseCompact(input: unknown): CompactSdJwt | string {
  if (typeof input !== 'string' || input.length === 0) return 'not a string';
  const parts = input.split('~');
  // RFC 9901 §4: "the last separating tilde character MUST NOT be omitted".
  if (parts.length < 2) return 'no "~" separator: not an SD-JWT';
  const jwt = parts[0];
  const last = parts[parts.length - 1];
  const disclosures = parts.slice(1, -1);
  if (!JWT.test(jwt)) return 'Issuer-signed JWT is not a compact JWS';
  if (disclosures.some((d) => !B64URL.test(d))) return 'a Disclosure is empty or not base64url';
  if (last !== '' && !JWT.test(last)) return 'the part after the last "~" is neither empty nor a JWT';
  const sdJwt = input.slice(0, input.length - last.length);
  return last === '' ? { jwt, disclosures, sdJwt } : { jwt, disclosures, kbJwt: last, sdJwt };
}

/** Decodes one base64url JSON segment of a JWS (header or payload) that must be a JSON object. */
export function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
