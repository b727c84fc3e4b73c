import { createHash } from 'node:crypto';
import { jcs } from '../crypto/canonical.ts';
import type { ClaimDef, CredentialTypeDef } from './model.ts';

/**
 * SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc §6 "SD-JWT VC Type Metadata") of a credential
 * type, so any wallet shows "Meldebescheinigung" and "Familienname", not URNs and member names.
 *
 * The document is served as the octets of its RFC 8785 canonical form, and `vct#integrity`
 * (§"Integrity of Referenced Documents": W3C SRI syntax, sha256 of the retrieved octets) is computed
 * over exactly those octets: the registry that serves it and the issuer that signs the hash derive
 * the same bytes from the same definition.
 */

const LOCALES = [
  ['de', 'de-DE'],
  ['en', 'en-US'],
] as const;

export interface TypeMetadataDocument {
  vct: string;
  name: string;
  description?: string;
  display: { locale: string; name: string; description?: string; rendering: { simple: { background_color: string; text_color: string } } }[];
  claims: { path: string[]; display: { locale: string; label: string }[]; mandatory: boolean; sd: string }[];
}

export function typeMetadata(t: CredentialTypeDef): TypeMetadataDocument {
  const claims: TypeMetadataDocument['claims'] = [];
  const walk = (defs: ClaimDef[], prefix: string[]) => {
    for (const c of defs) {
      const path = [...prefix, c.name];
      // §9.5 `mandatory`; §9.6 `sd` (our issuer makes `allowed` claims disclosable, as `always`).
      claims.push({ path, display: LOCALES.map(([k, locale]) => ({ locale, label: c.label[k] })), mandatory: c.mandatory, sd: c.sd });
      if (c.type === 'address' || c.type === 'object') walk(c.claims, path);
    }
  };
  walk(t.claims, []);
  return {
    vct: t.vct,
    // §6.2 `name` and `description` are for developers reading the document: the English text.
    name: t.name.en,
    ...(t.description ? { description: t.description.en } : {}),
    display: LOCALES.map(([k, locale]) => ({
      locale,
      name: t.name[k],
      ...(t.description ? { description: t.description[k] } : {}),
      rendering: { simple: { background_color: t.background_color, text_color: t.text_color } },
    })),
    claims,
  };
}

/** The octets served for the type metadata: RFC 8785 canonical JSON, UTF-8. */
export function typeMetadataBytes(t: CredentialTypeDef): Buffer {
  return Buffer.from(jcs(typeMetadata(t)), 'utf8');
}

/** `vct#integrity`: W3C SRI integrity metadata, `sha256-<base64 digest>` of the served octets. */
export function typeMetadataIntegrity(t: CredentialTypeDef): string {
  return `sha256-${createHash('sha256').update(typeMetadataBytes(t)).digest('base64')}`;
}
