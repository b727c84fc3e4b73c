import { z } from 'zod';
import { zI18nText } from '../http/validate.ts';
import { zClaimPath } from '../trust/model.ts';

/**
 * A city's configuration as data (issue 15): credential types with their claims, offices and the
 * types they issue, relying parties and the DCQL query templates of their counters, and the
 * departments that accredit offices. One declarative document (`npm run config -- apply city.yaml`);
 * each service keeps the part it needs in its own database and takes changes without a restart.
 * The trust registry stays the source of truth for who may issue or ask what.
 *
 * The same schemas validate the file, the admin API bodies and what a service reads back from its
 * database: nothing here is trusted because it was stored.
 */

const zSlug = z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'must be a slug: lower-case letters, digits and hyphens, starting with a letter');
/** Claim names as they appear in credentials and DCQL paths. */
export const zClaimName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a claim name: lower-case letters, digits and underscores, starting with a letter');
const zConfigurationId = z.string().regex(/^[a-z][a-z0-9_]{1,62}$/, 'must be an identifier: lower-case letters, digits and underscores');
/** SD-JWT VC §3.2.2.1.1: a Collision-Resistant Name (RFC 7515 §2); a URN or an https URL. */
export const zVct = z.string().max(200).regex(/^(urn:[a-z0-9][a-z0-9-]{0,31}:[A-Za-z0-9()+,\-.:=@;$_!*'%/?#]+|https:\/\/[^\s]+)$/, 'must be a URN or an https URL');
const zColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour #rrggbb');

/**
 * Derived claims are computed by the issuer from other claims, never typed or ticked by a clerk:
 * - `age_at_least`: true when the date claim `from` lies at least `years` years before the day of issuance;
 * - `equals`: true when the text claim `from` equals `value` (compared case-insensitively, trimmed).
 */
export const zDerivation = z.discriminatedUnion('rule', [
  z.strictObject({ rule: z.literal('age_at_least'), from: z.string().min(1).max(200), years: z.number().int().min(1).max(150) }),
  z.strictObject({ rule: z.literal('equals'), from: z.string().min(1).max(200), value: z.string().min(1).max(200) }),
]);
export type Derivation = z.infer<typeof zDerivation>;

/** SD-JWT VC §9.6 (Claim Selective Disclosure Metadata): `always`, `allowed` or `never`. */
export const SD_VALUES = ['always', 'allowed', 'never'] as const;

const zClaimBase = {
  name: zClaimName,
  label: zI18nText,
  /** Whether an issued credential must carry it (SD-JWT VC §9.5 `mandatory`). Default true. */
  mandatory: z.boolean().default(true),
  /** Selective disclosure in SD-JWT VC (§9.6); default `always`. VC-JWT has none. */
  sd: z.enum(SD_VALUES).default('always'),
};

export type ClaimDef =
  | { name: string; label: z.infer<typeof zI18nText>; mandatory: boolean; sd: (typeof SD_VALUES)[number]; type: 'string'; max_length: number; pattern?: string | undefined; hint?: z.infer<typeof zI18nText> | undefined }
  | { name: string; label: z.infer<typeof zI18nText>; mandatory: boolean; sd: (typeof SD_VALUES)[number]; type: 'date' }
  | { name: string; label: z.infer<typeof zI18nText>; mandatory: boolean; sd: (typeof SD_VALUES)[number]; type: 'boolean'; derived?: Derivation | undefined }
  | { name: string; label: z.infer<typeof zI18nText>; mandatory: boolean; sd: (typeof SD_VALUES)[number]; type: 'enum'; values: { value: string; label: z.infer<typeof zI18nText> }[] }
  | { name: string; label: z.infer<typeof zI18nText>; mandatory: boolean; sd: (typeof SD_VALUES)[number]; type: 'address'; claims: ClaimDef[] }
  | { name: string; label: z.infer<typeof zI18nText>; mandatory: boolean; sd: (typeof SD_VALUES)[number]; type: 'object'; claims: ClaimDef[] };

/** A regular expression source that compiles, without flags, anchored by the issuer. */
const zPattern = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => {
    try {
      new RegExp(s, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');

/**
 * One claim of a credential type. `address` is an object whose members (`strasse`, `hausnummer`,
 * `postleitzahl`, `ort` or others) pages format as one line ("Markt 1, 04109 Leipzig").
 */
export const zClaimDef: z.ZodType<ClaimDef, unknown> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({ ...zClaimBase, type: z.literal('string'), max_length: z.number().int().min(1).max(1000).default(100), pattern: zPattern.optional(), hint: zI18nText.optional() }),
    z.strictObject({ ...zClaimBase, type: z.literal('date') }),
    z.strictObject({ ...zClaimBase, type: z.literal('boolean'), derived: zDerivation.optional() }),
    z.strictObject({ ...zClaimBase, type: z.literal('enum'), values: z.array(z.strictObject({ value: z.string().min(1).max(100), label: zI18nText })).min(1).max(50) }),
    z.strictObject({ ...zClaimBase, type: z.literal('address'), claims: z.array(zClaimDef).min(1).max(20) }),
    z.strictObject({ ...zClaimBase, type: z.literal('object'), claims: z.array(zClaimDef).min(1).max(50) }),
  ]),
) as z.ZodType<ClaimDef, unknown>;

/** A credential type: the same definition goes to the registry, the issuer and the verifier. */
export const zCredentialTypeDef = z
  .strictObject({
    /** Short name used in configuration ids and the file (`meldebescheinigung`). */
    id: zConfigurationId,
    vct: zVct,
    name: zI18nText,
    description: zI18nText.optional(),
    /** Claims in the order pages show them. */
    claims: z.array(zClaimDef).min(1).max(100),
    /** How long an issued credential is valid, in days. */
    validity_days: z.number().int().min(1).max(36500),
    /** Registry: whether credentials issued before a suspension of the issuer's grant stay trusted. */
    issued_before_suspension: z.enum(['reject', 'accept']).default('reject'),
    /** The W3C `type` when the type is also issued as jwt_vc_json (VC-JWT). */
    w3c_type: z.string().regex(/^[A-Z][A-Za-z0-9]{1,62}$/, 'must be a W3C type name such as Bibliotheksausweis').optional(),
    /** OID4VCI 1.0 §12.2.4 / SD-JWT VC §9.2 display colours. */
    background_color: zColor.default('#004f9f'),
    text_color: zColor.default('#ffffff'),
  })
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    const walk = (claims: ClaimDef[], prefix: string[]) => {
      for (const c of claims) {
        const path = [...prefix, c.name].join('.');
        if (seen.has(path)) ctx.addIssue({ code: 'custom', message: `claim ${path} is defined twice`, path: ['claims'] });
        seen.add(path);
        if (c.type === 'address' || c.type === 'object') walk(c.claims, [...prefix, c.name]);
      }
    };
    walk(t.claims, []);
    // A derived claim reads a claim of the right kind that exists in the same type.
    const find = (path: string): ClaimDef | undefined => {
      let list: ClaimDef[] = t.claims;
      let found: ClaimDef | undefined;
      for (const part of path.split('.')) {
        found = list.find((c) => c.name === part);
        if (!found) return undefined;
        list = found.type === 'address' || found.type === 'object' ? found.claims : [];
      }
      return found;
    };
    const check = (claims: ClaimDef[]) => {
      for (const c of claims) {
        if (c.type === 'boolean' && c.derived) {
          const source = find(c.derived.from);
          const want = c.derived.rule === 'age_at_least' ? 'date' : 'string';
          if (!source || source.type !== want) ctx.addIssue({ code: 'custom', message: `derived claim ${c.name} reads ${c.derived.from}, which must be a ${want} claim of this type`, path: ['claims'] });
        }
        if (c.type === 'address' || c.type === 'object') check(c.claims);
      }
    };
    check(t.claims);
  });
export type CredentialTypeDef = z.output<typeof zCredentialTypeDef>;

export const CREDENTIAL_FORMATS = ['dc+sd-jwt', 'jwt_vc_json'] as const;
export type CredentialFormat = (typeof CREDENTIAL_FORMATS)[number];

/**
 * OID4VCI 1.0 §12.2.4 `proof_types_supported.jwt.key_attestations_required` (values from Appendix D.2,
 * e.g. `iso_18045_high`): the wallet must send a key attestation whose `key_storage` and
 * `user_authentication` each name one of the listed values. Empty object: any trusted key attestation.
 */
const zAttackPotential = z.array(z.string().min(1).max(200)).min(1).max(10);
export const zKeyAttestationsRequired = z.strictObject({ key_storage: zAttackPotential.optional(), user_authentication: zAttackPotential.optional() });

/**
 * Per-office OAuth requirements (HAIP 1.0; issuer/oauth/). All default to false: wallets without DPoP or attestation keep working.
 * `require_attestation_challenge`: a wallet attestation PoP must carry a server challenge (issuer/oauth/wallet-attestation.ts).
 */
export const zOfficeOAuth = z.strictObject({ require_dpop: z.boolean().default(false), require_wallet_attestation: z.boolean().default(false), require_attestation_challenge: z.boolean().default(false) });

/** A dotted path into the login's claims (OIDC Core §5.1), e.g. `address.locality`. */
const zLoginClaimPath = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62}){0,3}$/, 'must be a dotted claim path such as address.locality');
/** A dotted path into the credential's claims, e.g. `anschrift.strasse`. */
const zCredentialClaimPath = z.string().regex(/^[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62}){0,3}$/, 'must be a dotted claim path such as anschrift.strasse');

/**
 * Self-service issuance from a login at the city's OpenID Connect provider (docs/self-service.md):
 * - `configurations`: the office's configurations a citizen may fetch this way;
 * - `claims`: credential claim path ← login claim path; `{ from, part }` splits an OIDC
 *   `address.street_address` ("Markt 1a") into its `street` or its `house_number`;
 * - `rule`: every condition must hold (compared trimmed, case-insensitively), else the citizen is
 *   refused with the condition's `refusal` text (German and English, no personal data).
 */
export const zSelfServiceDef = z.strictObject({
  configurations: z.array(zConfigurationId).min(1).max(20),
  claims: z.record(zCredentialClaimPath, z.union([zLoginClaimPath, z.strictObject({ from: zLoginClaimPath, part: z.enum(['street', 'house_number']) })])),
  rule: z.array(z.strictObject({ claim: zLoginClaimPath, equals: z.string().min(1).max(200), refusal: zI18nText })).max(20).default([]),
});
export type SelfServiceDef = z.output<typeof zSelfServiceDef>;

/** An office (issuer) and the credential configurations it offers (OID4VCI 1.0 §12.2.4). */
export const zOfficeDef = z.strictObject({
  slug: zSlug,
  name: zI18nText,
  /** The department (registry authority) that accredits it. */
  department: zSlug,
  credential_configurations: z
    .array(z.strictObject({ id: zConfigurationId, type: zConfigurationId, format: z.enum(CREDENTIAL_FORMATS), key_attestations_required: zKeyAttestationsRequired.optional() }))
    .min(1)
    .max(50),
  oauth: zOfficeOAuth.optional(),
  /** Online self-service (issue 17): the citizen logs in at the city's identity provider; docs/self-service.md. */
  self_service: zSelfServiceDef.optional(),
});
export type OfficeDef = z.output<typeof zOfficeDef>;

/** DCQL query (OID4VP 1.0 §6), checked in depth by the verifier with the `dcql` library. */
const zDcqlQuery = z.record(z.string(), z.unknown());

/** A relying party (a counter or online service): what the registry lets it ask, and its templates. */
export const zRelyingPartyDef = z.strictObject({
  slug: zSlug,
  name: zI18nText,
  /** Registry `verify` grants: per type, the claims it may ask for and why. */
  may_ask: z.array(z.strictObject({ vct: zVct, claims: z.array(zClaimPath).min(1).max(100), purpose: zI18nText })).min(1).max(50),
  /** Counter templates: what the counter's buttons ask for. Each asks no more than `may_ask` allows. */
  templates: z.array(z.strictObject({ id: zConfigurationId, name: zI18nText, dcql_query: zDcqlQuery })).max(50).default([]),
});
export type RelyingPartyDef = z.output<typeof zRelyingPartyDef>;

export const zDepartmentDef = z.strictObject({
  slug: zSlug,
  name: zI18nText,
  /** Credential types (ids of `credential_types`) it may let its offices issue. */
  accredits: z.array(zConfigurationId).max(100),
});
export type DepartmentDef = z.output<typeof zDepartmentDef>;

/** The whole file. */
export const zCityConfig = z
  .strictObject({
    city: z.strictObject({ slug: zSlug, name: zI18nText }),
    departments: z.array(zDepartmentDef).max(100).default([]),
    credential_types: z.array(zCredentialTypeDef).max(200).default([]),
    offices: z.array(zOfficeDef).max(200).default([]),
    relying_parties: z.array(zRelyingPartyDef).max(500).default([]),
  })
  .superRefine((c, ctx) => {
    const types = new Set(c.credential_types.map((t) => t.id));
    const unique = (what: string, ids: string[]) => {
      const seen = new Set<string>();
      for (const id of ids) {
        if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `${what} ${id} appears twice`, path: [what] });
        seen.add(id);
      }
    };
    unique('credential_types', c.credential_types.map((t) => t.id));
    unique('credential_types', c.credential_types.map((t) => t.vct));
    unique('departments', c.departments.map((d) => d.slug));
    unique('offices', c.offices.map((o) => o.slug));
    unique('relying_parties', c.relying_parties.map((r) => r.slug));
    unique('credential_configurations', c.offices.flatMap((o) => o.credential_configurations.map((x) => x.id)));
    const departments = new Set(c.departments.map((d) => d.slug));
    for (const d of c.departments) for (const t of d.accredits) if (!types.has(t)) ctx.addIssue({ code: 'custom', message: `department ${d.slug} accredits unknown type ${t}`, path: ['departments'] });
    for (const o of c.offices) {
      if (!departments.has(o.department)) ctx.addIssue({ code: 'custom', message: `office ${o.slug} names unknown department ${o.department}`, path: ['offices'] });
      for (const id of o.self_service?.configurations ?? []) {
        const x = o.credential_configurations.find((y) => y.id === id);
        if (!x) ctx.addIssue({ code: 'custom', message: `office ${o.slug} offers unknown configuration ${id} by self-service`, path: ['offices'] });
        const t = x && c.credential_types.find((y) => y.id === x.type);
        // The mapping's targets must be claims of the type (a typo would otherwise refuse every citizen).
        const paths = t ? new Set(claimPathsOf(t).map((p) => p.join('.'))) : undefined;
        for (const target of Object.keys(o.self_service?.claims ?? {})) {
          if (paths && !paths.has(target)) ctx.addIssue({ code: 'custom', message: `office ${o.slug}: self_service maps unknown claim ${target} of type ${t!.id}`, path: ['offices'] });
        }
      }
      for (const x of o.credential_configurations) {
        const t = c.credential_types.find((y) => y.id === x.type);
        if (!t) ctx.addIssue({ code: 'custom', message: `office ${o.slug} offers unknown type ${x.type}`, path: ['offices'] });
        else if (x.format === 'jwt_vc_json' && !t.w3c_type) ctx.addIssue({ code: 'custom', message: `type ${t.id} needs w3c_type to be issued as jwt_vc_json`, path: ['offices'] });
      }
    }
  });
export type CityConfig = z.output<typeof zCityConfig>;
export type CityConfigInput = z.input<typeof zCityConfig>;

/** All claim paths of a type, parents before their members (`anschrift`, `anschrift.strasse`, …). */
export function claimPathsOf(t: Pick<CredentialTypeDef, 'claims'>): string[][] {
  const out: string[][] = [];
  const walk = (claims: ClaimDef[], prefix: string[]) => {
    for (const c of claims) {
      out.push([...prefix, c.name]);
      if (c.type === 'address' || c.type === 'object') walk(c.claims, [...prefix, c.name]);
    }
  };
  walk(t.claims, []);
  return out;
}

/** The definition of one claim by its path, if the type has it. */
export function claimAt(t: Pick<CredentialTypeDef, 'claims'>, path: readonly (string | null)[]): ClaimDef | undefined {
  let list: ClaimDef[] = t.claims;
  let found: ClaimDef | undefined;
  for (const part of path) {
    if (part === null) return undefined;
    found = list.find((c) => c.name === part);
    if (!found) return undefined;
    list = found.type === 'address' || found.type === 'object' ? found.claims : [];
  }
  return found;
}
