import { createHash, randomBytes } from 'node:crypto';
import { CompactEncrypt, CompactSign, base64url, calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose';
import { clientAuthenticationAnonymous, type SignJwtCallback } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import type { Resolver } from 'did-resolver';
import { resolveAssertionKey } from '../../core/did/resolver.ts';
import type { HolderKeyRecord } from './store.ts';

const hash = (d: Uint8Array, alg: string) => new Uint8Array(createHash(alg === 'sha-384' ? 'sha384' : alg === 'sha-512' ? 'sha512' : 'sha256').update(d).digest());
/** No redirects for request_uri, response_uri, offers or metadata (OID4VP 1.0 §14 "HTTP Redirects"). */
const noRedirectFetch = ((input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, redirect: 'manual', signal: AbortSignal.timeout(10_000) })) as typeof fetch;

/** OID4VCI 1.0 client (wallet side of @openid4vc/openid4vci) signing key proofs with the wallet's holder keys. */
export function vciClient(keys: () => HolderKeyRecord[]): Openid4vciClient {
  const signJwt: SignJwtCallback = async (signer, { header, payload }) => {
    if (signer.method !== 'jwk') throw new Error('the wallet signs proofs with a jwk');
    const jkt = await calculateJwkThumbprint(signer.publicJwk as JWK);
    const k = keys().find((x) => x.id === jkt);
    if (!k) throw new Error('unknown holder key');
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header as never).sign(await importJWK(k.jwk, 'ES256'));
    return { jwt, signerJwk: signer.publicJwk };
  };
  return new Openid4vciClient({
    callbacks: { fetch: noRedirectFetch, hash, generateRandom: (n) => new Uint8Array(randomBytes(n)), signJwt, clientAuthentication: clientAuthenticationAnonymous() },
  });
}

/** OID4VP 1.0 client: checks the Request Object's signature with the key of the client's DID; encrypts direct_post.jwt responses. */
export function vpClient(resolver: Resolver): Openid4vpClient {
  return new Openid4vpClient({
    callbacks: {
      hash,
      fetch: noRedirectFetch,
      verifyJwt: async (signer, { compact, header }) => {
        if (signer.method !== 'did' || header.alg !== 'ES256') return { verified: false };
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
