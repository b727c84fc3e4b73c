import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/** 0011: one-time `jti` values of DPoP proofs and wallet attestation PoPs, hashed (issuer/store/dpop-jti-store.ts, RFC 9449 §11.1). */
export class Issuer0011DpopJtis1764100001011 implements MigrationInterface {
  name = 'Issuer0011DpopJtis1764100001011';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'issuer_dpop_jtis', columns: [{ name: 'jti_hash', type: 'varchar', length: '64', isPrimary: true }, { name: 'expires_at', type: 'bigint' }] }));
    await q.query('CREATE INDEX issuer_dpop_jtis_expires ON issuer_dpop_jtis (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('issuer_dpop_jtis');
  }
}
