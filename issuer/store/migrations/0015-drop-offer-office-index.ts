import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * 0015: drops `idx_issuer_offers_office` (office, created_at). No query reads offers by office; every
 * look-up goes by the offer id, the code hash or the transaction hash, each with a unique index.
 *
 * It did harm on PostgreSQL (issue 16, docs/performance.md "Change 8"): planned while the table was
 * small or had no statistics yet, `WHERE office = ? AND id = ?` and the code redemption chose this
 * index, and named prepared statements keep that plan until the table is next analysed, so each
 * look-up walked every offer of the office (0.45 ms against 0.06 ms per SELECT, growing with the
 * table). On SQLite each offer written touched its pages for nothing.
 */
export class Issuer0015DropOfferOfficeIndex1764100001015 implements MigrationInterface {
  name = 'Issuer0015DropOfferOfficeIndex1764100001015';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS idx_issuer_offers_office');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX idx_issuer_offers_office ON issuer_offers (office, created_at)');
  }
}
