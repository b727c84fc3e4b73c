import { didWebFor } from '../did/did-web.ts';
import type { ClaimPath, CredentialType, I18nText } from '../trust/model.ts';

/**
 * Demo Leipzig (docs/contract.md, Demo Leipzig): the offices, relying parties and credential types every
 * service seeds. Only organisations appear here, never citizens.
 */

export const VCT = {
  meldebescheinigung: 'urn:id-ideal:vct:meldebescheinigung',
  leipzig_pass: 'urn:id-ideal:vct:leipzig-pass',
  bibliotheksausweis: 'urn:id-ideal:vct:bibliotheksausweis',
  geburtsurkunde: 'urn:id-ideal:vct:geburtsurkunde',
} as const;

export const CREDENTIAL_TYPES: CredentialType[] = [
  { vct: VCT.meldebescheinigung, name: { de: 'Meldebescheinigung', en: 'Certificate of registration' }, issued_before_suspension: 'reject' },
  { vct: VCT.leipzig_pass, name: { de: 'Leipzig-Pass', en: 'Leipzig-Pass (discount entitlement)' }, issued_before_suspension: 'reject' },
  { vct: VCT.bibliotheksausweis, name: { de: 'Bibliotheksausweis', en: 'Library card' }, issued_before_suspension: 'accept', w3c_types: ['Bibliotheksausweis'] },
  { vct: VCT.geburtsurkunde, name: { de: 'Geburtsurkunde', en: 'Birth certificate' }, issued_before_suspension: 'accept' },
];

export interface Department {
  slug: string;
  name: I18nText;
  /** Types this department may let its offices issue. */
  accredits: string[];
}

/** Root authority and departments: hosted by the registry (it holds their keys in demo mode). */
export const ROOT_AUTHORITY = { slug: 'leipzig', name: { de: 'Stadt Leipzig', en: 'City of Leipzig' } };
export const DEPARTMENTS: Department[] = [
  { slug: 'dezernat-allgemeine-verwaltung', name: { de: 'Dezernat Allgemeine Verwaltung', en: 'Department of General Administration' }, accredits: [VCT.meldebescheinigung, VCT.geburtsurkunde] },
  { slug: 'dezernat-soziales', name: { de: 'Dezernat Soziales, Gesundheit und Vielfalt', en: 'Department of Social Affairs, Health and Diversity' }, accredits: [VCT.leipzig_pass] },
  { slug: 'dezernat-kultur', name: { de: 'Dezernat Kultur', en: 'Department of Culture' }, accredits: [VCT.bibliotheksausweis] },
];

export interface Office {
  slug: string;
  name: I18nText;
  department: string;
  issues: string[];
}

export const OFFICES: Office[] = [
  { slug: 'buergerbuero', name: { de: 'Bürgerbüro Leipzig', en: 'Leipzig Citizens’ Office' }, department: 'dezernat-allgemeine-verwaltung', issues: [VCT.meldebescheinigung] },
  { slug: 'sozialamt', name: { de: 'Sozialamt Leipzig', en: 'Leipzig Social Welfare Office' }, department: 'dezernat-soziales', issues: [VCT.leipzig_pass] },
  { slug: 'bibliothek', name: { de: 'Leipziger Städtische Bibliotheken', en: 'Leipzig Municipal Libraries' }, department: 'dezernat-kultur', issues: [VCT.bibliotheksausweis] },
  { slug: 'standesamt', name: { de: 'Standesamt Leipzig', en: 'Leipzig Civil Registry Office' }, department: 'dezernat-allgemeine-verwaltung', issues: [VCT.geburtsurkunde] },
];

export interface RelyingParty {
  slug: string;
  name: I18nText;
  may_ask: { vct: string; claims: ClaimPath[]; purpose: I18nText }[];
}

const PERSON: ClaimPath[] = [['vorname'], ['familienname'], ['geburtsdatum']];

export const RELYING_PARTIES: RelyingParty[] = [
  {
    slug: 'bibliothek',
    name: { de: 'Leipziger Städtische Bibliotheken – Ausleihtheke', en: 'Leipzig Municipal Libraries – lending counter' },
    may_ask: [
      {
        vct: VCT.meldebescheinigung,
        claims: [...PERSON, ['anschrift'], ['wohnsitz_leipzig'], ['alter_ueber_18']],
        purpose: { de: 'Anmeldung für einen Bibliotheksausweis', en: 'Registration for a library card' },
      },
      {
        vct: VCT.leipzig_pass,
        claims: [['ermaessigungsberechtigt'], ['gueltig_bis']],
        purpose: { de: 'Ermäßigte Gebühr für den Bibliotheksausweis', en: 'Reduced fee for the library card' },
      },
      {
        vct: VCT.bibliotheksausweis,
        claims: [['ausweisnummer'], ['nutzergruppe'], ['gueltig_bis'], ...PERSON],
        purpose: { de: 'Ausleihe und Rückgabe von Medien', en: 'Lending and returning media' },
      },
    ],
  },
  {
    slug: 'buergerbuero',
    name: { de: 'Bürgerbüro Leipzig – Schalter', en: 'Leipzig Citizens’ Office – counter' },
    may_ask: [
      {
        vct: VCT.meldebescheinigung,
        claims: [...PERSON, ['anschrift'], ['wohnsitz_leipzig'], ['alter_ueber_18']],
        purpose: { de: 'Melderechtliche Vorgänge', en: 'Residence registration matters' },
      },
      {
        vct: VCT.geburtsurkunde,
        claims: [...PERSON, ['geburtsname'], ['geburtsort'], ['registernummer'], ['standesamt']],
        purpose: { de: 'Nachweis der Geburt', en: 'Proof of birth' },
      },
    ],
  },
];

export const officeDid = (issuerUrl: string, slug: string) => didWebFor(issuerUrl, 'offices', slug);
export const relyingPartyDid = (verifierUrl: string, slug: string) => didWebFor(verifierUrl, 'verifiers', slug);
export const authorityDid = (registryUrl: string, slug: string) => didWebFor(registryUrl, 'authorities', slug);

/** German and English names of the demo claims (issuer metadata, desk and counter pages). */
export const CLAIM_LABELS: Record<string, I18nText> = {
  vorname: { de: 'Vorname', en: 'Given name' },
  familienname: { de: 'Familienname', en: 'Family name' },
  geburtsdatum: { de: 'Geburtsdatum', en: 'Date of birth' },
  anschrift: { de: 'Anschrift', en: 'Address' },
  'anschrift.strasse': { de: 'Straße', en: 'Street' },
  'anschrift.hausnummer': { de: 'Hausnummer', en: 'House number' },
  'anschrift.postleitzahl': { de: 'Postleitzahl', en: 'Postcode' },
  'anschrift.ort': { de: 'Ort', en: 'Town' },
  wohnsitz_leipzig: { de: 'Wohnsitz in Leipzig', en: 'Resident of Leipzig' },
  alter_ueber_18: { de: 'Über 18 Jahre', en: 'Over 18' },
  ermaessigungsberechtigt: { de: 'Ermäßigungsberechtigt', en: 'Entitled to discounts' },
  gueltig_bis: { de: 'Gültig bis', en: 'Valid until' },
  passnummer: { de: 'Passnummer', en: 'Pass number' },
  ausweisnummer: { de: 'Ausweisnummer', en: 'Card number' },
  nutzergruppe: { de: 'Nutzergruppe', en: 'User group' },
  geburtsname: { de: 'Geburtsname', en: 'Birth name' },
  geburtsort: { de: 'Geburtsort', en: 'Place of birth' },
  registernummer: { de: 'Registernummer', en: 'Register number' },
  standesamt: { de: 'Standesamt', en: 'Registry office' },
};

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
