import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/** 0003: signed checkpoints of the verifier's audit chain (core/audit/checkpoint.ts): seq and the compact JWS. */
export class Verifier0003AuditCheckpoints1764100002003 implements MigrationInterface {
  name = 'Verifier0003AuditCheckpoints1764100002003';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'verifier_audit_checkpoints', columns: [{ name: 'seq', type: 'integer', isPrimary: true }, { name: 'jws', type: 'text' }] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('verifier_audit_checkpoints');
  }
}
