import type { JWK } from 'jose';

/**
 * did:web (W3C CCG did:web method spec §3.2): `did:web:<host%3Aport>[:path…]`. The document lives at
 * `https://host/.well-known/did.json` without a path and at `https://host/path/did.json` with one.
 * docs/contract.md: plain http only for localhost and 127.0.0.1.
 */

const LOCAL = new Set(['localhost', '127.0.0.1']);

/** The did:web for a public base URL plus optional path segments (`offices`, `buergerbuero`). */
export function didWebFor(baseUrl: string, ...segments: string[]): string {
  const url = new URL(baseUrl);
  const host = url.port ? `${url.hostname}%3A${url.port}` : url.hostname;
  const basePath = url.pathname.split('/').filter(Boolean);
  return ['did:web', host, ...basePath, ...segments].join(':');
}

/** The URL of a did:web's document, or undefined for anything that is not a well-formed did:web. */
export function didWebDocumentUrl(did: string): string | undefined {
  const m = /^did:web:([A-Za-z0-9.-]+)(?:%3A(\d{1,5}))?((?::[A-Za-z0-9._~-]+)*)$/.exec(did);
  if (!m) return undefined;
  const [, host, port, path] = m;
  const scheme = LOCAL.has(host!) ? 'http' : 'https';
  const segments = path ? path.split(':').filter(Boolean) : [];
  const authority = port ? `${host}:${port}` : host;
  return segments.length === 0
    ? `${scheme}://${authority}/.well-known/did.json`
    : `${scheme}://${authority}/${segments.map(encodeURIComponent).join('/')}/did.json`;
}

export interface VerificationMethod {
  id: string;
  type: 'JsonWebKey2020';
  controller: string;
  publicKeyJwk: JWK;
  /** Controlled Identifiers 1.0 §2.2.1: the key must not be relied on from this time on. */
  revoked?: string;
}

export interface DidDocument {
  '@context': string[];
  id: string;
  verificationMethod: VerificationMethod[];
  assertionMethod: string[];
  authentication: string[];
  [k: string]: unknown;
}

export interface DocumentKey {
  /** Fragment without `#`. */
  fragment: string;
  publicJwk: JWK;
  revoked?: string;
}

/** A DID document listing the given keys for assertion and authentication (JsonWebKey2020). */
export function buildDidDocument(did: string, keys: DocumentKey[], extra: Record<string, unknown> = {}): DidDocument {
  const vms = keys.map<VerificationMethod>((k) => ({ id: `${did}#${k.fragment}`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: k.publicJwk, ...(k.revoked ? { revoked: k.revoked } : {}) }));
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/jws-2020/v1'],
    id: did,
    verificationMethod: vms,
    assertionMethod: vms.map((v) => v.id),
    authentication: vms.map((v) => v.id),
    ...extra,
  };
}
