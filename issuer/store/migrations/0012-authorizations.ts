import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/**
 * 0012: authorization code flow sessions (issue 17: PAR, PKCE, login at the city IdP;
 * issuer/oauth/authorization-store.ts). One row per pushed authorization request, through its
 * phases; only hashes of the request_uri, the login state, the browser cookie and the code are kept.
 */
export class Issuer0012Authorizations1764100001012 implements MigrationInterface {
  name = 'Issuer0012Authorizations1764100001012';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'issuer_authorizations',
        columns: [
          v('id', 36, { isPrimary: true }),
          v('office', 64),
          v('phase', 16),
          v('request_uri_hash', 64, { isUnique: true }),
          v('client_id', 200),
          { name: 'redirect_uri', type: 'text' },
          v('code_challenge', 128),
          { name: 'wallet_state', type: 'text', isNullable: true },
          v('configuration_id', 100),
          v('dpop_jkt', 64, { isNullable: true }),
          v('browser_hash', 64, { isNullable: true }),
          v('login_state_hash', 64, { isNullable: true, isUnique: true }),
          { name: 'login_sealed', type: 'text', isNullable: true },
          v('code_hash', 64, { isNullable: true, isUnique: true }),
          v('offer_id', 36, { isNullable: true }),
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('issuer_authorizations', new TableIndex({ name: 'idx_issuer_authorizations_expires', columnNames: ['expires_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('issuer_authorizations');
  }
}
