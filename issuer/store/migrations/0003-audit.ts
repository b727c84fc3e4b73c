import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/** 0003: the issuer's hash-chained audit trail of admin actions (same chain rules as the registry's). */
export class Issuer0003Audit1764100001003 implements MigrationInterface {
  name = 'Issuer0003Audit1764100001003';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'issuer_audit',
        columns: [{ name: 'seq', type: 'integer', isPrimary: true }, v('at', 40), v('actor', 200), v('action', 64), v('target', 512), { name: 'details', type: 'text' }, v('prev_hash', 64), v('hash', 64, { isUnique: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('issuer_audit');
  }
}
