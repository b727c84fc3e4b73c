import { getDidKeyResolver } from '@veramo/did-provider-key';
import { Resolver, type DIDResolutionResult, type DIDResolver, type VerificationMethod as DidVm } from 'did-resolver';
import type { JWK } from 'jose';
import { boundedFetch, OutboundFetchError } from '../net/bounded-fetch.ts';
import { DID_DOCUMENT_MAX_BYTES, SERVICE_FETCH_TIMEOUT_MS } from '../net/limits.ts';
import { didWebDocumentUrl } from './did-web.ts';

/**
 * DID resolution for did:web, did:jwk and did:key.
 *
 * did:web is resolved here rather than with `web-did-resolver`, which fetches only over https: docs/contract.md
 * allows plain http for localhost in development and tests. The fetch goes through core/net/bounded-fetch.ts
 * (deadline, no redirects, body streamed and cut at the byte limit), and the document's `id` must
 * equal the DID (did:web spec §3.2.1 read).
 */

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface ResolverOptions {
  fetch?: FetchLike;
  /** Deadline for fetching a did:web document (ms; default SERVICE_FETCH_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Largest did:web document accepted (bytes; default DID_DOCUMENT_MAX_BYTES). */
  maxBytes?: number;
  /** Documents this process serves itself, answered without a network round trip. */
  local?: (did: string) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;
  /**
   * Longest a fetched did:web document is relied on (ms; 0 or unset: fetched every time). The
   * document's own `Cache-Control: max-age` shortens it, `no-store`/`no-cache` turn it off.
   */
  cacheMaxAgeMs?: number;
  clock?: () => number;
}

/** Seconds of `max-age`, 0 for `no-store`/`no-cache`, undefined when the header says neither. */
function maxAgeOf(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  if (/(^|,)\s*(no-store|no-cache)\s*(,|$)/i.test(cacheControl)) return 0;
  const m = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl);
  return m ? Number(m[1]) : undefined;
}

const notFound = (message: string): DIDResolutionResult => ({
  didResolutionMetadata: { error: 'notFound', message },
  didDocument: null,
  didDocumentMetadata: {},
});

export function webResolver(opts: ResolverOptions = {}): DIDResolver {
  const timeoutMs = opts.timeoutMs ?? SERVICE_FETCH_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DID_DOCUMENT_MAX_BYTES;
  const clock = opts.clock ?? Date.now;
  const cacheMaxAgeMs = opts.cacheMaxAgeMs ?? 0;
  // Verified documents by DID, bounded; only successful resolutions are kept.
  const cache = new Map<string, { result: DIDResolutionResult; until: number }>();
  return async (did) => {
    const local = await opts.local?.(did);
    if (local) return { didResolutionMetadata: { contentType: 'application/did+json' }, didDocument: local as never, didDocumentMetadata: {} };
    const url = didWebDocumentUrl(did);
    if (!url) return { didResolutionMetadata: { error: 'invalidDid' }, didDocument: null, didDocumentMetadata: {} };
    const hit = cache.get(did);
    if (hit && clock() < hit.until) return hit.result;
    let body: string;
    let keepMs = 0;
    try {
      const res = await boundedFetch(url, {
        maxBytes,
        timeoutMs,
        headers: { accept: 'application/did+json, application/json' },
        redirect: 'error',
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
      });
      const served = maxAgeOf(res.headers.get('cache-control'));
      keepMs = Math.min(cacheMaxAgeMs, served === undefined ? cacheMaxAgeMs : served * 1000);
      body = res.text();
    } catch (e) {
      const code = e instanceof OutboundFetchError ? e.code : 'network';
      if (code === 'http_status') return notFound(`DID document answered HTTP ${(e as OutboundFetchError).status}`);
      if (code === 'too_large') return notFound('DID document too large');
      return notFound('DID document could not be fetched');
    }
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return notFound('DID document is not JSON');
    }
    if (doc?.id !== did) return notFound('DID document id does not match the DID');
    const result: DIDResolutionResult = { didResolutionMetadata: { contentType: 'application/did+json' }, didDocument: doc as never, didDocumentMetadata: {} };
    if (keepMs > 0) {
      cache.delete(did);
      if (cache.size >= 1000) cache.delete(cache.keys().next().value!);
      cache.set(did, { result, until: clock() + keepMs });
    }
    return result;
  };
}

/**
 * did:jwk (did:jwk spec §2.2). Written here because @veramo/did-provider-jwk 7 lists verification
 * relationships only when the JWK has `use`; the spec gives a JWK without `use` every relationship
 * (assertionMethod, authentication, capability*, keyAgreement), which wallets rely on.
 */
export const jwkResolver: DIDResolver = async (did) => {
  const fail = (error: string): DIDResolutionResult => ({ didResolutionMetadata: { error }, didDocument: null, didDocumentMetadata: {} });
  const value = did.slice('did:jwk:'.length);
  if (!/^[A-Za-z0-9_-]{10,2000}$/.test(value)) return fail('invalidDid');
  let jwk: Record<string, unknown>;
  try {
    jwk = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return fail('invalidDid');
  }
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string' || 'd' in jwk) return fail('invalidDid');
  const vm = `${did}#0`;
  const sig = jwk.use !== 'enc';
  const enc = jwk.use !== 'sig';
  return {
    didResolutionMetadata: { contentType: 'application/did+json' },
    didDocument: {
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/jws-2020/v1'],
      id: did,
      verificationMethod: [{ id: vm, type: 'JsonWebKey2020', controller: did, publicKeyJwk: jwk as never }],
      ...(sig ? { assertionMethod: [vm], authentication: [vm], capabilityInvocation: [vm], capabilityDelegation: [vm] } : {}),
      ...(enc ? { keyAgreement: [vm] } : {}),
    },
    didDocumentMetadata: {},
  };
};

export function createDidResolver(opts: ResolverOptions = {}): Resolver {
  return new Resolver(
    {
      web: webResolver(opts),
      jwk: jwkResolver,
      ...(getDidKeyResolver() as Record<string, DIDResolver>),
    },
    { cache: false },
  );
}

export class KeyResolutionError extends Error {
  override name = 'KeyResolutionError';
}

/**
 * The verification method `kid` (a DID URL, or its fragment) names in `doc`, only if the document
 * lists it under `relationship` (DID Core §5.3): embedded there or referenced to `verificationMethod`.
 */
export function methodFor(doc: NonNullable<DIDResolutionResult['didDocument']>, kid: string, relationship: 'assertionMethod' | 'authentication'): DidVm | undefined {
  const fragment = kid.slice(kid.indexOf('#'));
  const matches = (id: string) => id === kid || id === fragment;
  const listed = doc[relationship] ?? [];
  if (!listed.some((a) => matches(typeof a === 'string' ? a : a.id))) return undefined;
  return (doc.verificationMethod ?? []).find((v) => matches(v.id)) ?? listed.find((a): a is DidVm => typeof a !== 'string' && matches(a.id));
}

/**
 * The public JWK behind a `kid` of the form `<did>#<fragment>`, taken only from the document's
 * `assertionMethod` relationship (the keys a DID controller uses to sign statements).
 */
export async function resolveAssertionKey(resolver: Resolver, kid: string, expectedDid?: string, now: number = Date.now()): Promise<JWK> {
  const hash = kid.indexOf('#');
  if (hash < 0) throw new KeyResolutionError('kid must be a DID URL with a fragment');
  const did = kid.slice(0, hash);
  if (expectedDid !== undefined && did !== expectedDid) throw new KeyResolutionError('kid does not belong to the expected DID');
  const result = await resolver.resolve(did);
  const doc = result.didDocument;
  if (!doc) throw new KeyResolutionError(`DID could not be resolved (${result.didResolutionMetadata.error ?? 'unknown'})`);
  const vm = methodFor(doc, kid, 'assertionMethod');
  if (!vm) throw new KeyResolutionError('kid is not an assertion method of the DID');
  if (!vm.publicKeyJwk) throw new KeyResolutionError('verification method has no publicKeyJwk');
  // Controlled Identifiers 1.0 §2.2.1: a revoked key is not relied on from its revocation time on.
  const revoked = (vm as { revoked?: unknown }).revoked;
  if (revoked !== undefined && (typeof revoked !== 'string' || !(Date.parse(revoked) > now))) throw new KeyResolutionError('the signing key has been revoked');
  return vm.publicKeyJwk as JWK;
}
