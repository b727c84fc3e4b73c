import type { JWK } from 'jose';
import { ALLOWED_ALGS, signJwt } from '../../core/crypto/jws.ts';
import { notFound } from '../../core/http/errors.ts';
import { toSeconds } from '../../core/util/time.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import { responseUri } from './create-request.ts';

export const REQUEST_OBJECT_TYP = 'oauth-authz-req+jwt';

/**
 * Built here rather than with @openid4vc/openid4vp's createOpenid4vpAuthorizationRequest, which (0.4.6,
 * measured) sets `aud` to the request_uri instead of §5.8's value, leaves `exp` null unless told, and
 * validates neither the DCQL query nor the signer against the client_id. The library's wallet side
 * resolves what we build (tests/verifier, "played by @openid4vc/openid4vp").
 *
 * The signed Request Object served at `request_uri` (OID4VP 1.0 §5, RFC 9101): signed with the
 * relying party's did:web key (`kid` = its DID URL), `client_id` with the `decentralized_identifier:`
 * prefix (§5.9.3) or, for a relying party with a city-CA certificate, `x509_hash:` and the chain in
 * the `x5c` header (§5.9.3: the hash is over the DER of the first `x5c` certificate; HAIP),
 * `aud` "https://self-issued.me/v2" (§5.8), the DCQL query, nonce and state, and
 * client metadata with the formats we accept and, for `direct_post.jwt`, the response encryption key.
 * With `opts.dcApi` the same object for the W3C Digital Credentials API (Appendix A, `dc_api.jwt`):
 * `expected_origins` instead of response_uri and state.
 */
export async function requestObject(deps: Pick<VerifierDeps, 'store' | 'sealer' | 'clock' | 'publicUrl' | 'verifierInfo'>, rp: RelyingParty, id: string, opts: { dcApi?: boolean } = {}): Promise<string> {
  const row = await deps.store.openRequest(rp.slug, id, deps.clock());
  if (!row || row.status !== 'pending' || row.expires_at <= deps.clock()) throw notFound('unknown-request', 'This presentation request does not exist, was answered or has expired.');
  // A DC API request (verifier/use-cases/dc-api.ts) is handed to the counter page only, never served at request_uri.
  const dcApi = (row.response_mode as string) === 'dc_api.jwt';
  if (dcApi !== (opts.dcApi === true)) throw notFound('unknown-request', 'This presentation request does not exist, was answered or has expired.');
  const clientMetadata: Record<string, unknown> = {
    vp_formats_supported: {
      'dc+sd-jwt': { 'sd-jwt_alg_values': [...ALLOWED_ALGS], 'kb-jwt_alg_values': [...ALLOWED_ALGS] },
      jwt_vc_json: { alg_values: [...ALLOWED_ALGS] },
    },
  };
  if ((row.response_mode === 'direct_post.jwt' || dcApi) && row.enc_key_sealed) {
    const { kty, crv, x, y } = JSON.parse(deps.sealer.open(row.enc_key_sealed, row.id)) as JWK;
    // §8.3: the Wallet encrypts to a key from client_metadata.jwks; kid lets us pick it.
    clientMetadata.jwks = { keys: [{ kty, crv, x, y, use: 'enc', alg: 'ECDH-ES', kid: `enc-${row.id}` }] };
    clientMetadata.encrypted_response_enc_values_supported = ['A128GCM', 'A256GCM'];
  }
  // OID4VP 1.0 §5.1 `verifier_info`: the registry's signed registration of this relying party (issue 17,
  // verifier/verifier-info.ts); without one the wallet asks the registry online.
  const verifierInfo = await deps.verifierInfo?.verifierInfo(rp.identity.did);
  const iat = toSeconds(deps.clock());
  return signJwt(
    rp.identity.signer,
    {
      // No `iss`: OID4VP 1.0 does not use it, and with a prefixed client_id it could not equal the
      // signing DID that wallets compare it with (RFC 9101 §4 makes it optional).
      aud: 'https://self-issued.me/v2',
      iat,
      exp: Math.floor(row.expires_at / 1000),
      client_id: rp.clientId,
      response_type: 'vp_token',
      response_mode: row.response_mode,
      // OID4VP 1.0 Appendix A.2: over the DC API no response_uri; expected_origins (REQUIRED for signed
      // requests) names this verifier's public origin, the only page that may hand the request to a wallet.
      ...(dcApi ? { expected_origins: [new URL(deps.publicUrl).origin] } : { response_uri: responseUri(deps, rp) }),
      nonce: row.nonce,
      // Appendix A.2: `state` is not defined for the DC API.
      ...(dcApi ? {} : { state: row.state }),
      dcql_query: JSON.parse(row.dcql_query),
      client_metadata: clientMetadata,
      ...(verifierInfo ? { verifier_info: verifierInfo } : {}),
    },
    // OID4VP 1.0 §5.9.3 x509_hash: "the request MUST be signed with the private key corresponding to the
    // public key in the leaf X.509 certificate of the certificate chain added to the request object in
    // the x5c JOSE header". The certificate certifies the same key as the did:web `kid` beside it.
    { typ: REQUEST_OBJECT_TYP, ...(rp.x5c && rp.clientId.startsWith('x509_hash:') ? { header: { x5c: rp.x5c } } : {}) },
  );
}
