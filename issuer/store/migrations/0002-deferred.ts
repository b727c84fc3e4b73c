import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/** 0002: deferred issuance (OID4VCI 1.0 §9): the transaction id's hash and the holder keys the wallet proved. */
export class Issuer0002Deferred1764100001002 implements MigrationInterface {
  name = 'Issuer0002Deferred1764100001002';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('issuer_offers', new TableColumn({ name: 'transaction_hash', type: 'varchar', length: '64', isNullable: true, isUnique: true }));
    await q.addColumn('issuer_offers', new TableColumn({ name: 'holder_jwks', type: 'text', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('issuer_offers', 'holder_jwks');
    await q.dropColumn('issuer_offers', 'transaction_hash');
  }
}
