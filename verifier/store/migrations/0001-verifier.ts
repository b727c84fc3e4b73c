import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { Verifier0002Access1764100002002 } from './0002-access.ts';
import { Verifier0003AuditCheckpoints1764100002003 } from './0003-audit-checkpoints.ts';
import { Verifier0004LastAttempt1764100002004 } from './0004-last-attempt.ts';
import { Verifier0005Catalog1764100002005 } from './0005-catalog.ts';
import { Verifier0006UnreadUniques1764100002006 } from './0006-unread-uniques.ts';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/**
 * 0001: presentation requests and their verdicts. No raw presentation is ever stored: a verdict
 * holds the disclosed claims the query asked for, sealed, until it expires.
 */
export class Verifier0001Init1764100002001 implements MigrationInterface {
  name = 'Verifier0001Init1764100002001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'verifier_requests',
        columns: [
          v('id', 36, { isPrimary: true }),
          v('rp', 64),
          v('nonce', 64, { isUnique: true }),
          v('state', 64, { isUnique: true }),
          { name: 'dcql_query', type: 'text' },
          v('response_mode', 32),
          { name: 'enc_key_sealed', type: 'text', isNullable: true },
          v('status', 16),
          { name: 'result_sealed', type: 'text', isNullable: true },
          v('created_at', 40),
          { name: 'expires_at', type: 'bigint' },
          { name: 'result_expires_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await q.createIndex('verifier_requests', new TableIndex({ name: 'idx_verifier_requests_expiry', columnNames: ['result_expires_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('verifier_requests');
  }
}

export const verifierMigrations = [Verifier0001Init1764100002001, Verifier0002Access1764100002002, Verifier0003AuditCheckpoints1764100002003, Verifier0004LastAttempt1764100002004, Verifier0005Catalog1764100002005, Verifier0006UnreadUniques1764100002006];
