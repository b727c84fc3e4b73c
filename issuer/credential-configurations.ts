import { z } from 'zod';
import { CLAIM_LABELS, LEIPZIG, VCT } from '../core/demo/leipzig.ts';
import type { CredentialTypeDef } from '../core/catalog/model.ts';
import type { I18nText } from '../core/trust/model.ts';

/**
 * The credential configurations the offices offer (OID4VCI 1.0 §12.2.4 `credential_configurations_supported`):
 * format, type, the JSON Schema of the claims (as zod, exported to JSON Schema for the metadata and
 * /openapi.json), and display names in German and English.
 */

const text = (max = 100) => z.string().trim().min(1).max(max);
/** A real calendar date, YYYY-MM-DD. */
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }, 'must be a valid calendar date');
const name = text(100);

export const CLAIM_SCHEMAS = {
  meldebescheinigung: z.strictObject({
    vorname: name,
    familienname: name,
    geburtsdatum: date,
    anschrift: z.strictObject({
      strasse: text(120),
      hausnummer: z.string().trim().regex(/^[0-9]{1,5}[a-zA-Z]?(\s?[-/]\s?[0-9]{1,5}[a-zA-Z]?)?$/, 'must be a house number such as 12, 12a or 12-14'),
      postleitzahl: z.string().regex(/^[0-9]{5}$/, 'must be a five-digit German postcode'),
      ort: text(100),
    }),
    wohnsitz_leipzig: z.boolean(),
    alter_ueber_18: z.boolean(),
  }),
  leipzig_pass: z.strictObject({
    ermaessigungsberechtigt: z.boolean(),
    gueltig_bis: date,
    passnummer: z.string().regex(/^[A-Z0-9-]{4,32}$/, 'must be 4-32 upper-case letters, digits or hyphens'),
    vorname: name,
    familienname: name,
    geburtsdatum: date,
  }),
  bibliotheksausweis: z.strictObject({
    ausweisnummer: z.string().regex(/^[A-Z0-9-]{4,32}$/, 'must be 4-32 upper-case letters, digits or hyphens'),
    nutzergruppe: z.enum(['erwachsen', 'ermaessigt', 'kind', 'jugendlich']),
    gueltig_bis: date,
    vorname: name,
    familienname: name,
    geburtsdatum: date,
  }),
  geburtsurkunde: z.strictObject({
    vorname: name,
    familienname: name,
    geburtsname: name,
    geburtsdatum: date,
    geburtsort: text(100),
    registernummer: z.string().trim().regex(/^[A-Za-z0-9 /.-]{1,40}$/, 'must be a register number'),
    standesamt: text(120),
  }),
} as const;

export type CredentialKind = keyof typeof CLAIM_SCHEMAS;


export type CredentialFormat = 'dc+sd-jwt' | 'jwt_vc_json';

export interface CredentialConfiguration {
  id: string;
  office: string;
  kind: CredentialKind;
  format: CredentialFormat;
  vct: string;
  /** W3C `type` for jwt_vc_json. */
  w3cType?: string;
  name: I18nText;
  /** How long an issued credential is valid, in days. */
  validityDays: number;
  /** Claims whose paths are listed in metadata (top level and nested members). */
  claimPaths: string[][];
  /** The credential type's definition (core/catalog/model.ts): claims, labels, SD flags, derived claims. */
  type: CredentialTypeDef;
}

function claimPaths(kind: CredentialKind): string[][] {
  const out: string[][] = [];
  const shape = CLAIM_SCHEMAS[kind].shape as Record<string, z.ZodType>;
  for (const [k, v] of Object.entries(shape)) {
    out.push([k]);
    if (v instanceof z.ZodObject) for (const sub of Object.keys(v.shape)) out.push([k, sub]);
  }
  return out;
}

const conf = (id: string, office: string, kind: CredentialKind, format: CredentialFormat, vct: string, name: I18nText, validityDays: number, w3cType?: string): CredentialConfiguration => ({
  id,
  office,
  kind,
  format,
  vct,
  name,
  validityDays,
  claimPaths: claimPaths(kind),
  type: LEIPZIG.credential_types.find((t) => t.id === kind)!,
  ...(w3cType ? { w3cType } : {}),
});

export const CREDENTIAL_CONFIGURATIONS: CredentialConfiguration[] = [
  conf('meldebescheinigung_sd_jwt', 'buergerbuero', 'meldebescheinigung', 'dc+sd-jwt', VCT.meldebescheinigung, { de: 'Meldebescheinigung', en: 'Certificate of registration' }, 365),
  conf('leipzig_pass_sd_jwt', 'sozialamt', 'leipzig_pass', 'dc+sd-jwt', VCT.leipzig_pass, { de: 'Leipzig-Pass', en: 'Leipzig-Pass' }, 365),
  conf('bibliotheksausweis_sd_jwt', 'bibliothek', 'bibliotheksausweis', 'dc+sd-jwt', VCT.bibliotheksausweis, { de: 'Bibliotheksausweis', en: 'Library card' }, 730),
  conf('bibliotheksausweis_jwt_vc', 'bibliothek', 'bibliotheksausweis', 'jwt_vc_json', VCT.bibliotheksausweis, { de: 'Bibliotheksausweis', en: 'Library card' }, 730, 'Bibliotheksausweis'),
  conf('geburtsurkunde_sd_jwt', 'standesamt', 'geburtsurkunde', 'dc+sd-jwt', VCT.geburtsurkunde, { de: 'Geburtsurkunde', en: 'Birth certificate' }, 36500),
];

export const claimDisplay = (path: string[]): I18nText | undefined => CLAIM_LABELS[path.join('.')];

export function configurationsOf(office: string): CredentialConfiguration[] {
  return CREDENTIAL_CONFIGURATIONS.filter((c) => c.office === office);
}
