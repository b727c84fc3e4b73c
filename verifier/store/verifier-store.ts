import type { DataSource } from 'typeorm';
import { withDb } from '../../core/store/data-source.ts';
import { RequestTable, type RequestRow, type RequestStatus } from './schema.ts';

/** The verifier's storage port. A response is taken exactly once by a conditional update. */
export class VerifierStore {
  constructor(readonly ds: DataSource) {}

  insertRequest(row: RequestRow): Promise<void> {
    return withDb(this.ds, async (m) => void (await m.insert(RequestTable, row)));
  }

  getRequest(rp: string, id: string): Promise<RequestRow | null> {
    return withDb(this.ds, (m) => m.findOneBy(RequestTable, { rp, id }));
  }

  findByState(state: string): Promise<RequestRow | null> {
    return withDb(this.ds, (m) => m.findOneBy(RequestTable, { state }));
  }

  /** Claims the request for one response: true for exactly one caller, only while pending and unexpired. */
  take(id: string, now: number): Promise<boolean> {
    return withDb(this.ds, async (m) => {
      const r = await m
        .createQueryBuilder()
        .update(RequestTable)
        .set({ status: 'processing' })
        .where('id = :id AND status = :s AND expires_at > :now', { id, s: 'pending', now })
        .execute();
      return r.affected === 1;
    });
  }

  finish(id: string, status: Extract<RequestStatus, 'verified' | 'rejected'>, resultSealed: string, resultExpiresAt: number): Promise<void> {
    return withDb(this.ds, async (m) => {
      await m.createQueryBuilder().update(RequestTable).set({ status, result_sealed: resultSealed, result_expires_at: resultExpiresAt, enc_key_sealed: null }).where('id = :id', { id }).execute();
    });
  }

  /** Retention: verdicts are deleted once their time is up; unanswered requests a day after expiry. */
  purge(now: number): Promise<void> {
    return withDb(this.ds, async (m) => {
      await m.createQueryBuilder().delete().from(RequestTable).where('result_expires_at IS NOT NULL AND result_expires_at <= :now', { now }).execute();
      await m.createQueryBuilder().delete().from(RequestTable).where('result_expires_at IS NULL AND expires_at <= :old', { old: now - 86_400_000 }).execute();
    });
  }
}
