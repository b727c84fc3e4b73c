import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/** 0008: signed checkpoints of the issuer's audit chain (core/audit/checkpoint.ts): seq and the compact JWS. */
export class Issuer0008AuditCheckpoints1764100001008 implements MigrationInterface {
  name = 'Issuer0008AuditCheckpoints1764100001008';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'issuer_audit_checkpoints', columns: [{ name: 'seq', type: 'integer', isPrimary: true }, { name: 'jws', type: 'text' }] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('issuer_audit_checkpoints');
  }
}
