import { ProblemError } from '../../core/http/errors.ts';
import type { ValidatedCredential } from '../../core/formats/vcdm/validate-credential.ts';
import type { CredentialConfiguration } from '../credential-configurations.ts';
import type { Office } from '../deps.ts';

/**
 * What an office back-end may and may not decide in a VC-API issuance: the claims are its own; the
 * type and the validity period come from the credential type's configuration only, as in OID4VCI
 * issuance. A clerk cannot make a library card valid until 2999 or type it as a Meldebescheinigung.
 */

/** Tolerated difference between a client-sent validFrom/issuanceDate and the issuer's clock. */
export const VALIDITY_SKEW_MS = 60_000;

/** JWT claims that VC-JOSE-COSE verifiers read as the validity of the signature (VC-JOSE-COSE §3.1.3, RFC 7519 §4.1.4-4.1.6). */
const JWT_TIME_CLAIMS = ['exp', 'nbf', 'iat'] as const;

const refused = (code: string, field: string, detail: string) =>
  new ProblemError({ status: 400, code, title: 'Invalid credential', detail: `credential.${field}: ${detail}`, extra: { field: `credential.${field}` } });

/** The office's W3C configuration of a registry type (`jwt_vc_json`, with its W3C `type`); none: the office does not issue it over VC-API. */
export function w3cConfigurationFor(office: Office, vct: string): CredentialConfiguration {
  const c = [...office.configurations.values()].find((x) => x.vct === vct && x.format === 'jwt_vc_json' && x.w3cType);
  if (!c) throw refused('unknown-credential-type', 'type', `${office.slug} has no W3C credential configuration for this type`);
  return c;
}

/**
 * VCDM 2.0 §4.5 / VCDM 1.1 §4.3 `type`: exactly `VerifiableCredential` and the configuration's type.
 * A further type would be signed, and read by verifiers, as if the office had issued that too.
 */
export function checkTypes(vc: ValidatedCredential, c: CredentialConfiguration): void {
  const want = new Set(['VerifiableCredential', c.w3cType!]);
  if (vc.types.length !== want.size || !vc.types.every((t) => want.has(t))) {
    throw refused('credential-type-not-allowed', 'type', `must be exactly ["VerifiableCredential", "${c.w3cType}"]`);
  }
}

/** As in OID4VCI issuance: the type's validity period from now, never past the document's own `gueltig_bis`. */
export function configuredExpiry(c: CredentialConfiguration, claims: Record<string, unknown>, now: number): number {
  let exp = now + c.validityDays * 86_400_000;
  if (typeof claims.gueltig_bis === 'string') exp = Math.min(exp, Date.parse(`${claims.gueltig_bis}T23:59:59Z`));
  return Math.max(exp, now + 60_000);
}

/**
 * The validity period to sign. A client may repeat the start (within the skew of now) and shorten
 * the end; an end past the configured one, a start in the future or the past, and JWT time claims
 * are refused with 400 naming the member (VCDM 2.0 §4.9 validFrom/validUntil, VCDM 1.1 §4.6
 * issuanceDate, §4.7 expirationDate).
 */
export function validityOf(vc: ValidatedCredential, c: CredentialConfiguration, claims: Record<string, unknown>, now: number): { validFrom: number; validUntil: number } {
  const [fromName, untilName] = vc.version === '2.0' ? ['validFrom', 'validUntil'] : ['issuanceDate', 'expirationDate'];
  for (const k of JWT_TIME_CLAIMS) if (k in vc.credential) throw refused('validity-not-allowed', k, 'the validity period comes from the credential type\'s configuration; JWT time claims are not accepted');
  const max = configuredExpiry(c, claims, now);
  if (vc.validFrom !== undefined && Math.abs(vc.validFrom - now) > VALIDITY_SKEW_MS) {
    throw refused('validity-not-allowed', fromName, `must be the time of issuance (leave it out); ${new Date(vc.validFrom).toISOString()} is ${vc.validFrom > now ? 'in the future' : 'in the past'}`);
  }
  if (vc.validUntil !== undefined && vc.validUntil > max) {
    throw refused('validity-not-allowed', untilName, `must not be later than ${new Date(max).toISOString()}, the end of this credential type's validity period (leave it out to get it)`);
  }
  if (vc.validUntil !== undefined && vc.validUntil <= now) throw refused('validity-not-allowed', untilName, 'must be in the future');
  return { validFrom: vc.validFrom ?? now, validUntil: vc.validUntil ?? max };
}
