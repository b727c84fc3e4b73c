import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addColumnUnique, dropColumnUnique } from '../../../core/store/unread-indexes.ts';

/**
 * 0006: drops two UNIQUE constraints no query reads (issue 16, docs/performance.md "Change 10").
 *
 * - `verifier_requests.nonce`: a request is found by its id or its `state`, never by its nonce; the
 *   nonce is checked against the request found. It is 24 random bytes, unique without an index.
 * - `verifier_audit.hash`: the chain is read in `seq` order and each hash recomputed; nothing looks
 *   an entry up by its hash, a SHA-256 that an index cannot make more unique.
 *
 * Both were random keys, so every request and every audit entry wrote a page of each index that no
 * earlier write had touched: about 3 of 13 WAL pages per verification, 20 % of its SQLite time.
 */
export class Verifier0006UnreadUniques1764100002006 implements MigrationInterface {
  name = 'Verifier0006UnreadUniques1764100002006';

  async up(q: QueryRunner): Promise<void> {
    await dropColumnUnique(q, 'verifier_requests', 'nonce');
    await dropColumnUnique(q, 'verifier_audit', 'hash');
  }

  async down(q: QueryRunner): Promise<void> {
    await addColumnUnique(q, 'verifier_audit', 'hash');
    await addColumnUnique(q, 'verifier_requests', 'nonce');
  }
}
