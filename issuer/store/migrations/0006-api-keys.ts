import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/** 0006: API keys per office (core/access): role, scopes, the SHA-256 digest of the secret, never the secret. */
export class Issuer0006ApiKeys1764100001006 implements MigrationInterface {
  name = 'Issuer0006ApiKeys1764100001006';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'issuer_api_keys',
        columns: [v('id', 40, { isPrimary: true }), v('role', 16), { name: 'scopes', type: 'text' }, v('label', 200, { isNullable: true }), v('secret_hash', 64), v('created_at', 40), v('rotated_at', 40, { isNullable: true }), v('revoked_at', 40, { isNullable: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('issuer_api_keys');
  }
}
