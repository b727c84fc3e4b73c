import { createHash } from 'node:crypto';
import { CompactEncrypt, base64url, compactVerify, importJWK, type JWK } from 'jose';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/openid4vci';
import { createDidResolver, resolveAssertionKey } from '../../core/did/resolver.ts';

/**
 * The wallet side of OID4VP 1.0 played by @openid4vc/openid4vp: resolves `openid4vp://` requests
 * (fetching the request object and checking its signature with the key of the client's did:web),
 * and sends responses with direct_post or direct_post.jwt (encrypted to client_metadata.jwks).
 */
export function oid4vpWallet() {
  setGlobalConfig({ allowInsecureUrls: true });
  const resolver = createDidResolver();
  const client = new Openid4vpClient({
    callbacks: {
      hash: (d, alg) => new Uint8Array(createHash(alg === 'sha-384' ? 'sha384' : alg === 'sha-512' ? 'sha512' : 'sha256').update(d).digest()),
      fetch: ((input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, redirect: 'manual' })) as typeof fetch,
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
        if (encryptor.method !== 'jwk') throw new Error('jwk encryptor only');
        const { publicJwk, alg, enc, apu, apv } = encryptor;
        const jwe = await new CompactEncrypt(new TextEncoder().encode(data))
          .setProtectedHeader({ alg, enc, ...(publicJwk.kid ? { kid: publicJwk.kid } : {}) })
          .setKeyManagementParameters({ ...(apu ? { apu: base64url.decode(apu) } : {}), ...(apv ? { apv: base64url.decode(apv) } : {}) })
          .encrypt(await importJWK(publicJwk as JWK, alg));
        return { jwe, encryptionJwk: publicJwk };
      },
      signJwt: async () => {
        throw new Error('not used');
      },
      decryptJwe: async () => ({ decrypted: false }),
    },
  });

  return {
    async resolve(authorizationRequest: string) {
      const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest });
      return client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params as never });
    },
    async respond(resolved: Awaited<ReturnType<typeof client.resolveOpenId4vpAuthorizationRequest>>, vp_token: Record<string, string[]>) {
      const payload = resolved.authorizationRequestPayload;
      const response = await client.createOpenid4vpAuthorizationResponse({
        authorizationRequestPayload: payload,
        authorizationResponsePayload: { vp_token },
        ...(payload.response_mode === 'direct_post.jwt'
          ? {
              jarm: {
                encryption: { nonce: base64url.encode(crypto.getRandomValues(new Uint8Array(16))) },
                serverMetadata: {
                  authorization_signing_alg_values_supported: ['ES256'],
                  authorization_encryption_alg_values_supported: ['ECDH-ES'],
                  authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
                },
              },
            }
          : {}),
      } as never);
      const submitted = await client.submitOpenid4vpAuthorizationResponse({
        authorizationRequestPayload: payload,
        authorizationResponsePayload: response.authorizationResponsePayload,
        ...(response.jarm ? { jarm: { responseJwt: response.jarm.responseJwt } } : {}),
      } as never);
      return submitted.response;
    },
  };
}
