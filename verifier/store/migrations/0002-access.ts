import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/**
 * 0002: API keys per relying party (core/access; the SHA-256 digest of the secret, never the secret)
 * and the verifier's hash-chained audit trail of admin actions (same chain rules as the registry's).
 */
export class Verifier0002Access1764100002002 implements MigrationInterface {
  name = 'Verifier0002Access1764100002002';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'verifier_api_keys',
        columns: [v('id', 40, { isPrimary: true }), v('role', 16), { name: 'scopes', type: 'text' }, v('label', 200, { isNullable: true }), v('secret_hash', 64), v('created_at', 40), v('rotated_at', 40, { isNullable: true }), v('revoked_at', 40, { isNullable: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'verifier_audit',
        columns: [{ name: 'seq', type: 'integer', isPrimary: true }, v('at', 40), v('actor', 200), v('action', 64), v('target', 512), { name: 'details', type: 'text' }, v('prev_hash', 64), v('hash', 64, { isUnique: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('verifier_audit');
    await q.dropTable('verifier_api_keys');
  }
}
