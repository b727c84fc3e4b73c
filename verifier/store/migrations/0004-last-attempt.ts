import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * 0004: the last answer to a request that did not verify (a wallet error response or a presentation
 * that failed), kept as fixed codes only (verifier/last-attempt.ts). It never ends a request: only
 * a verifying response does. No wallet text, no claim, no raw presentation is stored.
 */
export class Verifier0004LastAttempt1764100002004 implements MigrationInterface {
  name = 'Verifier0004LastAttempt1764100002004';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('verifier_requests', new TableColumn({ name: 'last_attempt', type: 'varchar', length: '400', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('verifier_requests', 'last_attempt');
  }
}
