import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource } from '../../core/store/data-source.ts';
import { releasePooledSlots, withStatusSlots, type ReservedSlot } from '../../issuer/allocate-status-slots.ts';
import type { IssuerDeps, Office } from '../../issuer/deps.ts';
import { IssuerApiKeyTable } from '../../issuer/service.ts';
import { issuerMigrations } from '../../issuer/store/migrations/0001-issuer.ts';
import { IssuerStore } from '../../issuer/store/issuer-store.ts';
import { issuerTables } from '../../issuer/store/schema.ts';
import { MAX_AGE_MS, MAX_BATCH, REFILL_WINDOW_MS, StatusSlotPool } from '../../issuer/status-slot-pool.ts';

/** Status list slots reserved ahead per process (issuer/status-slot-pool.ts, issue 16). */
describe('status slot pool', () => {
  /** A reservation stand-in: numbered slots, and a record of every call. */
  const reserver = () => {
    let next = 0;
    const calls: number[] = [];
    const reserve = async (n: number): Promise<ReservedSlot[]> => {
      calls.push(n);
      return Array.from({ length: n }, () => ({ statusList: 'tsl:buergerbuero:1', number: 1, idx: next++ }));
    };
    return { reserve, calls };
  };

  it('reserves exactly what a request needs when requests come seldom', async () => {
    const pool = new StatusSlotPool();
    const { reserve, calls } = reserver();
    const expired: ReservedSlot[] = [];
    for (let i = 0; i < 5; i++) expect(await pool.take('k', 2, i * REFILL_WINDOW_MS * 2, reserve, (s) => expired.push(...s))).toHaveLength(2);
    expect(calls).toEqual([2, 2, 2, 2, 2]);
    expect(pool.drain()).toEqual([]);
    expect(expired).toEqual([]);
  });

  it('reserves ahead under steady demand, and never hands one slot out twice', async () => {
    const pool = new StatusSlotPool();
    const { reserve, calls } = reserver();
    const handed: number[] = [];
    // 500 requests of one credential within 5 s, 20 at a time, as concurrent requests arrive.
    for (let round = 0; round < 25; round++) {
      const got = await Promise.all(Array.from({ length: 20 }, () => pool.take('k', 1, round * 200, reserve, () => undefined)));
      for (const g of got) handed.push(...g.map((s) => s.idx));
    }
    expect(new Set(handed).size).toBe(500);
    expect(calls.length).toBeLessThan(30);
    expect(Math.max(...calls)).toBeLessThanOrEqual(MAX_BATCH + 1);
    // What was reserved is either handed out or still in the pool.
    const left = pool.drain().map((s) => s.idx);
    expect(handed.length + left.length).toBe(calls.reduce((a, b) => a + b, 0));
    expect(new Set([...handed, ...left]).size).toBe(handed.length + left.length);
  });

  it('keeps one reservation in flight: a burst of requests waits for it instead of reserving a batch each', async () => {
    const pool = new StatusSlotPool();
    const { reserve, calls } = reserver();
    // Warm: two refills within the window, so the next one reserves ahead.
    await pool.take('k', 1, 0, reserve, () => undefined);
    await pool.take('k', 1, 10, reserve, () => undefined);
    pool.drain();
    calls.length = 0;
    const got = await Promise.all(Array.from({ length: 32 }, () => pool.take('k', 1, 20, reserve, () => undefined)));
    expect(new Set(got.flat().map((s) => s.idx)).size).toBe(32);
    // The batch doubles with each refill (log2 32 + 1 of them); without the wait each of the 32 would reserve on its own.
    expect(calls.length).toBeLessThanOrEqual(6);
    expect(calls.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(32 + 2 * MAX_BATCH);
  });

  it('gives back slots that waited too long instead of handing them out', async () => {
    const pool = new StatusSlotPool();
    const { reserve } = reserver();
    await pool.take('k', 1, 0, reserve, () => undefined);
    await pool.take('k', 1, 10, reserve, () => undefined); // within the window: reserves ahead
    const ahead = pool.drain();
    expect(ahead.length).toBeGreaterThan(0);
    // Again, then let them age.
    await pool.take('k', 1, 0, reserve, () => undefined);
    await pool.take('k', 1, 10, reserve, () => undefined);
    const expired: ReservedSlot[] = [];
    const later = await pool.take('k', 1, 10 + MAX_AGE_MS + 1, reserve, (s) => expired.push(...s));
    expect(expired.length).toBeGreaterThan(0);
    expect(later.map((s) => s.idx)).not.toContain(expired[0]!.idx);
    expect(new Set([...expired, ...later].map((s) => s.idx)).size).toBe(expired.length + later.length);
  });

  it('gives back what it held when a reservation fails', async () => {
    const pool = new StatusSlotPool();
    const { reserve } = reserver();
    await pool.take('k', 1, 0, reserve, () => undefined);
    await pool.take('k', 1, 10, reserve, () => undefined); // within the window: slots reserved ahead
    const expired: ReservedSlot[] = [];
    // More than the pool holds, while the database fails: the held slots go back, none stays.
    await expect(pool.take('k', 1000, 20, () => Promise.reject(new Error('database down')), (s) => expired.push(...s))).rejects.toThrow('database down');
    expect(expired.length).toBeGreaterThan(0);
    expect(pool.drain()).toEqual([]);
  });
});

describe('status slots reserved ahead, on a real SQLite store', () => {
  const open: DataSource[] = [];
  afterAll(async () => {
    for (const ds of open) if (ds.isInitialized) await ds.destroy();
  });

  it('gives each credential its own slot, and leaves no reservation behind after the service stops', async () => {
    const ds = await openDataSource({ name: 'issuer', dataDir: mkdtempSync(join(tmpdir(), 'idideal-slot-pool-')), veramo: true, entities: [...issuerTables, IssuerApiKeyTable], migrations: issuerMigrations });
    open.push(ds);
    const store = new IssuerStore(ds);
    const logged: unknown[] = [];
    const deps = {
      store,
      settings: { statusListSize: 131_072 },
      clock: () => Date.now(),
      logger: { warn: (...a: unknown[]) => logged.push(a), info: () => undefined, error: () => undefined },
    } as unknown as IssuerDeps;
    const office = { slug: 'buergerbuero' } as Office;
    const used: number[] = [];
    // Concurrent issuances; every tenth fails after its slot was reserved (it gives the slot back).
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        withStatusSlots(deps, office, 'tsl', 1, async ([slot]) => {
          if (i % 10 === 9) throw new Error('signing failed');
          used.push(slot!.idx);
          await ds.query('UPDATE issuer_status_slots SET credential_id = ? WHERE status_list = ? AND status_idx = ?', [`c${i}`, slot!.statusList, slot!.idx]);
        }).catch((e: Error) => expect(e.message).toBe('signing failed')),
      ),
    );
    expect(used).toHaveLength(180);
    expect(new Set(used).size).toBe(180);
    // Slots reserved ahead are still waiting in the pool.
    const reserved = Number((await ds.query('SELECT count(*) AS n FROM issuer_status_slots WHERE credential_id IS NULL'))[0].n);
    expect(reserved).toBeGreaterThan(0);
    await releasePooledSlots(deps);
    expect(await ds.query('SELECT count(*) AS n FROM issuer_status_slots WHERE credential_id IS NULL')).toEqual([{ n: 0 }]);
    expect(await ds.query('SELECT count(*) AS n FROM issuer_status_slots')).toEqual([{ n: 180 }]);
    expect(logged).toEqual([]);
  });
});
