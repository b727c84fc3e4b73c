import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inGroupCommit, openDataSource, withDb } from '../../core/store/data-source.ts';
import { sqlAll, sqlRun, sqliteConnection } from '../../core/store/prepared.ts';

/**
 * Group commit with sibling processes (core/store/data-source.ts inGroupCommit, `sharedWriteLock`,
 * as in cluster workers): while another connection to the file holds the write lock, a group's
 * members wait on the event loop, not in SQLite's busy handler, so the process goes on serving; they
 * are committed together once the lock is free, fail alone when they throw, and get SQLITE_BUSY
 * after the busy timeout (5 s), as a blocking BEGIN gave them. The sibling here is a second
 * better-sqlite3 connection to the same file, holding BEGIN IMMEDIATE.
 */

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as new (file: string, opts?: { timeout?: number }) => { prepare(sql: string): { all(...p: unknown[]): unknown[] }; exec(sql: string): void; pragma(p: string): unknown; close(): void };

const dir = mkdtempSync(join(tmpdir(), 'idideal-group-siblings-'));
let ds: DataSource;
let sibling: InstanceType<typeof Database>;

const committed = (): string[] => (sibling.prepare('SELECT v FROM g ORDER BY v').all() as { v: string }[]).map((r) => r.v);
const insert = (v: string) => inGroupCommit(ds, async (m) => sqlRun(m, 'INSERT INTO g (v) VALUES (?)', [v]));
const settledState = async (p: Promise<unknown>): Promise<'pending' | 'settled'> => Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
/** Frames in the WAL: each commit writes every page it changed once more. */
const walFrames = (): number => (sibling.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

beforeAll(async () => {
  ds = await openDataSource({ name: 'siblings', dataDir: dir, entities: [], migrations: [], sharedWriteLock: true });
  await withDb(ds, async () => void sqliteConnection(ds).exec('CREATE TABLE g (v TEXT PRIMARY KEY NOT NULL)'));
  sibling = new Database(join(dir, 'siblings.sqlite'), { timeout: 0 });
});
afterAll(async () => {
  sibling.close();
  await ds.destroy();
});
beforeEach(async () => {
  await withDb(ds, async (m) => void (await sqlRun(m, 'DELETE FROM g')));
  sibling.exec('PRAGMA wal_checkpoint(TRUNCATE)'); // an empty WAL, so the frames counted are this test's
});

describe('group commit with sibling processes on one SQLite file', () => {
  it('waits for a sibling\'s write lock on the event loop: timers run meanwhile, and the waiting writes commit together once it is free', async () => {
    sibling.exec('BEGIN IMMEDIATE');
    const members = [insert('a1'), insert('a2'), insert('a3')];
    // Only a timer of this process frees the lock. A BEGIN waiting in SQLite's busy handler would
    // block the thread for the whole busy timeout, the timer could not fire, and the members would
    // fail with SQLITE_BUSY.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    await sleep(60);
    expect(await settledState(Promise.all(members))).toBe('pending');
    expect(committed()).toEqual([]);
    sibling.exec('COMMIT');
    await Promise.all(members);
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(5);
    expect(committed()).toEqual(['a1', 'a2', 'a3']);
    // One commit for the three: its changed pages written once (three commits write three times).
    expect(walFrames()).toBeLessThanOrEqual(2);
  });

  it('answers reads while its writers wait for the lock', async () => {
    await insert('r0');
    sibling.exec('BEGIN IMMEDIATE');
    const writer = insert('r1');
    await sleep(5);
    const read = await inGroupCommit(ds, async (m) => (await sqlAll<{ v: string }>(m, 'SELECT v FROM g')).map((r) => r.v), { read: true });
    expect(read).toEqual(['r0']);
    expect(await withDb(ds, async (m) => sqlAll(m, 'SELECT v FROM g'))).toHaveLength(1);
    expect(await settledState(writer)).toBe('pending');
    sibling.exec('COMMIT');
    await writer;
    expect(committed()).toEqual(['r0', 'r1']);
  });

  it('undoes a member that fails after the wait alone; the others are committed', async () => {
    sibling.exec('BEGIN IMMEDIATE');
    const results = Promise.allSettled([
      insert('f1'),
      inGroupCommit(ds, async (m) => {
        await sqlRun(m, 'INSERT INTO g (v) VALUES (?)', ['f2']);
        throw new Error('member fails');
      }),
      insert('f1'), // a constraint error fails only this member
      insert('f3'),
    ]);
    await sleep(20);
    sibling.exec('COMMIT');
    const r = await results;
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((r[1] as PromiseRejectedResult).reason.message).toBe('member fails');
    expect(committed()).toEqual(['f1', 'f3']);
  });

  it('fails every waiting member with SQLITE_BUSY after the busy timeout, keeps nothing, and writes again once the lock is free', async () => {
    sibling.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const results = await Promise.allSettled([insert('t1'), insert('t2')]);
    clearInterval(ticker);
    const waited = Date.now() - started;
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    for (const x of results) expect((x as PromiseRejectedResult).reason.code).toBe('SQLITE_BUSY');
    expect(waited).toBeGreaterThanOrEqual(4900);
    expect(ticks).toBeGreaterThan(100); // the process was not blocked while it waited
    sibling.exec('ROLLBACK');
    expect(committed()).toEqual([]);
    await insert('t3');
    expect(committed()).toEqual(['t3']);
  }, 15_000);
});
