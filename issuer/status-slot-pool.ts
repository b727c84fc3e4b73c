import type { ReservedSlot } from './allocate-status-slots.ts';

/**
 * Status list slots reserved ahead, in this process, for one office and family (issue 16: one
 * write per issuance less, one round trip less on PostgreSQL).
 *
 * - Under steady demand the reservation is made for many credentials at once: the batch doubles
 *   (up to MAX_BATCH) while refills come within REFILL_WINDOW_MS of each other, and halves when
 *   they do not. A counter issuing a document now and then reserves one slot per credential, as
 *   without the pool. One reservation per office and family is in flight at a time: requests that
 *   find the pool empty meanwhile wait for it and take its extra slots, so a burst of requests does
 *   not reserve a batch each.
 * - The indices stay random (draft-ietf-oauth-status-list §12.4): each is drawn at random and
 *   handed out in the order drawn, so they do not reveal issuance order.
 * - A slot is reserved in the database before it enters the pool, so no other process or instance
 *   can draw it (§13.3); the pool only decides which of this process's requests signs with it.
 * - Slots waiting longer than MAX_AGE_MS are given back, far inside the age at which the sweep
 *   removes reservations a crash left behind (STALE_RESERVATION_MS in issuer/service.ts, ten
 *   minutes), so the sweep never removes a slot that is still in a pool.
 */
export const MAX_BATCH = 64;
export const REFILL_WINDOW_MS = 1000;
export const MAX_AGE_MS = 60_000;

interface Pool {
  /** Reserved, not yet handed out; each with the time it was reserved. */
  slots: { slot: ReservedSlot; at: number }[];
  batch: number;
  lastRefill: number;
  /** The reservation in flight: requests that find the pool empty meanwhile wait for it instead of reserving on their own. */
  refill: Promise<unknown> | null;
}

export class StatusSlotPool {
  private readonly pools = new Map<string, Pool>();

  /**
   * `count` slots for `key`: from the pool when it holds them, else from `reserve`, which is asked
   * for `count` plus the batch's extra slots; those are kept for the next requests. Slots older
   * than MAX_AGE_MS go to `expired` (to be given back), never to a caller.
   */
  async take(key: string, count: number, now: number, reserve: (n: number) => Promise<ReservedSlot[]>, expired: (slots: ReservedSlot[]) => void): Promise<ReservedSlot[]> {
    const pool = this.pools.get(key) ?? { slots: [], batch: 1, lastRefill: -Infinity, refill: null };
    this.pools.set(key, pool);
    for (;;) {
      const old = pool.slots.filter((s) => now - s.at > MAX_AGE_MS);
      if (old.length > 0) {
        pool.slots = pool.slots.filter((s) => now - s.at <= MAX_AGE_MS);
        expired(old.map((s) => s.slot));
      }
      // Taken synchronously (no await between the check and the splice), so two requests never share a slot.
      if (pool.slots.length >= count) return pool.slots.splice(0, count).map((s) => s.slot);
      if (!pool.refill) break;
      await pool.refill.catch(() => undefined);
    }
    const have = pool.slots.splice(0).map((s) => s.slot);
    pool.batch = now - pool.lastRefill < REFILL_WINDOW_MS ? Math.min(MAX_BATCH, pool.batch * 2) : Math.max(1, pool.batch / 2);
    pool.lastRefill = now;
    const need = count - have.length;
    const extra = pool.batch > 1 ? pool.batch : 0;
    const refill = reserve(need + extra);
    pool.refill = refill;
    let got: ReservedSlot[];
    try {
      got = await refill;
    } catch (e) {
      expired(have);
      throw e;
    } finally {
      pool.refill = null;
    }
    pool.slots.push(...got.slice(need).map((slot) => ({ slot, at: now })));
    return [...have, ...got.slice(0, need)];
  }

  /** Empties every pool (the service stops); the caller gives the slots back. */
  drain(): ReservedSlot[] {
    const out = [...this.pools.values()].flatMap((p) => p.slots.map((s) => s.slot));
    this.pools.clear();
    return out;
  }
}
