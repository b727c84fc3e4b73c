import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inGroupCommit, openDataSource, withDb } from '../../core/store/data-source.ts';
import { sqlAll, sqlRun, sqliteConnection } from '../../core/store/prepared.ts';

/**
 * Group commit on SQLite (core/store/data-source.ts inGroupCommit): the writes of one event-loop
 * turn share a transaction and a COMMIT; each member is undone alone when it fails; no member's
 * result is delivered before its COMMIT, and a failed COMMIT fails every member and keeps nothing.
 * A second connection to the same file shows what is committed.
 */

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as new (file: string, opts?: { readonly?: boolean }) => { prepare(sql: string): { all(...p: unknown[]): unknown[]; get(...p: unknown[]): unknown }; pragma(p: string): unknown; close(): void };

const dir = mkdtempSync(join(tmpdir(), 'idideal-group-commit-'));
let ds: DataSource;
let other: InstanceType<typeof Database>;

const committed = (): string[] => (other.prepare('SELECT v FROM g ORDER BY v').all() as { v: string }[]).map((r) => r.v);
/** Frames in the WAL: each commit writes every page it changed once more. */
const walFrames = (): number => (other.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
const insert = (v: string) => inGroupCommit(ds, async (m) => sqlRun(m, 'INSERT INTO g (v) VALUES (?)', [v]));

beforeAll(async () => {
  ds = await openDataSource({ name: 'group', dataDir: dir, entities: [], migrations: [] });
  await withDb(ds, async () => {
    const db = sqliteConnection(ds);
    db.exec('CREATE TABLE g (v TEXT PRIMARY KEY NOT NULL)');
    db.exec('CREATE TABLE parent (id TEXT PRIMARY KEY NOT NULL)');
    db.exec('CREATE TABLE child (id TEXT PRIMARY KEY NOT NULL, parent TEXT NOT NULL REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)');
  });
  other = new Database(join(dir, 'group.sqlite')); // not read-only: it counts the WAL's frames with a checkpoint
});
afterAll(async () => {
  other.close();
  await ds.destroy();
});
beforeEach(async () => {
  await withDb(ds, async (m) => {
    await sqlRun(m, 'DELETE FROM g');
    await sqlRun(m, 'DELETE FROM child');
  });
  // An empty WAL, so the frames counted are this test's.
  await withDb(ds, async () => void sqliteConnection(ds).exec('PRAGMA wal_checkpoint(TRUNCATE)'));
});

describe('group commit on SQLite', () => {
  it('commits the writes of one turn once: ten inserts write the two changed pages once, not ten times', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => insert(`a${i}`)));
    expect(committed()).toHaveLength(10);
    const grouped = walFrames();
    await withDb(ds, async () => void sqliteConnection(ds).exec('PRAGMA wal_checkpoint(TRUNCATE)'));
    // The same ten writes one at a time, each its own commit.
    for (let i = 0; i < 10; i++) await insert(`b${i}`);
    const separate = walFrames();
    expect(grouped).toBeLessThanOrEqual(3);
    expect(separate).toBeGreaterThanOrEqual(10);
  });

  it('delivers a result only after its COMMIT', async () => {
    let delivered = false;
    const first = inGroupCommit(ds, async (m) => {
      await sqlRun(m, 'INSERT INTO g (v) VALUES (?)', ['late']);
      return 'ok';
    }).then((v) => ((delivered = true), v));
    // The next member of the same group runs after the first one's statement, before the COMMIT.
    const second = inGroupCommit(ds, async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve(); // time for a delivery, had there been one
      return { committed: committed(), delivered };
    });
    expect(await second).toEqual({ committed: [], delivered: false });
    expect(await first).toBe('ok');
    expect(committed()).toEqual(['late']);
  });

  it('undoes a failing member alone; the others of its turn are committed', async () => {
    const results = await Promise.allSettled([
      insert('x1'),
      inGroupCommit(ds, async (m) => {
        await sqlRun(m, 'INSERT INTO g (v) VALUES (?)', ['x2']);
        throw new Error('member fails');
      }),
      insert('x1'), // a constraint error: the statement fails, and with it only this member
      insert('x3'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('member fails');
    expect(committed()).toEqual(['x1', 'x3']);
  });

  it('fails every member of a group whose COMMIT fails, and keeps none of their writes', async () => {
    const results = await Promise.allSettled([
      insert('y1'),
      // A deferred foreign key is checked at COMMIT: this member's write makes the group's COMMIT fail.
      inGroupCommit(ds, async (m) => sqlRun(m, 'INSERT INTO child (id, parent) VALUES (?, ?)', ['c1', 'missing'])),
      insert('y2'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(committed()).toEqual([]);
    // The connection is usable again, and the next turn commits.
    await insert('y3');
    expect(committed()).toEqual(['y3']);
  });

  it('fails the whole group when SQLite ends its transaction under it, and keeps nothing', async () => {
    const results = await Promise.allSettled([
      insert('e1'),
      // As SQLite does by itself on some errors (SQLITE_FULL, SQLITE_IOERR): the transaction is gone.
      inGroupCommit(ds, async () => void sqliteConnection(ds).exec('ROLLBACK')),
      insert('e3'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(committed()).toEqual([]);
    await insert('e4');
    expect(committed()).toEqual(['e4']);
  });

  it('keeps other uses of the connection out of a group: a write beside a group whose COMMIT fails is kept', async () => {
    const group = Promise.allSettled([
      insert('z1'),
      inGroupCommit(ds, async (m) => sqlRun(m, 'INSERT INTO child (id, parent) VALUES (?, ?)', ['c2', 'missing'])),
    ]);
    const beside = withDb(ds, async (m) => sqlRun(m, 'INSERT INTO g (v) VALUES (?)', ['z2']));
    expect((await group).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await beside;
    expect(committed()).toEqual(['z2']);
  });

  it('a read forms no group: it runs outside any transaction and sees what is committed', async () => {
    const inTx = () => (sqliteConnection(ds) as unknown as { inTransaction: boolean }).inTransaction;
    const alone = await inGroupCommit(ds, async (m) => ({ inTx: inTx(), rows: await sqlAll(m, 'SELECT v FROM g') }), { read: true });
    expect(alone).toEqual({ inTx: false, rows: [] });
    const [, read] = await Promise.all([insert('r1'), inGroupCommit(ds, async (m) => ({ inTx: inTx(), rows: (await sqlAll<{ v: string }>(m, 'SELECT v FROM g')).map((r) => r.v) }), { read: true })]);
    expect(read).toEqual({ inTx: false, rows: [] }); // asked before the group's COMMIT: not its writes
    expect(await inGroupCommit(ds, async (m) => sqlAll(m, 'SELECT v FROM g'), { read: true })).toEqual([{ v: 'r1' }]);
    expect(committed()).toEqual(['r1']);
  });
});
