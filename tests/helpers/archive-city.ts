import { stringify } from 'yaml';
import type { CityConfig, CredentialTypeDef, DepartmentDef, OfficeDef, RelyingPartyDef } from '../../core/catalog/model.ts';
import { LEIPZIG } from '../../core/demo/leipzig.ts';

/**
 * Demo Leipzig plus a city archive (issue 15): a new department, a new document type (an enum, a
 * date, a derived boolean), a new office `stadtarchiv` issuing it and a new counter
 * `stadtarchiv-lesesaal` with a template asking for it. Only organisations, never citizens.
 */
export const ARCHIVAUSWEIS: CredentialTypeDef = {
  id: 'archivausweis',
  vct: 'urn:id-ideal:vct:archivausweis',
  name: { de: 'Archivausweis', en: 'Archive reader card' },
  validity_days: 365,
  issued_before_suspension: 'reject',
  background_color: '#5a3e1b',
  text_color: '#ffffff',
  claims: [
    { name: 'vorname', type: 'string', max_length: 100, mandatory: true, sd: 'always', label: { de: 'Vorname', en: 'Given name' } },
    { name: 'familienname', type: 'string', max_length: 100, mandatory: true, sd: 'always', label: { de: 'Familienname', en: 'Family name' } },
    { name: 'geburtsdatum', type: 'date', mandatory: true, sd: 'always', label: { de: 'Geburtsdatum', en: 'Date of birth' } },
    {
      name: 'lesesaal',
      type: 'enum',
      mandatory: true,
      sd: 'always',
      label: { de: 'Lesesaal', en: 'Reading room' },
      values: [
        { value: 'allgemein', label: { de: 'Allgemein', en: 'General' } },
        { value: 'sondersammlung', label: { de: 'Sondersammlungen', en: 'Special collections' } },
      ],
    },
    { name: 'volljaehrig', type: 'boolean', mandatory: true, sd: 'always', label: { de: 'Volljährig', en: 'Of age' }, derived: { rule: 'age_at_least', from: 'geburtsdatum', years: 18 } },
  ],
};

export const ARCHIV_DEPARTMENT: DepartmentDef = { slug: 'dezernat-archiv', name: { de: 'Dezernat Archiv und Geschichte', en: 'Department of Archives and History' }, accredits: ['archivausweis'] };

export const STADTARCHIV: OfficeDef = {
  slug: 'stadtarchiv',
  name: { de: 'Stadtarchiv Leipzig', en: 'Leipzig City Archive' },
  department: 'dezernat-archiv',
  credential_configurations: [{ id: 'archivausweis_sd_jwt', type: 'archivausweis', format: 'dc+sd-jwt' }],
};

export const LESESAAL: RelyingPartyDef = {
  slug: 'stadtarchiv-lesesaal',
  name: { de: 'Stadtarchiv Leipzig – Lesesaal', en: 'Leipzig City Archive – reading room' },
  may_ask: [{ vct: ARCHIVAUSWEIS.vct, claims: [['vorname'], ['familienname'], ['lesesaal'], ['volljaehrig']], purpose: { de: 'Zutritt zum Lesesaal', en: 'Access to the reading room' } }],
  templates: [
    {
      id: 'archivausweis',
      name: { de: 'Archivausweis prüfen', en: 'Check archive reader card' },
      dcql_query: {
        credentials: [{ id: 'archivausweis', format: 'dc+sd-jwt', meta: { vct_values: [ARCHIVAUSWEIS.vct] }, claims: [{ path: ['vorname'] }, { path: ['familienname'] }, { path: ['lesesaal'] }, { path: ['volljaehrig'] }] }],
      },
    },
  ],
};

export const ARCHIVE_CITY: CityConfig = {
  ...LEIPZIG,
  departments: [...LEIPZIG.departments, ARCHIV_DEPARTMENT],
  credential_types: [...LEIPZIG.credential_types, ARCHIVAUSWEIS],
  offices: [...LEIPZIG.offices, STADTARCHIV],
  relying_parties: [...LEIPZIG.relying_parties, LESESAAL],
};

/** The same as a YAML file, as a city would write it. */
export const archiveCityYaml = (config: CityConfig = ARCHIVE_CITY): string => stringify(config, { lineWidth: 0 });
