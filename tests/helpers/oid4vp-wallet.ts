import { base64url } from 'jose';
import { setGlobalConfig } from '@openid4vc/openid4vci';
import { createDidResolver } from '../../core/did/resolver.ts';
import { vpClient } from '../../wallet-demo/core/protocol-clients.ts';

/**
 * The wallet side of OID4VP 1.0 played by @openid4vc/openid4vp (through the wallet core's client):
 * resolves `openid4vp://` requests, checking the Request Object's signature with the key of the
 * client's did:web, and answers with direct_post or direct_post.jwt (encrypted to client_metadata.jwks).
 */
export function oid4vpWallet() {
  setGlobalConfig({ allowInsecureUrls: true });
  const client = vpClient(createDidResolver());
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
