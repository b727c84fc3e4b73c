import type { DataSource } from 'typeorm';
import { withDb } from '../../core/store/data-source.ts';
import { RequestTable, type RequestRow } from './schema.ts';

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

  /**
   * Ends a request with a verified verdict: true for exactly one caller, only while it is pending
   * and unexpired (a conditional update, so also across instances). Only a verifying response gets here.
   */
  finishVerified(id: string, now: number, resultSealed: string, resultExpiresAt: number): Promise<boolean> {
    return withDb(this.ds, async (m) => {
      const r = await m
        .createQueryBuilder()
        .update(RequestTable)
        .set({ status: 'verified', result_sealed: resultSealed, result_expires_at: resultExpiresAt, enc_key_sealed: null, last_attempt: null })
        .where('id = :id AND status = :s AND expires_at > :now', { id, s: 'pending', now })
        .execute();
      return r.affected === 1;
    });
  }

  /** Notes an answer that did not verify (fixed codes only); the request stays pending and answerable. */
  noteAttempt(id: string, now: number, attempt: string): Promise<boolean> {
    return withDb(this.ds, async (m) => {
      const r = await m.createQueryBuilder().update(RequestTable).set({ last_attempt: attempt }).where('id = :id AND status = :s AND expires_at > :now', { id, s: 'pending', now }).execute();
      return r.affected === 1;
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
