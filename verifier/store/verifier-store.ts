import type { DataSource } from 'typeorm';
import type { AuditLog } from '../../core/access/api-key-store.ts';
import type { AuditInput } from '../../core/audit/audit-table.ts';
import { inGroupCommit, withDb } from '../../core/store/data-source.ts';
import { insertAll, selectAll, sqlOne, sqlRun } from '../../core/store/prepared.ts';
import { OpenRequests } from './open-requests.ts';
import { RequestTable, type RequestRow } from './schema.ts';

// Hot-path statements (issue 16): fixed texts with bound parameters, prepared once (core/store/prepared.ts).
const INSERT_REQUEST = insertAll(RequestTable as never);
const SELECT_REQUEST = selectAll(RequestTable as never);
/** A stored request as TypeORM gave it: bigint columns as numbers (PostgreSQL returns int8 as text). */
const requestRow = (r: Record<string, unknown> | undefined): RequestRow | null =>
  r ? ({ ...r, expires_at: Number(r.expires_at), result_expires_at: r.result_expires_at === null || r.result_expires_at === undefined ? null : Number(r.result_expires_at) } as unknown as RequestRow) : null;

/** The verifier's storage port. A response is taken exactly once by a conditional update. */
export class VerifierStore {
  /** Requests this process created and has not seen end (verifier/store/open-requests.ts). */
  private readonly open = new OpenRequests();

  constructor(readonly ds: DataSource) {}

  /** Stores a new request; with `audit`, atomically with the audit entry of its creation. */
  async insertRequest(row: RequestRow, audit?: { log: AuditLog; entry: AuditInput }): Promise<void> {
    const insert = { sql: INSERT_REQUEST.sql, params: INSERT_REQUEST.values(row as never) };
    if (audit) await audit.log.writeWith(insert, audit.entry);
    else await inGroupCommit(this.ds, (m) => sqlRun(m, insert.sql, insert.params));
    this.open.remember(row);
  }

  /**
   * A request for the wallet's next steps (request object, response): this process's copy when it
   * holds one, else the stored row. Its status may be stale (another instance may have ended it);
   * `finishVerified` and `noteAttempt` decide. Views of the outcome read `getRequest`.
   */
  async openRequest(rp: string, id: string, now: number): Promise<RequestRow | null> {
    return this.open.get(rp, id, now) ?? this.getRequest(rp, id);
  }

  /** As `openRequest`, by the request's `state`. */
  async openRequestByState(state: string, now: number): Promise<RequestRow | null> {
    return this.open.byState(state, now) ?? this.findByState(state);
  }

  getRequest(rp: string, id: string): Promise<RequestRow | null> {
    return inGroupCommit(this.ds, async (m) => requestRow(await sqlOne(m, `${SELECT_REQUEST} WHERE rp = ? AND id = ?`, [rp, id])), { read: true });
  }

  findByState(state: string): Promise<RequestRow | null> {
    return withDb(this.ds, async (m) => requestRow(await sqlOne(m, `${SELECT_REQUEST} WHERE state = ?`, [state])));
  }

  /**
   * Ends a request with a verified verdict: true for exactly one caller, only while it is pending
   * and unexpired (a conditional update, so also across instances). Only a verifying response gets here.
   */
  async finishVerified(id: string, now: number, resultSealed: string, resultExpiresAt: number): Promise<boolean> {
    // Not open any more, whoever ended it.
    this.open.forget(id);
    return inGroupCommit(
      this.ds,
      async (m) =>
        (await sqlRun(m, "UPDATE verifier_requests SET status = 'verified', result_sealed = ?, result_expires_at = ?, enc_key_sealed = NULL, last_attempt = NULL WHERE id = ? AND status = 'pending' AND expires_at > ?", [resultSealed, resultExpiresAt, id, now])) === 1,
    );
  }

  /** Notes an answer that did not verify (fixed codes only); the request stays pending and answerable. */
  async noteAttempt(id: string, now: number, attempt: string): Promise<boolean> {
    const noted = await withDb(this.ds, async (m) => (await sqlRun(m, "UPDATE verifier_requests SET last_attempt = ? WHERE id = ? AND status = 'pending' AND expires_at > ?", [attempt, id, now])) === 1);
    if (!noted) this.open.forget(id);
    return noted;
  }

  /** Retention: verdicts are deleted once their time is up; unanswered requests a day after expiry. */
  purge(now: number): Promise<void> {
    return withDb(this.ds, async (m) => {
      await m.createQueryBuilder().delete().from(RequestTable).where('result_expires_at IS NOT NULL AND result_expires_at <= :now', { now }).execute();
      await m.createQueryBuilder().delete().from(RequestTable).where('result_expires_at IS NULL AND expires_at <= :old', { old: now - 86_400_000 }).execute();
    });
  }
}
