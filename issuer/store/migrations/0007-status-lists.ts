import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/**
 * 0007: status lists that grow in number, and slots that are given back.
 *
 * - `issuer_status_lists`: the lists of each office and family (`tsl` Token Status List, `bsl` W3C
 *   Bitstring Status List), numbered from 1, each with the size it was opened with. When the newest
 *   list of an office is full, the next one is opened (issuer/allocate-status-slots.ts).
 * - `issuer_status_slots.credential_id`: null while a slot is reserved for a credential being signed,
 *   set in the transaction that records the credential. A reservation whose issuance fails is deleted
 *   (the credential never left the issuer, so its index was never seen); one left behind by a crash
 *   is swept after a while. The partial index keeps that sweep to the reservations.
 * - Slots claimed before this migration by issuances that failed (never released) are given back;
 *   slots of recorded credentials get their credential's id.
 */
export class Issuer0007StatusLists1764100001007 implements MigrationInterface {
  name = 'Issuer0007StatusLists1764100001007';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'issuer_status_lists',
        columns: [
          { name: 'status_list', type: 'varchar', length: '100', isPrimary: true },
          { name: 'office', type: 'varchar', length: '64' },
          { name: 'family', type: 'varchar', length: '8' },
          { name: 'number', type: 'integer' },
          { name: 'size', type: 'integer' },
          { name: 'created_at', type: 'varchar', length: '40' },
        ],
        uniques: [{ name: 'uq_issuer_status_lists_number', columnNames: ['office', 'family', 'number'] }],
      }),
    );
    await q.query('ALTER TABLE issuer_status_slots ADD COLUMN credential_id varchar(36)');
    await q.query(
      'UPDATE issuer_status_slots SET credential_id = (SELECT c.id FROM issuer_credentials c WHERE c.status_list = issuer_status_slots.status_list AND c.status_idx = issuer_status_slots.status_idx)',
    );
    await q.query('DELETE FROM issuer_status_slots WHERE credential_id IS NULL');
    await q.query('CREATE INDEX idx_issuer_status_slots_reserved ON issuer_status_slots (claimed_at) WHERE credential_id IS NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX idx_issuer_status_slots_reserved');
    await q.query('ALTER TABLE issuer_status_slots DROP COLUMN credential_id');
    await q.dropTable('issuer_status_lists');
  }
}
