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
 * before this runs), so the same checks the library makes for them are written out below: a
 * `credential_configuration_id` and no `credential_identifier`; `proofs` an object of exactly one
 * proof type whose value is an array, with `jwt` and `attestation` arrays of compact JWTs (a proof
 * type other than those parses, but yields no proofs, as in the library); `credential_response_encryption`
 * with `jwk`, `alg` and `enc`. A request that fails is `invalid_request`, as the library's
 * ValidationError was (issuer/protocol-errors.ts).
 */
const zCompactJwt = z.string().regex(/^[a-zA-Z0-9-_]+\.[a-zA-Z0-9-_]+\.[a-zA-Z0-9-_]+$/);

const zProofs = z
  .record(z.string(), z.array(z.unknown()))
  .and(z.looseObject({ jwt: z.array(zCompactJwt).optional(), attestation: z.array(zCompactJwt).optional() }))
  .refine((p) => Object.keys(p).length === 1);

const zRequest = z.looseObject({
  credential_configuration_id: z.string(),
  credential_identifier: z.never().optional(),
  proofs: zProofs.optional(),
  credential_response_encryption: z.looseObject({ jwk: z.looseObject({ kty: z.string() }), alg: z.string(), enc: z.string() }).optional(),
});

export interface CredentialRequest {
  credentialConfigurationId: string;
  /** The proofs, when they are of a known type (`jwt` or `attestation`) and nothing else. */
  proofs?: { jwt?: string[]; attestation?: string[] };
  credentialRequest: z.output<typeof zRequest>;
}

export function parseCredentialRequest(body: unknown): CredentialRequest {
  const r = zRequest.safeParse(body);
  if (!r.success) throw new ProtocolError('invalid_request', 'The request does not have the expected form.');
  const proofs = r.data.proofs;
  const known = proofs && Object.keys(proofs).every((k) => k === 'jwt' || k === 'attestation') ? (proofs as { jwt?: string[]; attestation?: string[] }) : undefined;
  return { credentialConfigurationId: r.data.credential_configuration_id, ...(known ? { proofs: known } : {}), credentialRequest: r.data };
}
