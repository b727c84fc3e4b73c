import { EntitySchema } from 'typeorm';

/**
 * The verifier's catalogue (issue 15): credential type display definitions and relying parties with
 * their templates, one row per item, the body as JSON (validated again on every read: nothing is
 * trusted because it was stored), and a single revision row other processes poll.
 */
export interface CatalogItemRow {
  /** Type id or relying-party slug. */
  key: string;
  /** The definition as canonical JSON (RFC 8785), so "unchanged" is a string comparison. */
  body: string;
  updated_at: string;
}

export interface CatalogRevisionRow {
  id: number;
  revision: number;
}

const item = (name: string, tableName: string) =>
  new EntitySchema<CatalogItemRow>({
    name,
    tableName,
    columns: {
      key: { type: 'varchar', length: 64, primary: true },
      body: { type: 'text' },
      updated_at: { type: 'varchar', length: 40 },
    },
  });

export const CatalogTypeTable = item('verifier_catalog_type', 'verifier_catalog_types');
export const CatalogRelyingPartyTable = item('verifier_catalog_rp', 'verifier_catalog_relying_parties');

export const CatalogRevisionTable = new EntitySchema<CatalogRevisionRow>({
  name: 'verifier_catalog_revision',
  tableName: 'verifier_catalog_revision',
  columns: {
    id: { type: 'integer', primary: true },
    revision: { type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } },
  },
});

export const catalogTables = [CatalogTypeTable, CatalogRelyingPartyTable, CatalogRevisionTable];
