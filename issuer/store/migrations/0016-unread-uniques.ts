import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';
import { addColumnUnique, dropColumnUnique } from '../../../core/store/unread-indexes.ts';

/**
 * 0016: indexes no query reads (issue 16, docs/performance.md "Change 10").
 *
 * - `issuer_offers.token_jti`: no longer written since change 7 (the access token was never issued
 *   under it), the column and its UNIQUE index go. Every new offer still wrote an index entry for
 *   its NULL.
 * - `issuer_offers.transaction_hash` (deferred issuance, OID4VCI 1.0 §9): unique only where set, a
 *   partial index. The look-up `WHERE transaction_hash = ?` uses it; offers issued at once, almost
 *   all of them, no longer write an entry for their NULL.
 * - `issuer_audit.hash`: the chain is read in `seq` order and each hash recomputed; nothing looks an
 *   entry up by its hash, a SHA-256 an index cannot make more unique. A random key, so each offer's
 *   audit entry wrote an index page no earlier write had touched.
 */
export class Issuer0016UnreadUniques1764100001016 implements MigrationInterface {
  name = 'Issuer0016UnreadUniques1764100001016';

  async up(q: QueryRunner): Promise<void> {
    // The table as it is now: the query runner's cached copy still has the index 0015 dropped by SQL.
    const offers = await q.getTable('issuer_offers');
    if (offers?.findColumnByName('token_jti')) await q.dropColumn(offers, 'token_jti');
    await dropColumnUnique(q, 'issuer_offers', 'transaction_hash');
    await q.query('CREATE UNIQUE INDEX uq_issuer_offers_transaction_hash ON issuer_offers (transaction_hash) WHERE transaction_hash IS NOT NULL');
    await dropColumnUnique(q, 'issuer_audit', 'hash');
  }

  async down(q: QueryRunner): Promise<void> {
    await addColumnUnique(q, 'issuer_audit', 'hash');
    await q.query('DROP INDEX uq_issuer_offers_transaction_hash');
    await addColumnUnique(q, 'issuer_offers', 'transaction_hash');
    await q.addColumn('issuer_offers', new TableColumn({ name: 'token_jti', type: 'varchar', length: '64', isNullable: true, isUnique: true }));
  }
}
