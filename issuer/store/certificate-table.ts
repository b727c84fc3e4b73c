import { EntitySchema } from 'typeorm';

/**
 * An office signing key's certificate from the city CA (migration 0010; issuer/office-certificates.ts).
 * One per key: keyed by the key's fragment (its JWK thumbprint, as in issuer_office_keys), so a
 * rotation brings a new row and the old key keeps its certificate until it expires.
 */
export interface OfficeCertificateRow {
  fragment: string;
  office: string;
  /** RFC 7515 §4.1.6 `x5c` as JSON: base64 DER, leaf first, root excluded. */
  x5c: string;
  /** RFC 3339 notAfter of the leaf. */
  not_after: string;
  created_at: string;
}

export const OfficeCertificateTable = new EntitySchema<OfficeCertificateRow>({
  name: 'issuer_office_certificate',
  tableName: 'issuer_office_certificates',
  columns: {
    fragment: { type: 'varchar', length: 64, primary: true },
    office: { type: 'varchar', length: 64 },
    x5c: { type: 'text' },
    not_after: { type: 'varchar', length: 40 },
    created_at: { type: 'varchar', length: 40 },
  },
});
