import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/**
 * 0005: status list slots are claimed before a credential is signed. Random indices were checked
 * against committed credentials only, so two requests (or two instances) in flight could draw the
 * same index, and the loser failed at the unique (list, index) constraint after signing. A slot row
 * is inserted once (primary key) and is never reused, also when the issuance that claimed it fails.
 * Existing credentials' slots are copied in.
 */
export class Issuer0005StatusSlots1764100001005 implements MigrationInterface {
  name = 'Issuer0005StatusSlots1764100001005';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'issuer_status_slots',
        columns: [
          { name: 'status_list', type: 'varchar', length: '100', isPrimary: true },
          { name: 'status_idx', type: 'integer', isPrimary: true },
          { name: 'claimed_at', type: 'varchar', length: '40' },
        ],
      }),
    );
    await q.query('INSERT INTO issuer_status_slots (status_list, status_idx, claimed_at) SELECT status_list, status_idx, issued_at FROM issuer_credentials');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('issuer_status_slots');
  }
}
