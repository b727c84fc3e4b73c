import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inGroupCommit, openDataSource, withDb } from '../../core/store/data-source.ts';
import { sqlRun, sqliteConnection } from '../../core/store/prepared.ts';

/**
 * Group commit with a sibling writer on the same SQLite file, as cluster workers are
 * (core/store/data-source.ts inGroupCommit): while the sibling holds the write lock, the group's
 * BEGIN waits (SQLite's busy handler, busy timeout 5 s); its members are then committed together,
 * or all get SQLITE_BUSY when the lock stays held past the timeout, and nothing of theirs is kept.
 * The sibling is a worker thread with a connection of its own, so it can let go of the lock while
 * this thread waits.
 */

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as new (file: string) => { prepare(sql: string): { all(...p: unknown[]): unknown[] }; exec(sql: string): void; pragma(p: string): unknown; close(): void };
const SIBLING = `
const { workerData, parentPort } = require('node:worker_threads');
const db = new (require(workerData.module))(workerData.file, { timeout: 0 });
db.exec('BEGIN IMMEDIATE');
parentPort.postMessage('held');
setTimeout(() => { db.exec('COMMIT'); db.close(); parentPort.postMessage('released'); }, workerData.ms);
`;

const dir = mkdtempSync(join(tmpdir(), 'idideal-group-siblings-'));
const file = join(dir, 'siblings.sqlite');
let ds: DataSource;
let other: InstanceType<typeof Database>;

const committed = (): string[] => (other.prepare('SELECT v FROM g ORDER BY v').all() as { v: string }[]).map((r) => r.v);
/** Frames in the WAL: each commit writes every page it changed once more. */
const walFrames = (): number => (other.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
const insert = (v: string) => inGroupCommit(ds, async (m) => sqlRun(m, 'INSERT INTO g (v) VALUES (?)', [v]));

/** A sibling holding the write lock for `ms`; resolves once it holds it, with a promise for its release. */
async function sibling(ms: number): Promise<{ released: Promise<void> }> {
  const worker = new Worker(SIBLING, { eval: true, workerData: { module: require.resolve('better-sqlite3'), file, ms } });
  const released = new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m) => m === 'released' && void worker.terminate().then(() => resolve()));
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m) => m === 'held' && resolve());
  });
  return { released };
}

beforeAll(async () => {
  ds = await openDataSource({ name: 'siblings', dataDir: dir, entities: [], migrations: [] });
  await withDb(ds, async () => void sqliteConnection(ds).exec('CREATE TABLE g (v TEXT PRIMARY KEY NOT NULL)'));
  other = new Database(file);
});
afterAll(async () => {
  other.close();
  await ds.destroy();
});
beforeEach(async () => {
  await withDb(ds, async (m) => void (await sqlRun(m, 'DELETE FROM g')));
  other.exec('PRAGMA wal_checkpoint(TRUNCATE)'); // an empty WAL, so the frames counted are this test's
});

describe('group commit with a sibling writer on one SQLite file', () => {
  it('waits for the sibling to let go of the write lock, then commits the waiting writes in one commit', async () => {
    const { released } = await sibling(150);
    const started = Date.now();
    await Promise.all([insert('a1'), insert('a2'), insert('a3')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await released;
    expect(committed()).toEqual(['a1', 'a2', 'a3']);
    // One commit for the three: its changed pages written once (three commits write them three times).
    expect(walFrames()).toBeLessThanOrEqual(2);
  });

  it('fails every member with SQLITE_BUSY when the lock stays held past the busy timeout, keeps nothing, and writes again after', async () => {
    const { released } = await sibling(6000);
    const results = await Promise.allSettled([insert('t1'), insert('t2')]);
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    for (const x of results) expect((x as PromiseRejectedResult).reason.code).toBe('SQLITE_BUSY');
    await released;
    expect(committed()).toEqual([]);
    await insert('t3');
    expect(committed()).toEqual(['t3']);
  }, 20_000);
});
