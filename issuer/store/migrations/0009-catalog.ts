import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/** 0009: the catalogue (issuer/catalog/catalog-table.ts): credential types, offices, and the revision other processes poll. */
export class Issuer0009Catalog1764100001009 implements MigrationInterface {
  name = 'Issuer0009Catalog1764100001009';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'issuer_catalog_types', columns: [v('id', 64, { isPrimary: true }), { name: 'body', type: 'text' }, v('updated_at', 40)] }));
    await q.createTable(new Table({ name: 'issuer_catalog_offices', columns: [v('slug', 64, { isPrimary: true }), { name: 'body', type: 'text' }, v('updated_at', 40)] }));
    await q.createTable(new Table({ name: 'issuer_catalog_revision', columns: [{ name: 'id', type: 'integer', isPrimary: true }, { name: 'revision', type: 'integer' }] }));
    await q.query('INSERT INTO issuer_catalog_revision (id, revision) VALUES (1, 0)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['issuer_catalog_revision', 'issuer_catalog_offices', 'issuer_catalog_types']) await q.dropTable(t);
  }
}
