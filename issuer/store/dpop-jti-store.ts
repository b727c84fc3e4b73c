import type { DataSource } from 'typeorm';
import { withDb } from '../../core/store/data-source.ts';
import { sqlRun } from '../../core/store/prepared.ts';

/**
 * One-time identifiers the issuer has seen (migration 0011, table `issuer_dpop_jtis`): DPoP proof
 * `jti` (RFC 9449 §11.1) and wallet attestation PoP `jti`, each stored as a SHA-256 hash, never in
 * clear. The primary key decides: an INSERT that changes no row is a replay, in every worker and
 * instance sharing the database (SQLite and PostgreSQL both take `ON CONFLICT DO NOTHING`). A row
 * lives as long as a proof with that `jti` could be accepted; expired rows are purged on the way.
 */
export class DpopJtiStore {
  private lastPurge = 0;

  constructor(private readonly ds: DataSource) {}

  /** True for the first use of `hash` (hex SHA-256) until `expiresAt` (ms); false for a replay. */
  async use(hash: string, expiresAt: number, now: number): Promise<boolean> {
    if (now - this.lastPurge > 60_000) {
      this.lastPurge = now;
      await this.purge(now).catch(() => undefined);
    }
    return withDb(this.ds, async (m) => (await sqlRun(m, 'INSERT INTO issuer_dpop_jtis (jti_hash, expires_at) VALUES (?, ?) ON CONFLICT (jti_hash) DO NOTHING', [hash, expiresAt])) === 1);
  }

  purge(now: number): Promise<void> {
    return withDb(this.ds, async (m) => void (await sqlRun(m, 'DELETE FROM issuer_dpop_jtis WHERE expires_at <= ?', [now])));
  }
}

const stores = new WeakMap<DataSource, DpopJtiStore>();
/** The store of a data source, one per process (its purge timer state is per process too). */
export function dpopJtiStore(ds: DataSource): DpopJtiStore {
  let s = stores.get(ds);
  if (!s) stores.set(ds, (s = new DpopJtiStore(ds)));
  return s;
}
