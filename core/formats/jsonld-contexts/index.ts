import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The JSON-LD contexts that appear in our credentials (and in the spec examples we test with),
 * bundled with the code: nothing is fetched at run time.
 *
 * We do no JSON-LD processing: credentials are secured with JOSE (VC-JOSE-COSE) or are VC-JWTs, and
 * both are verified over their bytes, not over an RDF graph. The contexts matter anyway because
 * VCDM 2.0 §4.3 says "Application developers MUST understand every JSON-LD context used by their
 * application", so the policy is:
 *
 * - Issuing: every `@context` entry must be a bundled URL. An unknown URL or an inline context
 *   object is refused (400): we would be signing terms whose meaning we do not know.
 * - Verifying: an unknown context is a warning, not an error. The signature covers the document as
 *   JSON; VC-JOSE-COSE "Validation" asks for a well-formed compact JSON-LD document and says claims
 *   that are not understood MUST be ignored, so an unknown context cannot change what we check —
 *   but the caller is told that part of the document has a meaning we did not vouch for.
 *
 * VCDM 2.0 Appendix B.1 (Base Context): the base context is treated as already retrieved and its
 * SHA2-256 digest is published in the Recommendation; the bundled copy is checked against it by the
 * tests (tests/w3c/jsonld-contexts.test.ts).
 */
export const CREDENTIALS_V1 = 'https://www.w3.org/2018/credentials/v1';
export const CREDENTIALS_V2 = 'https://www.w3.org/ns/credentials/v2';
export const CREDENTIALS_EXAMPLES_V2 = 'https://www.w3.org/ns/credentials/examples/v2';

/** VCDM 2.0 Appendix B.1: hexadecimal SHA2-256 digest of the base context file. */
export const CREDENTIALS_V2_SHA256 = '59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734';

export interface BundledContext {
  url: string;
  /** The data model version whose documents may use it. */
  versions: readonly ('1.1' | '2.0')[];
  file: string;
}

export const BUNDLED_CONTEXTS: readonly BundledContext[] = [
  { url: CREDENTIALS_V1, versions: ['1.1'], file: 'credentials-v1.jsonld' },
  { url: CREDENTIALS_V2, versions: ['2.0'], file: 'credentials-v2.jsonld' },
  // The examples context of VCDM 2.0 (`@vocab` only): lets the specs' own examples be verified.
  { url: CREDENTIALS_EXAMPLES_V2, versions: ['2.0'], file: 'credentials-examples-v2.jsonld' },
];

const byUrl = new Map(BUNDLED_CONTEXTS.map((c) => [c.url, c]));
const cache = new Map<string, string>();

/** The bundled document of a context URL (its exact bytes as text), or undefined when not bundled. */
export function bundledContextText(url: string): string | undefined {
  const c = byUrl.get(url);
  if (!c) return undefined;
  let text = cache.get(url);
  if (text === undefined) {
    text = readFileSync(new URL(`./${c.file}`, import.meta.url), 'utf8');
    cache.set(url, text);
  }
  return text;
}

export function bundledContextDigest(url: string): string | undefined {
  const text = bundledContextText(url);
  return text === undefined ? undefined : createHash('sha256').update(text).digest('hex');
}

export function isBundledContext(url: unknown, version: '1.1' | '2.0'): boolean {
  return typeof url === 'string' && (byUrl.get(url)?.versions.includes(version) ?? false);
}

/** The `@context` entries (after the base context) that are not bundled for this version, as readable strings. */
export function unknownContexts(contexts: readonly unknown[], version: '1.1' | '2.0'): string[] {
  return contexts.filter((c) => !isBundledContext(c, version)).map((c) => (typeof c === 'string' ? c : '(inline context object)'));
}
