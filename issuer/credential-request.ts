import { z } from 'zod';
import { ProtocolError } from '../core/http/errors.ts';

/**
 * The Credential Request of OID4VCI 1.0 §8.2, checked with schemas built once at start-up.
 *
 * Written here rather than calling @openid4vc/openid4vci's `parseCredentialRequest` (issue 16): that
 * checks every request against a union of three drafts' shapes with transforms and builds two new
 * zod schemas on every call (`z.union(allCredentialRequestProofs)`, `zCredentialRequestProofs.strict()`),
 * which zod then compiles anew; in the bench profile it was 4.4 % of the issuer's busy time, more
 * than half of all zod time. The issuer accepts 1.0 requests only (`proof` and `format` are refused
 * before this runs), so the same checks the library makes for them are written out below: exactly
 * one of `credential_configuration_id` and `credential_identifier` (§8.2), each a string; `proofs` an object of exactly one
 * proof type whose value is an array, with `jwt` and `attestation` arrays of compact JWTs (a proof
 * type other than those parses, but yields no proofs, as in the library); `credential_response_encryption`
 * with `jwk`, `alg` and `enc`. A request that fails is `invalid_credential_request`, as in the
 * library (its Openid4vciIssuer.parseCredentialRequest wraps the ValidationError so) and as OID4VCI 1.0
 * §8.3.1.2 requires for errors in the request's payload ("instead of the generic `invalid_request`").
 */
const zCompactJwt = z.string().regex(/^[a-zA-Z0-9-_]+\.[a-zA-Z0-9-_]+\.[a-zA-Z0-9-_]+$/);

// Every proof type's value an array (`catchall`), `jwt` and `attestation` arrays of compact JWTs,
// exactly one type. One object schema: as a record intersected with an object it took twice as long.
const zProofs = z
  .object({ jwt: z.array(zCompactJwt).optional(), attestation: z.array(zCompactJwt).optional() })
  .catchall(z.array(z.unknown()))
  .refine((p) => Object.keys(p).length === 1);

// §8.2: `credential_configuration_id` and `credential_identifier` exclude each other; one of them is
// required. Both optional here and the "exactly one" checked after the parse (one schema, no union).
const zRequest = z.looseObject({
  credential_configuration_id: z.string().optional(),
  credential_identifier: z.string().optional(),
  proofs: zProofs.optional(),
  credential_response_encryption: z.looseObject({ jwk: z.looseObject({ kty: z.string() }), alg: z.string(), enc: z.string() }).optional(),
});

export type CredentialRequest = ({ credentialConfigurationId: string; credentialIdentifier?: undefined } | { credentialIdentifier: string; credentialConfigurationId?: undefined }) & {
  /** The proofs, when they are of a known type (`jwt` or `attestation`) and nothing else. */
  proofs?: { jwt?: string[]; attestation?: string[] };
  credentialRequest: z.output<typeof zRequest>;
};

export function parseCredentialRequest(body: unknown): CredentialRequest {
  const r = zRequest.safeParse(body);
  if (!r.success) throw new ProtocolError('invalid_credential_request', 'The request does not have the expected form.');
  const { credential_configuration_id: configurationId, credential_identifier: identifier } = r.data;
  if ((configurationId === undefined) === (identifier === undefined)) throw new ProtocolError('invalid_credential_request', 'The request does not have the expected form.');
  const proofs = r.data.proofs;
  const known = proofs && Object.keys(proofs).every((k) => k === 'jwt' || k === 'attestation') ? (proofs as { jwt?: string[]; attestation?: string[] }) : undefined;
  const id = configurationId !== undefined ? { credentialConfigurationId: configurationId } : { credentialIdentifier: identifier! };
  return { ...id, ...(known ? { proofs: known } : {}), credentialRequest: r.data };
}

/**
 * The credential identifiers an access token grants (OID4VCI 1.0 §6.2), from its `authorization_details`
 * claim (RFC 9396 §9.1, written by issuer/use-cases/exchange-authorization-code.ts): identifier ->
 * credential configuration. Undefined for a token whose token response carried no credential_identifiers.
 * The token's signature is checked before this runs; the shape is checked all the same.
 */
export function grantedCredentialIdentifiers(tokenPayload: Record<string, unknown>): Map<string, string> | undefined {
  const details = tokenPayload.authorization_details;
  if (!Array.isArray(details)) return undefined;
  const granted = new Map<string, string>();
  for (const d of details as unknown[]) {
    if (typeof d !== 'object' || d === null) continue;
    const { type, credential_configuration_id: configuration, credential_identifiers: ids } = d as Record<string, unknown>;
    if (type !== 'openid_credential' || typeof configuration !== 'string' || !Array.isArray(ids)) continue;
    for (const id of ids) if (typeof id === 'string') granted.set(id, configuration);
  }
  return granted.size > 0 ? granted : undefined;
}

const requestError = (code: string, d: string) => new ProtocolError(code, d);

/**
 * OID4VCI 1.0 §8.2: the credential configuration a Credential Request asks for. With a token whose
 * Token Response carried `credential_identifiers` the request names one of them as
 * `credential_identifier` and no `credential_configuration_id`; otherwise it names the configuration
 * and no identifier. Breaking either rule is `invalid_credential_request` (§8.3.1.2: "includes an
 * unsupported parameter"); an identifier this token was not given is `unknown_credential_identifier`
 * (§8.3.1.2). Checked on the raw body before the parse, so these answers carry the 1.0 codes rather
 * than the parse's `invalid_request`.
 */
export function requestedConfigurationId(body: Record<string, unknown>, granted: Map<string, string> | undefined): string {
  const hasIdentifier = body.credential_identifier !== undefined;
  const hasConfiguration = body.credential_configuration_id !== undefined;
  if (granted) {
    if (hasConfiguration) throw requestError('invalid_credential_request', 'This access token came with credential_identifiers: name one as credential_identifier, without credential_configuration_id (OID4VCI 1.0 §8.2).');
    if (typeof body.credential_identifier !== 'string') throw requestError('invalid_credential_request', 'credential_identifier is required (OID4VCI 1.0 §8.2).');
    const configuration = granted.get(body.credential_identifier);
    if (!configuration) throw requestError('unknown_credential_identifier', 'This credential_identifier was not issued with this access token.');
    return configuration;
  }
  if (hasIdentifier) throw requestError('invalid_credential_request', 'credential_identifier is not valid for this access token: its token response carried no credential_identifiers; use credential_configuration_id (OID4VCI 1.0 §8.2).');
  if (typeof body.credential_configuration_id !== 'string') throw requestError('invalid_credential_request', 'credential_configuration_id is required.');
  return body.credential_configuration_id;
}
