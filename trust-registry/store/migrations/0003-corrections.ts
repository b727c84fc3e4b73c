import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * 0003: corrections (issue 18). A grant whose validity starts, or a status change that takes effect,
 * before it is recorded is allowed only as an explicit correction by an administrator; its reason is
 * kept here next to the row, and the audit entry of the write says the same. NULL: an ordinary write.
 */
export class Registry0003Corrections1764100000003 implements MigrationInterface {
  name = 'Registry0003Corrections1764100000003';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('registry_grants', new TableColumn({ name: 'correction', type: 'varchar', length: '500', isNullable: true }));
    await q.addColumn('registry_grant_status', new TableColumn({ name: 'correction', type: 'varchar', length: '500', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('registry_grant_status', 'correction');
    await q.dropColumn('registry_grants', 'correction');
  }
}
