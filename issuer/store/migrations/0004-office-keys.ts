import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/** 0004: the offices' signing keys over time (rotation, revocation as compromised). */
export class Issuer0004OfficeKeys1764100001004 implements MigrationInterface {
  name = 'Issuer0004OfficeKeys1764100001004';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'issuer_office_keys',
        columns: [v('fragment', 64, { isPrimary: true }), v('office', 64), v('veramo_kid', 200), v('created_at', 40), v('revoked_at', 40, { isNullable: true }), v('reason', 500, { isNullable: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('issuer_office_keys');
  }
}
