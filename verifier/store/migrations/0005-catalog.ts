import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/**
 * 0005: the catalogue (issue 15, verifier/catalog/tables.ts): credential type display definitions,
 * relying parties with their DCQL templates, and the revision other processes poll. No personal
 * data: organisations and configuration only.
 */
export class Verifier0005Catalog1764100002005 implements MigrationInterface {
  name = 'Verifier0005Catalog1764100002005';

  async up(q: QueryRunner): Promise<void> {
    for (const name of ['verifier_catalog_types', 'verifier_catalog_relying_parties']) {
      await q.createTable(new Table({ name, columns: [v('key', 64, { isPrimary: true }), { name: 'body', type: 'text' }, v('updated_at', 40)] }));
    }
    await q.createTable(new Table({ name: 'verifier_catalog_revision', columns: [{ name: 'id', type: 'integer', isPrimary: true }, { name: 'revision', type: 'bigint' }] }));
    await q.query(`INSERT INTO verifier_catalog_revision (id, revision) VALUES (1, 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('verifier_catalog_revision');
    await q.dropTable('verifier_catalog_relying_parties');
    await q.dropTable('verifier_catalog_types');
  }
}
