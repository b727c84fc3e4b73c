import { createHash, randomBytes } from 'node:crypto';
import { CompactEncrypt, CompactSign, base64url, calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose';
import { clientAuthenticationAnonymous, Oauth2Client, type SignJwtCallback } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import type { Resolver } from 'did-resolver';
import { resolveAssertionKey } from '../../core/did/resolver.ts';
import { boundedFetchFunction } from '../../core/net/bounded-fetch.ts';
import { PROTOCOL_MESSAGE_MAX_BYTES, WALLET_FETCH_TIMEOUT_MS } from '../../core/net/limits.ts';
import type { x509 } from '../../core/x509/pem.ts';
import { validateChain } from '../../core/x509/validate-chain.ts';
import type { HolderKeyRecord } from './store.ts';

const hash = (d: Uint8Array, alg: string) => new Uint8Array(createHash(alg === 'sha-384' ? 'sha384' : alg === 'sha-512' ? 'sha512' : 'sha256').update(d).digest());

/** Bounds of the wallet's fetches; tests pass shorter ones. */
export interface WalletFetchLimits {
  /** Largest answer accepted (bytes; default PROTOCOL_MESSAGE_MAX_BYTES). */
  maxBytes?: number;
  /** Deadline for one request and its answer (ms; default WALLET_FETCH_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * The wallet's fetch for offers, metadata, tokens, credentials, request objects and responses:
 * bounded in time and size while the body streams in (core/net/bounded-fetch.ts), and redirects
 * handed back unfollowed, which the libraries treat as errors (OID4VP 1.0 §14 "HTTP Redirects": the
 * Wallet SHOULD NOT follow redirects for the Request URI and the Response URI).
 */
export function walletFetch(limits: WalletFetchLimits = {}): typeof fetch {
  return boundedFetchFunction({ maxBytes: limits.maxBytes ?? PROTOCOL_MESSAGE_MAX_BYTES, timeoutMs: limits.timeoutMs ?? WALLET_FETCH_TIMEOUT_MS, redirect: 'manual' });
}

/** OID4VCI 1.0 client (wallet side of @openid4vc/openid4vci) signing key proofs with the wallet's holder keys. */
export function vciClient(keys: () => HolderKeyRecord[], limits: WalletFetchLimits = {}): Openid4vciClient {
  return new Openid4vciClient({ callbacks: vciCallbacks(keys, limits) });
}

/**
 * The OAuth 2.0 client under it (@openid4vc/oauth2), same callbacks: for the authorization request
 * of self-service (core/self-service.ts), where the offer helper of the OID4VCI client cannot send `state`.
 */
export function oauth2Client(keys: () => HolderKeyRecord[], limits: WalletFetchLimits = {}): Oauth2Client {
  return new Oauth2Client({ callbacks: vciCallbacks(keys, limits) });
}

function vciCallbacks(keys: () => HolderKeyRecord[], limits: WalletFetchLimits) {
  const signJwt: SignJwtCallback = async (signer, { header, payload }) => {
    if (signer.method !== 'jwk') throw new Error('the wallet signs proofs with a jwk');
    const jkt = await calculateJwkThumbprint(signer.publicJwk as JWK);
    const k = keys().find((x) => x.id === jkt);
    if (!k) throw new Error('unknown holder key');
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header as never).sign(await importJWK(k.jwk, 'ES256'));
    return { jwt, signerJwk: signer.publicJwk };
  };
  return { fetch: walletFetch(limits), hash, generateRandom: (n: number) => new Uint8Array(randomBytes(n)), signJwt, clientAuthentication: clientAuthenticationAnonymous() };
}

/**
 * OID4VP 1.0 §5.1 carries Verifier metadata in `client_metadata`; `client_metadata_uri` is not part
 * of OID4VP 1.0, and @openid4vc/openid4vp would fetch it with the global fetch (no deadline, no
 * size limit). A request naming it is refused before anything is fetched for it.
 */
const CLIENT_METADATA_URI = 'client_metadata_uri';

class BoundedOpenid4vpClient extends Openid4vpClient {
  override resolveOpenId4vpAuthorizationRequest(options: Parameters<Openid4vpClient['resolveOpenId4vpAuthorizationRequest']>[0]): ReturnType<Openid4vpClient['resolveOpenId4vpAuthorizationRequest']> {
    if (CLIENT_METADATA_URI in (options.authorizationRequestPayload as Record<string, unknown>)) return Promise.reject(new Error('client_metadata_uri is not supported (OID4VP 1.0 §5.1: client_metadata)'));
    return super.resolveOpenId4vpAuthorizationRequest(options);
  }
}

/** The city CAs the wallet trusts for `x509_hash` requests, and the clock their validity is checked at. */
export interface WalletX509 {
  anchors: () => readonly x509.X509Certificate[];
  now: () => number;
}

/**
 * OID4VP 1.0 client: checks the Request Object's signature with the key of the client's DID, or for
 * `x509_hash` (§5.9.3) with the key of the `x5c` leaf after its chain validated to a trusted city CA
 * (the library then compares the leaf's hash with the client identifier); encrypts direct_post.jwt responses.
 */
export function vpClient(resolver: Resolver, limits: WalletFetchLimits = {}, x509Trust?: WalletX509): Openid4vpClient {
  return new BoundedOpenid4vpClient({
    callbacks: {
      hash,
      fetch: walletFetch(limits),
      // Asked by the library for x509_san_dns / x509_san_uri only; x509_hash needs just the hash. SANs of the
      // leaf as validated (no names from a chain that does not validate).
      getX509CertificateMetadata: (certificate: string) => {
        const chain = x509Trust ? validateChain([certificate], x509Trust.anchors(), x509Trust.now()) : undefined;
        return chain?.ok ? { sanDnsNames: chain.sanDns, sanUriNames: chain.sanUris } : { sanDnsNames: [], sanUriNames: [] };
      },
      verifyJwt: async (signer, { compact, header, payload }) => {
        if (header.alg !== 'ES256') return { verified: false };
        // A Request Object naming client_metadata_uri is refused (see CLIENT_METADATA_URI).
        if (CLIENT_METADATA_URI in payload) return { verified: false };
        if (signer.method === 'x5c') {
          // OID4VP 1.0 §5.9.3: "The Wallet MUST validate the signature and the trust chain of the X.509 leaf certificate."
          if (!x509Trust) return { verified: false };
          const chain = validateChain(signer.x5c, x509Trust.anchors(), x509Trust.now());
          if (!chain.ok) return { verified: false };
          try {
            await compactVerify(compact, chain.publicKey, { algorithms: ['ES256'] });
            return { verified: true, signerJwk: chain.publicJwk as never };
          } catch {
            return { verified: false };
          }
        }
        if (signer.method !== 'did') return { verified: false };
        try {
          const key = await resolveAssertionKey(resolver, signer.didUrl, signer.didUrl.split('#')[0]);
          await compactVerify(compact, await importJWK(key, 'ES256'), { algorithms: ['ES256'] });
          return { verified: true, signerJwk: key as never };
        } catch {
          return { verified: false };
        }
      },
      encryptJwe: async (encryptor, data) => {
        if (encryptor.method !== 'jwk' || encryptor.alg !== 'ECDH-ES' || !['A128GCM', 'A256GCM'].includes(encryptor.enc)) throw new Error('unsupported response encryption');
        const { publicJwk, alg, enc, apu, apv } = encryptor;
        const jwe = await new CompactEncrypt(new TextEncoder().encode(data))
          .setProtectedHeader({ alg, enc, ...(publicJwk.kid ? { kid: publicJwk.kid } : {}) })
          .setKeyManagementParameters({ ...(apu ? { apu: base64url.decode(apu) } : {}), ...(apv ? { apv: base64url.decode(apv) } : {}) })
          .encrypt(await importJWK(publicJwk as JWK, alg));
        return { jwe, encryptionJwk: publicJwk };
      },
      signJwt: async () => {
        throw new Error('signed responses are not used');
      },
      decryptJwe: async () => ({ decrypted: false }),
    },
  });
}
