import type { z } from 'zod';
import { deriveClaims } from '../../core/catalog/claims-schema.ts';
import { claimAt, claimPathsOf, type CredentialTypeDef } from '../../core/catalog/model.ts';
import { CONFORMANCE } from '../../core/demo/leipzig.ts';
import { ProblemError } from '../../core/http/errors.ts';
import type { ValidatedCredential } from '../../core/formats/vcdm/validate-credential.ts';
import type { TrustIndex } from '../../core/trust/evaluate.ts';
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

/** What VC-API issuance needs of a credential type's configuration. */
export interface VcApiConfiguration {
  id: string;
  vct: string;
  w3cType: string;
  validityDays: number;
  /** The claims' schema; undefined only for the conformance office's open claim schema. */
  claims: z.ZodType | undefined;
}

export const isConformanceOffice = (office: Office): boolean => office.slug === CONFORMANCE.office.slug;

/** The office's W3C configuration of a registry type (`jwt_vc_json`, with its W3C `type`); none: the office does not issue it over VC-API. */
export function w3cConfigurationFor(office: Office, vct: string): VcApiConfiguration {
  // The conformance office (ISSUER_CONFORMANCE_OFFICE=1): one type, open claim schema, VC-API only.
  if (isConformanceOffice(office) && vct === CONFORMANCE.vct) return { id: 'konformitaetsnachweis_vc_api', vct, w3cType: CONFORMANCE.w3cType, validityDays: CONFORMANCE.validityDays, claims: undefined };
  const c = [...office.configurations.values()].find((x) => x.vct === vct && x.format === 'jwt_vc_json' && x.w3cType);
  if (!c) throw refused('unknown-credential-type', 'type', `${office.slug} has no W3C credential configuration for this type`);
  return { id: c.id, vct: c.vct, w3cType: c.w3cType!, validityDays: c.validityDays, claims: withDerivedClaims(c.claims, c.type) };
}

const valueAt = (obj: unknown, path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), obj);

/** Per compiled claims schema (one per type version), the VC-API variant; built once, not per request. */
const vcApiSchemas = new WeakMap<z.ZodObject, z.ZodType>();

/**
 * VC-API issuance signs the claims as sent, so a derived claim (core/catalog/model.ts `derived`)
 * must be sent, with the value its rule gives today: the office back-end cannot assert an age the
 * date of birth does not give.
 */
function withDerivedClaims(schema: z.ZodObject, type: CredentialTypeDef): z.ZodType {
  let refined = vcApiSchemas.get(schema);
  if (!refined) {
    refined = schema.superRefine((claims, ctx) => {
      const derived = structuredClone(claims) as Record<string, unknown>;
      try {
        deriveClaims(type, derived, Date.now());
      } catch (e) {
        const field = e instanceof ProblemError && typeof e.extra.field === 'string' ? e.extra.field.replace(/^claims\./, '') : undefined;
        ctx.addIssue({ code: 'custom', message: e instanceof ProblemError ? (e.detail ?? e.title).replace(/^claims: [^:]+: /, '') : 'cannot be derived', ...(field ? { path: field.split('.') } : {}) });
        return;
      }
      // A derived claim left out was added to the copy: name it and the value it must have.
      for (const path of claimPathsOf(type)) {
        const def = claimAt(type, path);
        if (def?.type !== 'boolean' || !def.derived) continue;
        const sent = valueAt(claims, path);
        const want = valueAt(derived, path);
        if (sent === undefined && want !== undefined) ctx.addIssue({ code: 'custom', message: `is derived from ${def.derived.from} and must be sent as ${String(want)}`, path });
      }
    });
    vcApiSchemas.set(schema, refined);
  }
  return refined;
}

/**
 * VCDM 2.0 §4.5 / VCDM 1.1 §4.3 `type`: exactly `VerifiableCredential` and the configuration's type.
 * A further type would be signed, and read by verifiers, as if the office had issued that too.
 * Returns the types to sign.
 */
export function checkTypes(vc: ValidatedCredential, c: VcApiConfiguration): string[] {
  const want = new Set(['VerifiableCredential', c.w3cType]);
  if (vc.types.length !== want.size || !vc.types.every((t) => want.has(t))) {
    throw refused('credential-type-not-allowed', 'type', `must be exactly ["VerifiableCredential", "${c.w3cType}"]`);
  }
  return vc.types;
}

/**
 * The conformance office's types (the test suites send `["VerifiableCredential"]` and types of their
 * own): `VerifiableCredential` is required (VCDM 2.0 §4.5, checked by the validator); the office's own
 * type is added when missing, so that verifiers map the credential to its registry type; a type the
 * registry knows as another credential type's is refused — this office never signs one of those.
 */
export function conformanceTypes(vc: ValidatedCredential, index: TrustIndex): string[] {
  for (const t of index.state.credential_types) {
    if (t.vct === CONFORMANCE.vct) continue;
    const clash = t.w3c_types?.find((w) => vc.types.includes(w));
    if (clash) throw refused('credential-type-not-allowed', 'type', `${clash} is a registered credential type this office does not issue`);
  }
  return vc.types.includes(CONFORMANCE.w3cType) ? vc.types : [...vc.types, CONFORMANCE.w3cType];
}

/** Open claim schema: any members, but not without bounds (the request body limit applies on top). */
const OPEN_CLAIMS_MAX_CHARS = 16_384;
const OPEN_CLAIMS_MAX_DEPTH = 8;

export function checkOpenClaims(claims: Record<string, unknown>): void {
  const depth = (v: unknown): number => (typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0);
  if (JSON.stringify(claims).length > OPEN_CLAIMS_MAX_CHARS) throw refused('invalid-claims', 'credentialSubject', `the claims must not exceed ${OPEN_CLAIMS_MAX_CHARS} characters of JSON`);
  if (depth(claims) > OPEN_CLAIMS_MAX_DEPTH) throw refused('invalid-claims', 'credentialSubject', `the claims must not be nested deeper than ${OPEN_CLAIMS_MAX_DEPTH} levels`);
}

/** As in OID4VCI issuance: the type's validity period from now, never past the document's own `gueltig_bis`. */
export function configuredExpiry(c: VcApiConfiguration, claims: Record<string, unknown>, now: number): number {
  let exp = now + c.validityDays * 86_400_000;
  // Only a schema-checked gueltig_bis is a date (an open claim schema's is anything).
  if (c.claims && typeof claims.gueltig_bis === 'string') exp = Math.min(exp, Date.parse(`${claims.gueltig_bis}T23:59:59Z`));
  return Math.max(exp, now + 60_000);
}

/**
 * The validity period to sign. A client may repeat the start (within the skew of now) and shorten
 * the end; an end past the configured one, a start in the future or the past, and JWT time claims
 * are refused with 400 naming the member (VCDM 2.0 §4.9 validFrom/validUntil, VCDM 1.1 §4.6
 * issuanceDate, §4.7 expirationDate).
 */
export function validityOf(vc: ValidatedCredential, c: VcApiConfiguration, claims: Record<string, unknown>, now: number): { validFrom: number; validUntil: number } {
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
