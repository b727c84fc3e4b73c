import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { inTransaction, openDataSource } from '../../core/store/data-source.ts';
import { pipelinedConnections, PIPELINED_CONNECTIONS, type PgClient } from '../../core/store/pg-pipeline.ts';
import { insertAll, sqlAll, sqlRun } from '../../core/store/prepared.ts';
import { verifierMigrations } from '../../verifier/store/migrations/0001-verifier.ts';
import { RequestTable, verifierTables } from '../../verifier/store/schema.ts';
import { pendingRequest } from '../helpers/request-row.ts';
import { dropSchemas } from '../helpers/pg-schemas.ts';

/**
 * Issue 16: on PostgreSQL the hot path's statements outside transactions go over pipelined
 * connections (core/store/pg-pipeline.ts). What that must not cost: a statement held up by a row
 * lock holds up no read and, past a few, no other write; a connection the server drops is replaced;
 * the connections end with the data source.
 */
const url = process.env.TEST_DATABASE_URL;
const INSERT_REQUEST = insertAll(RequestTable as never);
if (process.env.CI && !url) throw new Error('TEST_DATABASE_URL is not set: .ci/run starts PostgreSQL for the store suites');

describe.skipIf(!url)('pipelined statements on PostgreSQL', () => {
  const prefix = `p${randomBytes(4).toString('hex')}_`;
  const open: DataSource[] = [];
  const admin = new pg.Client({ connectionString: url });
  beforeAll(() => admin.connect());
  afterAll(async () => {
    for (const ds of open) if (ds.isInitialized) await ds.destroy();
    await admin.end().catch(() => undefined);
    await dropSchemas(url!, prefix);
  });

  const openVerifierDb = async () => {
    const ds = await openDataSource({ name: `${prefix}verifier`, dataDir: mkdtempSync(join(tmpdir(), 'idideal-pipeline-')), databaseUrl: url, entities: verifierTables, migrations: verifierMigrations });
    open.push(ds);
    return ds;
  };
  const insert = async (ds: DataSource) => {
    const row = pendingRequest({ rp: 'bibliothek', expires_at: Date.now() + 600_000 });
    await sqlRun(ds.manager, INSERT_REQUEST.sql, INSERT_REQUEST.values(row as never));
    return row.id;
  };
  const touch = (ds: DataSource, id: string) => sqlRun(ds.manager, 'UPDATE verifier_requests SET last_attempt = ? WHERE id = ?', [`t${Math.random()}`, id]);
  const backendPid = async (c: PgClient) => Number((await c.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);

  it('answers reads, and past a few statements other writes, while a write waits for a row lock', async () => {
    const ds = await openVerifierDb();
    const locked = await insert(ds);
    const others = await Promise.all(Array.from({ length: 12 }, () => insert(ds)));
    let waiting: Promise<number> | undefined;
    const doneWhileLocked: string[] = [];
    await inTransaction(ds, async (m) => {
      await sqlRun(m, 'UPDATE verifier_requests SET last_attempt = ? WHERE id = ?', ['held', locked]);
      // Held up by the transaction's lock, on the first write connection.
      waiting = touch(ds, locked);
      await new Promise((r) => setTimeout(r, 50));
      // A read is answered at once; of twelve other writes, those beyond the first connection's share are too.
      const read = await sqlAll<{ id: string }>(ds.manager, 'SELECT id FROM verifier_requests WHERE id = ?', [locked]);
      expect(read.map((r) => r.id)).toEqual([locked]);
      const writes = others.map((id) => touch(ds, id).then(() => doneWhileLocked.push(id)));
      await new Promise((r) => setTimeout(r, 200));
      expect(doneWhileLocked.length).toBeGreaterThan(0);
      expect(doneWhileLocked.length).toBeLessThan(others.length);
      void Promise.all(writes);
    });
    expect(await waiting).toBe(1);
    // Once the lock is gone, every write is done.
    await new Promise((r) => setTimeout(r, 50));
    expect(doneWhileLocked.length).toBe(others.length);
    const { read, write } = await pipelinedConnections(ds);
    expect(read.length).toBe(1);
    expect(write.length).toBeGreaterThanOrEqual(2);
    expect(write.length).toBeLessThanOrEqual(PIPELINED_CONNECTIONS.write);
  });

  it('replaces a connection the server ended; the statement in flight on it fails, the next ones are answered', async () => {
    const ds = await openVerifierDb();
    const id = await insert(ds);
    const [first] = (await pipelinedConnections(ds)).write;
    const pid = await backendPid(first!);
    // A statement in flight when its backend ends gets an error, not silence.
    const inFlight = sqlRun(ds.manager, 'UPDATE verifier_requests SET last_attempt = (SELECT CAST(pg_sleep(2) AS text)) WHERE id = ?', [id]).then(
      () => 'answered',
      (e: Error) => e,
    );
    await new Promise((r) => setTimeout(r, 100));
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    expect(await inFlight).toMatchObject({ name: 'QueryFailedError', driverError: { code: '57P01' } });
    expect(await touch(ds, id)).toBe(1);
    const [second] = (await pipelinedConnections(ds)).write;
    expect(second).not.toBe(first);
    expect(await backendPid(second!)).not.toBe(pid);
  });

  it('ends its pipelined connections with the data source', async () => {
    const ds = await openVerifierDb();
    await insert(ds);
    await sqlAll(ds.manager, 'SELECT 1 AS one');
    const { read, write } = await pipelinedConnections(ds);
    const pids = await Promise.all([...read, ...write].map(backendPid));
    expect(pids.length).toBe(2);
    await ds.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const left = await admin.query('SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])', [pids]);
    expect(left.rows).toEqual([]);
    await expect(sqlAll(ds.manager, 'SELECT 1 AS one')).rejects.toThrow();
  });
});
