import type { JWK } from 'jose';
import type { Office } from './deps.ts';

/** SD-JWT VC §5.2 (JWT VC Issuer Metadata Response): `issuer` and the keys by value (`jwks`, never also `jwks_uri`). */
export interface JwtVcIssuerMetadata {
  issuer: string;
  jwks: { keys: JWK[] };
}

/**
 * The JWT VC Issuer Metadata of an office (SD-JWT VC §5): `issuer` is its Credential Issuer Identifier,
 * exactly the `iss` of its SD-JWT VCs when they carry `x5c` (issue 17), and `jwks` lists every key that
 * may have signed a credential still in use: the current one and the older ones after a rotation, but
 * no key from its revocation time on (the DID document marks those `revoked`; a JWK Set cannot). Each
 * key's `kid` is its DID URL, the `kid` in the credential header (§5.2: "RECOMMENDED that the
 * Issuer-signed JWT contains a kid … to look up the public key in the JWK Set").
 *
 * Our own verifier and wallet do not use it: they ask the trust registry, which knows the office's
 * DID, not its https identifier (core/x509/issuer-key.ts). It is for third-party verifiers whose
 * policy takes an https `iss` by its metadata.
 */
export function jwtVcIssuerMetadata(office: Office, now: number): JwtVcIssuerMetadata {
  const keys = office.identity.keys
    .filter((k) => k.revoked === undefined || Date.parse(k.revoked) > now)
    .map((k) => ({ kty: k.publicJwk.kty!, crv: k.publicJwk.crv!, x: k.publicJwk.x!, y: k.publicJwk.y!, kid: `${office.identity.did}#${k.fragment}`, use: 'sig', alg: 'ES256' }));
  return { issuer: office.issuerId, jwks: { keys } };
}
