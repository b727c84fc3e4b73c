import type { z } from 'zod';
import { compileClaimsSchema } from '../core/catalog/claims-schema.ts';
import { claimPathsOf, type CredentialFormat, type CredentialTypeDef, type OfficeDef } from '../core/catalog/model.ts';
import { typeMetadataIntegrity } from '../core/catalog/type-metadata.ts';
import type { I18nText } from '../core/trust/model.ts';

export type { CredentialFormat };

/**
 * The credential configurations an office offers (OID4VCI 1.0 §12.2.4 `credential_configurations_supported`),
 * derived from the catalogue (issuer/catalog/): the office's `credential_configurations` joined with
 * the credential type definitions they name. Nothing city-specific is written in code.
 */
export interface CredentialConfiguration {
  id: string;
  office: string;
  format: CredentialFormat;
  vct: string;
  /** W3C `type` for jwt_vc_json. */
  w3cType?: string;
  name: I18nText;
  /** How long an issued credential is valid, in days. */
  validityDays: number;
  /** Claims whose paths are listed in metadata (parents before their members). */
  claimPaths: string[][];
  /** The credential type's definition (core/catalog/model.ts): claims, labels, SD flags, derived claims. */
  type: CredentialTypeDef;
  /** The claims' validator, compiled once per type version (core/catalog/claims-schema.ts), never per request. */
  claims: z.ZodObject;
  /** SD-JWT VC §3.2.2.2 `vct#integrity` of the type's metadata document. */
  integrity: string;
  /** OID4VCI 1.0 §12.2.4 `key_attestations_required` of the catalogue entry (issuer/oauth/key-attestation.ts); absent: none needed. */
  keyAttestationsRequired?: { key_storage?: string[]; user_authentication?: string[] };
}

/** A type definition with what is derived from it once per version. */
export interface CompiledType {
  def: CredentialTypeDef;
  /** RFC 8785 canonical JSON of the definition: equal strings, equal versions. */
  fingerprint: string;
  claims: z.ZodObject;
  integrity: string;
  claimPaths: string[][];
}

export function compileType(def: CredentialTypeDef, fingerprint: string): CompiledType {
  return { def, fingerprint, claims: compileClaimsSchema(def), integrity: typeMetadataIntegrity(def), claimPaths: claimPathsOf(def) };
}

/** The configurations of an office from its definition; a configuration whose type is missing is left out (the catalogue refuses such offices). */
export function configurationsFor(office: OfficeDef, types: ReadonlyMap<string, CompiledType>): CredentialConfiguration[] {
  return office.credential_configurations.flatMap((c) => {
    const t = types.get(c.type);
    if (!t || (c.format === 'jwt_vc_json' && !t.def.w3c_type)) return [];
    return [
      {
        id: c.id,
        office: office.slug,
        format: c.format,
        vct: t.def.vct,
        ...(c.format === 'jwt_vc_json' ? { w3cType: t.def.w3c_type! } : {}),
        name: t.def.name,
        validityDays: t.def.validity_days,
        claimPaths: t.claimPaths,
        type: t.def,
        claims: t.claims,
        integrity: t.integrity,
        ...(c.key_attestations_required ? { keyAttestationsRequired: c.key_attestations_required } : {}),
      },
    ];
  });
}
