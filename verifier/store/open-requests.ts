import type { RequestRow } from './schema.ts';

/**
 * The presentation requests this process created and has not seen end, kept in memory for the two
 * reads that follow a request at once: the wallet fetching the request object, and its response
 * (issue 16: each was a SELECT of the whole row, two of a verification's three SELECTs, and on
 * PostgreSQL two of its five round trips).
 *
 * What is taken from here never changes while a request is open: id, relying party, nonce, state,
 * DCQL query, response mode, response key and expiry. Whether the request is still open is the
 * database's to say, as before: only a pending, unexpired request is ended by the response's
 * conditional update, and a response that does not verify is noted only while it is pending
 * (verifier/store/verifier-store.ts). Another process or instance may end a request this one still
 * holds; a response to it then fails at that update and is answered as a replay, as it would be
 * after a fresh read. Only the request object may still be served once more, as it would have been
 * a moment earlier, and its answer is refused all the same.
 *
 * Bounded: at most `max` entries, the oldest dropped first; an expired entry is never returned (the
 * database answers, and says why). No personal data: requests hold none (the response key is
 * sealed, as in the database).
 */
export class OpenRequests {
  private readonly byId = new Map<string, Readonly<RequestRow>>();
  private readonly idByState = new Map<string, string>();

  constructor(private readonly max = 4096) {}

  /** A request just stored, pending. */
  remember(row: RequestRow): void {
    if (row.status !== 'pending') return;
    while (this.byId.size >= this.max) this.forget(this.byId.keys().next().value!);
    this.byId.set(row.id, Object.freeze({ ...row }));
    this.idByState.set(row.state, row.id);
  }

  /** The request `id` of relying party `rp`, if this process holds it and it has not expired at `now`. */
  get(rp: string, id: string, now: number): Readonly<RequestRow> | undefined {
    const row = this.byId.get(id);
    if (!row) return undefined;
    if (row.expires_at <= now) {
      this.forget(id);
      return undefined;
    }
    return row.rp === rp ? row : undefined;
  }

  /** The request with this `state`, if this process holds it and it has not expired at `now`. */
  byState(state: string, now: number): Readonly<RequestRow> | undefined {
    const id = this.idByState.get(state);
    const row = id === undefined ? undefined : this.byId.get(id);
    return row && this.get(row.rp, row.id, now);
  }

  /** The request ended, or this process can no longer tell that it is open. */
  forget(id: string): void {
    const row = this.byId.get(id);
    if (!row) return;
    this.byId.delete(id);
    if (this.idByState.get(row.state) === id) this.idByState.delete(row.state);
  }

  get size(): number {
    return this.byId.size;
  }
}
