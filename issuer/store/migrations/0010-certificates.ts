import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/** 0010: certificates of the offices' signing keys from the city CA (HAIP `x5c`; issuer/store/certificate-table.ts). */
export class Issuer0010Certificates1764100001010 implements MigrationInterface {
  name = 'Issuer0010Certificates1764100001010';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'issuer_office_certificates', columns: [v('fragment', 64, { isPrimary: true }), v('office', 64), { name: 'x5c', type: 'text' }, v('not_after', 40), v('created_at', 40)] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('issuer_office_certificates');
  }
}
