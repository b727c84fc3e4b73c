export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A URL as VCDM uses the word (URL Standard): an absolute URL with a scheme, such as `https:`,
 * `did:` or `urn:` — relative references and strings with spaces are not identifiers.
 */
export function isUrl(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 2048 && /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(v) && URL.canParse(v);
}

