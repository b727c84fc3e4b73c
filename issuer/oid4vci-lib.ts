import { createHash } from 'node:crypto';
import { compactVerify, type JWK } from 'jose';
import {
  HashAlgorithm,
  Oauth2AuthorizationServer,
  Oauth2ResourceServer,
  clientAuthenticationAnonymous,
  type CallbackContext,
  type SignJwtCallback,
  type VerifyJwtCallback,
} from '@openid4vc/oauth2';
import { Openid4vciIssuer } from '@openid4vc/openid4vci';
import { ALLOWED_ALGS } from '../core/crypto/jws.ts';
import { signCompactEs256, verifyCompactEs256 } from '../core/crypto/es256-compact.ts';
import { publicKeyObject } from '../core/crypto/jwk.ts';
import { pooledRandomBytes } from '../core/crypto/random.ts';
import { boundedFetchFunction } from '../core/net/bounded-fetch.ts';
import { PROTOCOL_MESSAGE_MAX_BYTES, SERVICE_FETCH_TIMEOUT_MS } from '../core/net/limits.ts';
import type { Office } from './deps.ts';
import { SignedHere } from './oauth/signed-here.ts';

/**
 * The @openid4vc libraries parse and check the OID4VCI and OAuth messages; crypto is ours, passed
 * in as callbacks: ES256 only, public JWKs only, office keys held in memory.
 */

const HASH: Record<string, string> = { [HashAlgorithm.Sha256]: 'sha256', [HashAlgorithm.Sha384]: 'sha384', [HashAlgorithm.Sha512]: 'sha512' };

export function libraryCallbacks(offices: Map<string, Office>): Omit<CallbackContext, 'decryptJwe' | 'encryptJwe'> {
  // Looked up on every call: a key rotation replaces an office's signer.
  const signerFor = (kid: string) => [...offices.values()].map((o) => o.identity.signer).find((s) => s.kid === kid);
  // Access tokens signed here come back here for the credential request (issuer/oauth/signed-here.ts).
  const signedHere = new SignedHere();

  const signJwt: SignJwtCallback = async (signer, { header, payload }) => {
    if (signer.method !== 'custom' || !signer.kid) throw new Error('only office keys sign here');
    const s = signerFor(signer.kid);
    if (!s) throw new Error('unknown signing key');
    // jwtHeaderFromJwtSigner() leaves out `kid` for custom signers: put it back.
    // node:crypto, not jose's WebCrypto: see core/crypto/es256-compact.ts (issue 16).
    const jwt = signCompactEs256(s.privateKey, { ...header, alg: s.alg, kid: s.kid }, payload as Record<string, unknown>);
    signedHere.remember(jwt, s.publicJwk as JWK);
    return { jwt, signerJwk: s.publicJwk as never };
  };

  const verifyJwt: VerifyJwtCallback = async (signer, { header, compact }) => {
    // Proofs carry the holder key as `jwk` or as a did:jwk `kid` (OID4VCI 1.0 Appendix F.1); access tokens are checked with the office key from jwks_uri (also `jwk`).
    const key = signerKey(signer);
    if (!('jwk' in key) || !ALLOWED_ALGS.includes(header.alg as 'ES256') || signer.alg !== header.alg) return { verified: false };
    // The very bytes this process signed with this very key: what the signature would prove.
    if (signedHere.signed(compact, key.jwk)) return { verified: true, signerJwk: key.jwk as never };
    try {
      const publicKey = publicKeyObject(key.jwk);
      // node:crypto for the common shape; anything else (crit, b64, odd encodings) is judged by jose as before.
      const fast = verifyCompactEs256(compact, publicKey);
      if (fast) return fast.valid ? { verified: true, signerJwk: key.jwk as never } : { verified: false };
      await compactVerify(compact, publicKey, { algorithms: [...ALLOWED_ALGS] });
      return { verified: true, signerJwk: key.jwk as never };
    } catch {
      return { verified: false };
    }
  };

  // The resource server reads jwks_uri to check access tokens: answer our own offices from memory.
  // Anything else goes out bounded in time and size, redirects not followed (core/net/bounded-fetch.ts).
  const outbound = boundedFetchFunction({ maxBytes: PROTOCOL_MESSAGE_MAX_BYTES, timeoutMs: SERVICE_FETCH_TIMEOUT_MS, redirect: 'error' });
  const localFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    for (const o of offices.values()) if (`${o.issuerId}/jwks.json` === url) return jwksAnswer(officeJwks(o));
    return outbound(input, init);
  }) as typeof fetch;

  return {
    hash: (data, alg) => new Uint8Array(createHash(HASH[alg] ?? 'unsupported').update(data).digest()),
    generateRandom: (n) => new Uint8Array(pooledRandomBytes(n)),
    signJwt,
    verifyJwt,
    fetch: localFetch,
    clientAuthentication: clientAuthenticationAnonymous(),
  };
}

const JWKS_HEADERS = new Headers({ 'content-type': 'application/jwk-set+json' });

/**
 * An office's own JWKS as the answer to the library's fetch of `jwks_uri`, on every credential
 * request. Not a `Response`: building one and reading it back through web streams was 3.3 % of the
 * issuer's busy time in the bench profile (issue 16). This object has the members the library's
 * fetcher reads (`ok`, `status`, `headers`, `json`, `text`, `clone`); the flow tests and Credo's
 * requests go through it on every credential.
 */
function jwksAnswer(set: unknown): Response {
  const answer = {
    ok: true,
    status: 200,
    headers: JWKS_HEADERS,
    json: async () => set,
    text: async () => JSON.stringify(set),
    clone: () => answer,
  };
  return answer as unknown as Response;
}

/** A proof's holder key: the public JWK it is verified with and, for a did:jwk `kid`, the DID the credential binds to. */
export type ProofKey = { jwk: JWK; did?: string } | { refused: string };

/** The key of a signer the @openid4vc library found in a JWT header (`jwk`, or `kid` as method `did`). */
export function signerKey(signer: { method: string; publicJwk?: unknown; didUrl?: string }): ProofKey {
  if (signer.method === 'jwk') return checkedJwk(signer.publicJwk);
  if (signer.method === 'did') return didJwkKey(signer.didUrl ?? '');
  return { refused: 'the proof key must be a jwk header or a did:jwk kid' };
}

/**
 * The key of a proof `kid` DID URL (OID4VCI 1.0 Appendix F.1: "kid … refers to a DID URL which
 * identifies a particular key in the DID Document that the Credential shall be bound to").
 * Only did:jwk is accepted: it is resolved offline from the DID itself (did:jwk spec §2.2: the
 * document's one verification method is `#0`). Other methods would make the issuer fetch what a
 * wallet names (did:web) and are refused.
 */
export function didJwkKey(didUrl: string): ProofKey {
  if (!didUrl.startsWith('did:jwk:')) return { refused: `DID method ${/^did:[a-z0-9]+:/.exec(didUrl)?.[0] ?? '(none)'} is not accepted for key proofs; use did:jwk or a jwk header` };
  const m = /^(did:jwk:([A-Za-z0-9_-]+))#0$/.exec(didUrl);
  if (!m) return { refused: 'a did:jwk kid must be the DID followed by #0 (did:jwk spec §2.2)' };
  let jwk: unknown;
  try {
    jwk = JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8'));
  } catch {
    return { refused: 'the did:jwk does not decode to a JWK' };
  }
  const key = checkedJwk(jwk);
  return 'jwk' in key ? { jwk: key.jwk, did: m[1]! } : key;
}

/** A holder key: a public P-256 JWK (OID4VCI 1.0 Appendix F.1: the key "MUST NOT contain a private key"). */
function checkedJwk(jwk: unknown): ProofKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return { refused: 'the proof key is not a JWK' };
  const k = jwk as JWK;
  if ('d' in k) return { refused: 'the proof key contains a private key' };
  if (k.kty !== 'EC' || k.crv !== 'P-256' || typeof k.x !== 'string' || typeof k.y !== 'string') return { refused: 'the proof key must be an EC P-256 public key' };
  return { jwk: k };
}

/** The office's JWK Set for access-token verification (RFC 8414 `jwks_uri`). */
export function officeJwks(o: Office): { keys: JWK[] } {
  // Every key not revoked: tokens signed before a rotation stay valid until they expire.
  return { keys: o.identity.keys.filter((k) => !k.revoked).map((k) => ({ ...k.publicJwk, kid: `${o.identity.did}#${k.fragment}`, use: 'sig', alg: 'ES256' })) };
}

export interface Libraries {
  issuer: Openid4vciIssuer;
  authorizationServer: Oauth2AuthorizationServer;
  resourceServer: Oauth2ResourceServer;
}

export function createLibraries(offices: Map<string, Office>): Libraries {
  const callbacks = libraryCallbacks(offices) as CallbackContext;
  return {
    issuer: new Openid4vciIssuer({ callbacks }),
    authorizationServer: new Oauth2AuthorizationServer({ callbacks }),
    resourceServer: new Oauth2ResourceServer({ callbacks }),
  };
}
