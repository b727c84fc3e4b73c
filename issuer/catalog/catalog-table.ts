import { EntitySchema } from 'typeorm';

/**
 * The issuer's catalogue (issue 15, migration 0009): one row per credential type and per office,
 * each holding its definition as JSON text (core/catalog/model.ts; validated again on every read,
 * nothing is trusted because it was stored), and one revision row that every change increments in
 * the change's transaction. Other processes poll the revision (one cheap query) and reload.
 */

export interface CatalogTypeRow {
  id: string;
  /** zCredentialTypeDef as JSON. */
  body: string;
  updated_at: string;
}

export interface CatalogOfficeRow {
  slug: string;
  /** zOfficeDef as JSON. */
  body: string;
  updated_at: string;
}

export interface CatalogRevisionRow {
  id: number;
  revision: number;
}

const str = (length: number) => ({ type: 'varchar' as const, length });

export const CatalogTypeTable = new EntitySchema<CatalogTypeRow>({
  name: 'issuer_catalog_type',
  tableName: 'issuer_catalog_types',
  columns: { id: { ...str(64), primary: true }, body: { type: 'text' }, updated_at: str(40) },
});

export const CatalogOfficeTable = new EntitySchema<CatalogOfficeRow>({
  name: 'issuer_catalog_office',
  tableName: 'issuer_catalog_offices',
  columns: { slug: { ...str(64), primary: true }, body: { type: 'text' }, updated_at: str(40) },
});

/** A single row (id 1). */
export const CatalogRevisionTable = new EntitySchema<CatalogRevisionRow>({
  name: 'issuer_catalog_revision',
  tableName: 'issuer_catalog_revision',
  columns: { id: { type: 'integer', primary: true }, revision: { type: 'integer' } },
});

export const catalogTables = [CatalogTypeTable, CatalogOfficeTable, CatalogRevisionTable];
