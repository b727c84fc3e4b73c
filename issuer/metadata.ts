import { z } from 'zod';
import { Openid4vciVersion, type IssuerMetadataResult } from '@openid4vc/openid4vci';
import { claimAt } from '../core/catalog/model.ts';
import { ALLOWED_ALGS } from '../core/crypto/jws.ts';
import type { CredentialConfiguration } from './credential-configurations.ts';
import type { Office } from './deps.ts';
import type { Libraries } from './oid4vci-lib.ts';
import { DPOP_ALGS } from './oauth/dpop.ts';

const locales = (t: { de: string; en: string }) => [
  { name: t.de, locale: 'de-DE' },
  { name: t.en, locale: 'en-US' },
];

/**
 * OID4VCI 1.0 §12.2.4: one entry of `credential_configurations_supported`, in the 1.0 shape
 * (`credential_metadata`), all of it from the credential type's definition: `display` (name,
 * description, colours) per locale, and per claim its path, `mandatory` and German and English
 * `display` labels ("Claims Description for Issuer Metadata"), so a wallet shows "Meldebescheinigung" and
 * "Familienname", not URNs and member names.
 */
export function configurationMetadata(c: CredentialConfiguration): Record<string, unknown> {
  const prefix = c.format === 'jwt_vc_json' ? ['credentialSubject'] : [];
  const t = c.type;
  const claims = c.claimPaths.map((path) => {
    const def = claimAt(t, path)!;
    // "Claims Description for Issuer Metadata": `mandatory` defaults to false, so it is sent only when true.
    return { path: [...prefix, ...path], ...(def.mandatory ? { mandatory: true } : {}), display: locales(def.label) };
  });
  const describe = (k: 'de' | 'en') => (t.description ? { description: t.description[k] } : {});
  const common = {
    format: c.format,
    scope: c.id,
    // SD-JWT VC binds to the proof key in `cnf.jwk`; VC-JWT binds to it as did:jwk in credentialSubject.id.
    cryptographic_binding_methods_supported: [c.format === 'jwt_vc_json' ? 'did:jwk' : 'jwk'],
    credential_signing_alg_values_supported: [...ALLOWED_ALGS],
    // §12.2.4, Appendix D: `key_attestations_required` only where the catalogue requires key attestations.
    proof_types_supported: { jwt: { proof_signing_alg_values_supported: [...ALLOWED_ALGS], ...(c.keyAttestationsRequired ? { key_attestations_required: c.keyAttestationsRequired } : {}) } },
    credential_metadata: {
      display: (['de', 'en'] as const).map((k) => ({ name: t.name[k], locale: k === 'de' ? 'de-DE' : 'en-US', ...describe(k), background_color: t.background_color, text_color: t.text_color })),
      claims,
    },
  };
  if (c.format === 'jwt_vc_json') return { ...common, credential_definition: { type: ['VerifiableCredential', c.w3cType!] } };
  return { ...common, vct: c.vct };
}

/** OID4VCI 1.0 §12.2: Credential Issuer Metadata of one office. The office is its own authorization server. */
export function issuerMetadata(office: Office, batchSize: number): Record<string, unknown> {
  return {
    credential_issuer: office.issuerId,
    credential_endpoint: `${office.issuerId}/credential`,
    nonce_endpoint: `${office.issuerId}/nonce`,
    deferred_credential_endpoint: `${office.issuerId}/deferred_credential`,
    batch_credential_issuance: { batch_size: batchSize },
    display: locales(office.name),
    credential_configurations_supported: Object.fromEntries([...office.configurations.values()].map((c) => [c.id, configurationMetadata(c)])),
  };
}

/** RFC 8414 §2 metadata of the office's authorization server (pre-authorized code grant only). */
export function authorizationServerMetadata(office: Office): Record<string, unknown> {
  return {
    issuer: office.issuerId,
    token_endpoint: `${office.issuerId}/token`,
    jwks_uri: `${office.issuerId}/jwks.json`,
    response_types_supported: [],
    grant_types_supported: ['urn:ietf:params:oauth:grant-type:pre-authorized_code'],
    ...selfServiceMetadata(office),
    // Wallet attestation (draft-ietf-oauth-attestation-based-client-auth; issuer/oauth/wallet-attestation.ts): accepted
    // from every wallet, required where the office says so; `none` only where it is not required.
    token_endpoint_auth_methods_supported: office.oauth?.requireWalletAttestation ? ['attest_jwt_client_auth'] : ['none', 'attest_jwt_client_auth'],
    // draft-ietf-oauth-attestation-based-client-auth-07 "Challenge Endpoint": server challenges for the attestation PoP
    // (issuer/routes/attestation-challenge.ts); required in the PoP where the office sets `oauth.require_attestation_challenge`.
    challenge_endpoint: `${office.issuerId}/challenge`,
    // RFC 9449 §5.1: DPoP-bound access tokens, ES256 proofs (issuer/oauth/dpop.ts).
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
    // OID4VCI 1.0 §12.3: a wallet may use the pre-authorized code without client authentication.
    'pre-authorized_grant_anonymous_access_supported': true,
  };
}

/**
 * Self-service offices (issue 17, HAIP 1.0): the authorization code flow, only by PAR (RFC 9126 §5),
 * PKCE S256 only (RFC 7636 §4.2, RFC 8414 §2), the `iss` parameter in the authorization response (RFC 9207 §3).
 */
function selfServiceMetadata(office: Office): Record<string, unknown> {
  if (!office.selfService) return {};
  return {
    authorization_endpoint: `${office.issuerId}/authorize`,
    pushed_authorization_request_endpoint: `${office.issuerId}/par`,
    require_pushed_authorization_requests: true,
    code_challenge_methods_supported: ['S256'],
    response_types_supported: ['code'],
    grant_types_supported: ['urn:ietf:params:oauth:grant-type:pre-authorized_code', 'authorization_code'],
    authorization_response_iss_parameter_supported: true,
    scopes_supported: office.selfService.configurations.filter((id) => office.configurations.has(id)),
    // RFC 9396 §10: the self-service PAR also takes OID4VCI 1.0 §5.1.1 authorization_details (issuer/oauth/par.ts).
    authorization_details_types_supported: ['openid_credential'],
  };
}

/** JSON Schema of a configuration's claims (served in /openapi.json), from the compiled validator. */
export function claimsJsonSchema(c: CredentialConfiguration): unknown {
  return z.toJSONSchema(c.claims, { io: 'input', unrepresentable: 'any' });
}

/** The metadata a route serves for one office: the library-checked issuer metadata and what the library needs. */
export interface OfficeMetadata {
  issuer: Record<string, unknown>;
  result: IssuerMetadataResult;
}

/** Built when an office or one of its types changes (issuer/catalog/catalog.ts), never per request. */
export function buildOfficeMetadata(libs: Libraries, office: Office, batchSize: number): OfficeMetadata {
  const credentialIssuer = libs.issuer.createCredentialIssuerMetadata(issuerMetadata(office, batchSize) as never);
  const as = libs.authorizationServer.createAuthorizationServerMetadata(authorizationServerMetadata(office) as never);
  return {
    issuer: credentialIssuer as Record<string, unknown>,
    result: {
      originalDraftVersion: Openid4vciVersion.V1,
      credentialIssuer,
      authorizationServers: [as],
      knownCredentialConfigurations: libs.issuer.getKnownCredentialConfigurationsSupported(credentialIssuer),
    },
  };
}
