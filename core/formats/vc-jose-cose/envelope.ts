import { CREDENTIALS_V2 } from '../jsonld-contexts/index.ts';

/**
 * Media types and enveloping of VCDM 2.0 documents secured with JOSE (VC-JOSE-COSE §3.1.1, §3.1.2)
 * and the `data:` URLs that carry them (VCDM 2.0 §4.13.1 Enveloped Verifiable Credentials,
 * §4.13.2 Enveloped Verifiable Presentations; RFC 2397).
 */
export const VC_JWT_TYP = 'vc+jwt';
export const VP_JWT_TYP = 'vp+jwt';
export const VC_JWT_MEDIA_TYPE = 'application/vc+jwt';
export const VP_JWT_MEDIA_TYPE = 'application/vp+jwt';
/** VC-JOSE-COSE §3.1.1: "When present, the cty header parameter SHOULD be vc" (§3.1.2: vp). */
export const VC_CTY = 'vc';
export const VP_CTY = 'vp';

export interface EnvelopedVerifiableCredential {
  '@context': string | string[];
  id: string;
  type: 'EnvelopedVerifiableCredential' | ['EnvelopedVerifiableCredential'];
}

/**
 * VCDM 2.0 §4.13.1: the secured credential as the `data:` URL `id` of an EnvelopedVerifiableCredential.
 * §4.3: "The value of the @context property MUST be an ordered set where the first item is a URL with
 * the value https://www.w3.org/ns/credentials/v2" — an array, which is what we write (reading, a lone
 * string is accepted as the compact form of a set of one).
 */
export function envelopeCredential(jws: string): EnvelopedVerifiableCredential {
  return { '@context': [CREDENTIALS_V2], id: `data:${VC_JWT_MEDIA_TYPE},${jws}`, type: 'EnvelopedVerifiableCredential' };
}

export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
  constructor(
    readonly field: string,
    message: string,
    /** The envelope is well formed but uses a securing mechanism we do not implement. */
    readonly unsupported = false,
  ) {
    super(message);
  }
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface Enveloped {
  /** Media type without parameters, e.g. `application/vc+jwt`. */
  mediaType: string;
  jws: string;
}

/**
 * Reads an Enveloped Verifiable Credential or Presentation: `@context` with the v2 base context
 * first, the envelope `type`, and an `id` that is a `data:` URL (RFC 2397) of a supported media type
 * holding a compact JWS (VC-JOSE-COSE §3.1.1: "Implementations MUST support the JWS compact
 * serialization").
 */
export function parseEnvelope(value: unknown, kind: 'credential' | 'presentation'): Enveloped {
  const envelopeType = kind === 'credential' ? 'EnvelopedVerifiableCredential' : 'EnvelopedVerifiablePresentation';
  const mediaType = kind === 'credential' ? VC_JWT_MEDIA_TYPE : VP_JWT_MEDIA_TYPE;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EnvelopeError('(envelope)', `an ${envelopeType} must be an object`);
  const v = value as Record<string, unknown>;
  const ctx = Array.isArray(v['@context']) ? v['@context'] : [v['@context']];
  // VCDM 2.0 §4.3 applies to the envelope too.
  if (ctx[0] !== CREDENTIALS_V2) throw new EnvelopeError('@context', `the first @context item of an ${envelopeType} must be ${CREDENTIALS_V2}`);
  const types = Array.isArray(v.type) ? v.type : [v.type];
  if (!types.includes(envelopeType)) throw new EnvelopeError('type', `type must be ${envelopeType}`);
  if (typeof v.id !== 'string' || !v.id.startsWith('data:')) throw new EnvelopeError('id', `the id of an ${envelopeType} must be a data: URL`);
  const comma = v.id.indexOf(',');
  if (comma < 0) throw new EnvelopeError('id', 'the data: URL has no data');
  const header = v.id.slice('data:'.length, comma);
  const [type, ...params] = header.split(';');
  // RFC 2397: `;base64` would mean the data is base64 of the JWS bytes; the specs' examples carry the compact JWS as is.
  if (params.some((p) => p.toLowerCase() === 'base64')) throw new EnvelopeError('id', 'the data: URL must carry the compact JWS itself, not base64', true);
  if (type!.toLowerCase() !== mediaType) throw new EnvelopeError('id', `unsupported media type ${type || '(none)'}; this verifier supports ${mediaType}`, true);
  let jws: string;
  try {
    jws = decodeURIComponent(v.id.slice(comma + 1));
  } catch {
    throw new EnvelopeError('id', 'the data: URL is not correctly percent-encoded');
  }
  if (!COMPACT_JWS.test(jws) || jws.length > 100_000) throw new EnvelopeError('id', 'the data: URL does not hold a compact JWS');
  return { mediaType, jws };
}
