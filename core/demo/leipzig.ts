import { fileURLToPath } from 'node:url';
import { readCityConfig } from '../catalog/load-file.ts';
import type { CityConfig } from '../catalog/model.ts';
import { claimPathsOf, claimAt } from '../catalog/model.ts';
import { didWebFor } from '../did/did-web.ts';
import type { ClaimPath, CredentialType, I18nText } from '../trust/model.ts';

/**
 * Demo Leipzig (docs/contract.md, Demo Leipzig) is seed data: the city configuration in
 * `leipzig.city.yaml`, applied by each service on first start in demo mode, like any city's file
 * through `npm run config -- apply`. The exports below are views of that file for the seeds and the
 * tests. Only organisations appear here, never citizens.
 */
export const LEIPZIG_CONFIG_FILE = fileURLToPath(new URL('./leipzig.city.yaml', import.meta.url));
export const LEIPZIG: CityConfig = readCityConfig(LEIPZIG_CONFIG_FILE);

const vctOf = (id: string) => LEIPZIG.credential_types.find((t) => t.id === id)!.vct;

export const VCT = {
  meldebescheinigung: vctOf('meldebescheinigung'),
  leipzig_pass: vctOf('leipzig_pass'),
  bibliotheksausweis: vctOf('bibliotheksausweis'),
  geburtsurkunde: vctOf('geburtsurkunde'),
} as const;

/** The registry's view of the types. */
export const CREDENTIAL_TYPES: CredentialType[] = LEIPZIG.credential_types.map((t) => ({
  vct: t.vct,
  name: t.name,
  issued_before_suspension: t.issued_before_suspension,
  ...(t.w3c_type ? { w3c_types: [t.w3c_type] } : {}),
}));

export interface Department {
  slug: string;
  name: I18nText;
  /** Types (vct) this department may let its offices issue. */
  accredits: string[];
}

/** Root authority and departments: hosted by the registry (it holds their keys in demo mode). */
export const ROOT_AUTHORITY = { slug: LEIPZIG.city.slug, name: LEIPZIG.city.name };
export const DEPARTMENTS: Department[] = LEIPZIG.departments.map((d) => ({ slug: d.slug, name: d.name, accredits: d.accredits.map(vctOf) }));

export interface Office {
  slug: string;
  name: I18nText;
  department: string;
  issues: string[];
}

export const OFFICES: Office[] = LEIPZIG.offices.map((o) => ({
  slug: o.slug,
  name: o.name,
  department: o.department,
  issues: [...new Set(o.credential_configurations.map((c) => vctOf(c.type)))],
}));

export interface RelyingParty {
  slug: string;
  name: I18nText;
  may_ask: { vct: string; claims: ClaimPath[]; purpose: I18nText }[];
}

export const RELYING_PARTIES: RelyingParty[] = LEIPZIG.relying_parties.map((r) => ({ slug: r.slug, name: r.name, may_ask: r.may_ask }));

export const officeDid = (issuerUrl: string, slug: string) => didWebFor(issuerUrl, 'offices', slug);
export const relyingPartyDid = (verifierUrl: string, slug: string) => didWebFor(verifierUrl, 'verifiers', slug);
export const authorityDid = (registryUrl: string, slug: string) => didWebFor(registryUrl, 'authorities', slug);

/** German and English names of the demo claims by dotted path (pages and tests). */
export const CLAIM_LABELS: Record<string, I18nText> = Object.fromEntries(
  LEIPZIG.credential_types.flatMap((t) => claimPathsOf(t).map((p) => [p.join('.'), claimAt(t, p)!.label] as const)),
);

/**
 * The W3C conformance office (opt-in: ISSUER_CONFORMANCE_OFFICE=1, demo mode only; the issuer and the
 * registry read the same variable, core/config/env.ts conformanceOfficeFromEnv). It issues over the
 * W3C VC-API only, one credential type whose claims are open — any credentialSubject members, still
 * under the data model's rules and the request size limit — so that the W3C and CCG test suites
 * (VC-API issuer and verifier, VCDM 2.0, Bitstring Status List) can run their positive tests with
 * their own credentials. It has no OID4VCI configuration and is never part of the normal demo.
 */
const CONFORMANCE_VCT = 'urn:id-ideal:vct:konformitaetsnachweis';
const CONFORMANCE_W3C_TYPE = 'KonformitaetsNachweis';
export const CONFORMANCE = {
  vct: CONFORMANCE_VCT,
  /** The W3C `type` the office adds to what it signs, so verifiers map it to the registry type. */
  w3cType: CONFORMANCE_W3C_TYPE,
  /** Days a conformance credential is valid. */
  validityDays: 30,
  credentialType: { vct: CONFORMANCE_VCT, name: { de: 'Konformitätsnachweis (Testnachweis)', en: 'Conformance test credential' }, issued_before_suspension: 'accept', w3c_types: [CONFORMANCE_W3C_TYPE] } satisfies CredentialType,
  office: { slug: 'konformitaet', name: { de: 'Konformitätsprüfstelle (Test)', en: 'Conformance test office' }, department: 'dezernat-allgemeine-verwaltung', issues: [CONFORMANCE_VCT] } satisfies Office,
};
