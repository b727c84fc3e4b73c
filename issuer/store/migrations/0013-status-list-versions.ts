import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/**
 * 0013: a version per status list, raised in the transaction of every status change (issue 16).
 * Services keep the signed list in memory while its version is unchanged instead of reading and
 * signing the whole list on every GET; every process and instance reads the version, so a change
 * shows at once everywhere.
 */
export class Issuer0013StatusListVersions1764100001013 implements MigrationInterface {
  name = 'Issuer0013StatusListVersions1764100001013';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'issuer_status_list_versions', columns: [{ name: 'status_list', type: 'varchar', length: '100', isPrimary: true }, { name: 'version', type: 'integer', default: 0 }] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('issuer_status_list_versions');
  }
}
