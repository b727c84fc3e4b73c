import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addColumnUnique, dropColumnUnique } from '../../../core/store/unread-indexes.ts';

/**
 * 0005: drops the UNIQUE index on `registry_audit.hash`, as the issuer and the verifier do for their
 * audit trails (issue 16, docs/performance.md "Change 10"): the chain is read in `seq` order and each
 * hash recomputed; nothing looks an entry up by its hash. The three services' audit tables keep one shape.
 */
export class Registry0005AuditHashIndex1764100000005 implements MigrationInterface {
  name = 'Registry0005AuditHashIndex1764100000005';

  async up(q: QueryRunner): Promise<void> {
    await dropColumnUnique(q, 'registry_audit', 'hash');
  }

  async down(q: QueryRunner): Promise<void> {
    await addColumnUnique(q, 'registry_audit', 'hash');
  }
}
