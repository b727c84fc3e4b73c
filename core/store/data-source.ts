import 'reflect-metadata';
import { chmodSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Entities as VeramoEntities, migrations as veramoMigrations } from '@veramo/data-store';
import { DataSource, type EntityManager, type EntitySchema, type MixedList, type MigrationInterface } from 'typeorm';
import { Mutex } from '../util/mutex.ts';
import { closePipelines } from './pg-pipeline.ts';
import { sqliteConnection } from './prepared.ts';

/**
 * One TypeORM data source per service: embedded SQLite under DATA_DIR by default, PostgreSQL when
 * DATABASE_URL is set (each service in its own schema, so services never read each other's tables).
 * Schema changes only by numbered migrations; `synchronize` is never on.
 */

export interface DataSourceOptions {
  /** Service name: SQLite file name and PostgreSQL schema. */
  name: string;
  dataDir: string;
  databaseUrl?: string | undefined;
  entities: MixedList<EntitySchema | (new () => unknown)>;
  migrations: (new () => MigrationInterface)[];
  /** Include Veramo's key, DID and credential tables (and their migrations). */
  veramo?: boolean;
  /** Use a throwaway in-memory SQLite database (tests of a single store). */
  inMemory?: boolean;
  /** PostgreSQL: connections this data source keeps at most (DATABASE_POOL_SIZE); default DEFAULT_POOL_SIZE. */
  poolSize?: number | undefined;
}

/**
 * Connections a process's pool keeps to PostgreSQL at most, by default (node-postgres's own
 * default); transactions and TypeORM's queries use them, the hot path's single statements the
 * pipelined connections of core/store/pg-pipeline.ts (up to six more). Each connection is a process
 * on the server: instances × services × workers × (this + 6) is what `max_connections` must allow. Fewer (issue 16, PostgreSQL and two instances on the bench machine's
 * two cores): 2–4 per process took up to a sixth less of PostgreSQL's CPU per verification in some
 * runs, none in others, and issuance, whose completion holds its connection for a transaction, was
 * slower with 4; within the machine's noise, so the default stays.
 */
export const DEFAULT_POOL_SIZE = 10;

export async function openDataSource(opts: DataSourceOptions): Promise<DataSource> {
  const entities = [...(opts.veramo ? (VeramoEntities as unknown[]) : []), ...(opts.entities as unknown[])] as MixedList<EntitySchema>;
  const migrations = [...(opts.veramo ? (veramoMigrations as unknown as (new () => MigrationInterface)[]) : []), ...opts.migrations];
  let ds: DataSource;
  if (opts.databaseUrl) {
    const schema = opts.name.replace(/[^a-z0-9_]/g, '_');
    await ensurePgSchema(opts.databaseUrl, schema);
    ds = new DataSource({
      type: 'postgres',
      url: opts.databaseUrl,
      schema,
      extra: { options: `-c search_path=${schema}`, max: opts.poolSize ?? DEFAULT_POOL_SIZE },
      entities,
      migrations,
      migrationsRun: false,
      migrationsTransactionMode: 'each',
      synchronize: false,
      logging: false,
    });
  } else {
    let database = ':memory:';
    if (!opts.inMemory) {
      mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
      database = join(opts.dataDir, `${opts.name}.sqlite`);
      // Owner-only from the first byte: SQLite gives its -wal and -shm files the same mode.
      closeSync(openSync(database, 'a', 0o600));
      chmodSync(database, 0o600);
    }
    // better-sqlite3: synchronous statements in the calling thread. With the asynchronous sqlite3
    // driver every statement was a thread-pool round trip (measured ≈0.55 ms each, about twenty per
    // issuance, all in turn on one connection): the connection, not the CPU, capped issuance at
    // ≈67 flows/s; with this driver the same run gave ≈115 flows/s.
    ds = new DataSource({
      type: 'better-sqlite3',
      database,
      enableWAL: !opts.inMemory,
      // Busy timeout (ms): a writer in another process (ISSUER_WORKERS) is waited for, not failed.
      timeout: 5000,
      entities,
      migrations,
      migrationsRun: false,
      migrationsTransactionMode: 'each',
      synchronize: false,
      logging: false,
    });
  }
  await ds.initialize();
  if (opts.databaseUrl) {
    // The pipelined connections of the hot path (core/store/pg-pipeline.ts) end with the data source.
    const destroy = ds.destroy.bind(ds);
    ds.destroy = async () => {
      await closePipelines(ds);
      await destroy();
    };
  }
  // WAL with synchronous=NORMAL: a commit survives a crash of the process (kill -9); only a power
  // loss can take the last commits back. FULL would fsync on every commit.
  if (ds.options.type !== 'postgres' && !opts.inMemory) await ds.query('PRAGMA synchronous = NORMAL');
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}


async function ensurePgSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}

const sqliteLocks = new WeakMap<DataSource, Mutex>();
const lockOf = (ds: DataSource): Mutex => {
  let lock = sqliteLocks.get(ds);
  if (!lock) sqliteLocks.set(ds, (lock = new Mutex()));
  return lock;
};

/**
 * Access to a service's database. TypeORM's SQLite driver has a single connection per process, so
 * a statement issued while another request's transaction is open would silently join (and could be
 * rolled back with) that transaction. On SQLite every use therefore takes the connection in turn;
 * transactions begin IMMEDIATE, so across processes (ISSUER_WORKERS) a writer waits for the lock
 * (busy_timeout) instead of failing with SQLITE_BUSY on a stale snapshot. A commit group
 * (inGroupCommit) holds the connection from its BEGIN to its COMMIT, so no other use meets it. On
 * PostgreSQL a transaction takes a connection of the pool; other statements of
 * core/store/prepared.ts go over pipelined connections (core/store/pg-pipeline.ts).
 */
export function withDb<T>(ds: DataSource, fn: (m: EntityManager) => Promise<T>): Promise<T> {
  if (ds.options.type === 'postgres') return fn(ds.manager);
  return lockOf(ds).run(() => fn(ds.manager));
}

export function inTransaction<T>(ds: DataSource, fn: (m: EntityManager) => Promise<T>): Promise<T> {
  if (ds.options.type === 'postgres') return ds.transaction(fn);
  return lockOf(ds).run(async () => {
    // BEGIN/COMMIT as prepared statements on the one connection (issue 16: the query runner's
    // per-statement overhead showed in the profile); TypeORM's manager shares that connection, so
    // its queries in `fn` run inside this transaction.
    const begin = transactionStatements(ds);
    begin.begin.run();
    try {
      const result = await fn(ds.manager);
      begin.commit.run();
      return result;
    } catch (e) {
      try {
        begin.rollback.run();
      } catch {
        /* no transaction open any more (SQLite rolled it back itself) */
      }
      throw e;
    }
  });
}

/**
 * Group commit (SQLite): the hot path's writes of all requests the event loop serves in one turn
 * share one transaction and one COMMIT, and each request's answer waits for that COMMIT.
 *
 * Why (issue 16): on SQLite every commit writes each page the transaction changed to the WAL (a
 * frame header and the page, two writes each), with its checksum, and takes and drops the file
 * locks. An issuance made four commits and a verification two; the same pages (the tables' and
 * the audit chain's last pages) were written again by every request.
 *
 * How: a member is queued; the first of a turn schedules the group with setImmediate, after the
 * turn's I/O callbacks. The group then takes the connection, begins (BEGIN IMMEDIATE, so across
 * processes a writer waits), runs its members one after another, each in a SAVEPOINT of its own
 * (one that throws is rolled back alone, the others go on), and commits. Nothing is answered before
 * it is committed: a member's result, or its error, is delivered only after the COMMIT; if the
 * COMMIT fails, every member gets that error and none of their writes was kept. The group holds the
 * connection (and the file's write lock) only while its statements run, not for the turn.
 *
 * A member's `fn` runs plain statements (core/store/prepared.ts) only: no TypeORM transaction API,
 * and nothing else it awaits (it runs while the group holds the write lock). A read (`read: true`)
 * forms no group: it reads what is committed, as withDb. On PostgreSQL a member runs as withDb: each
 * statement commits by itself, over the pipelined connections of core/store/pg-pipeline.ts (the hot
 * path's multi-statement writes are single statements there).
 *
 * Cluster workers (ISSUER_WORKERS, VERIFIER_WORKERS) group too: their groups share the file's write
 * lock, and a BEGIN waits in SQLite's busy handler while the sibling's group runs, which is only for
 * its statements (change 15's group held the lock for the whole turn, and workers did not group).
 * Measured against waiting on the event loop instead (change 17 in docs/performance.md): rates
 * alike within the noise, a shorter tail.
 */
export function inGroupCommit<T>(ds: DataSource, fn: (m: EntityManager) => Promise<T>, opts: { read?: boolean } = {}): Promise<T> {
  if (ds.options.type === 'postgres' || opts.read) return withDb(ds, fn);
  return new Promise<T>((resolve, reject) => {
    let group = pendingGroups.get(ds);
    if (!group) {
      const g: Group = { members: [] };
      pendingGroups.set(ds, (group = g));
      setImmediate(() => void runGroup(ds, g));
    }
    group.members.push({ fn, settle: (o) => ('error' in o ? reject(o.error) : resolve(o.value as T)) });
  });
}

type Outcome = { value: unknown } | { error: unknown };
interface Group {
  members: { fn: (m: EntityManager) => Promise<unknown>; settle(o: Outcome): void }[];
}
/** The group taking members, per data source; it leaves this map when it begins. */
const pendingGroups = new WeakMap<DataSource, Group>();

async function runGroup(ds: DataSource, group: Group): Promise<void> {
  const failAll = (error: unknown): Outcome[] => group.members.map(() => ({ error }));
  const outcomes = await lockOf(ds).run(async (): Promise<Outcome[]> => {
    // The group closes when it has the connection: members that come from now on form the next group.
    pendingGroups.delete(ds);
    // BEGIN IMMEDIATE: with cluster workers it waits in SQLite's busy handler for the sibling's group.
    const s = transactionStatements(ds);
    try {
      s.begin.run();
    } catch (error) {
      return failAll(error);
    }
    const results: Outcome[] = [];
    // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR …): then
    // every write of the group so far is gone, and the group fails with that member's error.
    const ended = () => !connectionOf(ds).inTransaction;
    const lastError = () => results.findLast((r): r is { error: unknown } => 'error' in r)?.error ?? new Error('the group\'s transaction ended');
    for (const member of group.members) {
      if (ended()) return failAll(lastError());
      try {
        s.savepoint.run();
        const value = await member.fn(ds.manager);
        s.release.run();
        results.push({ value });
      } catch (error) {
        try {
          s.rollbackTo.run();
          s.release.run();
        } catch {
          /* the transaction is gone (SQLite rolled it back itself): the group fails below */
        }
        results.push({ error });
      }
    }
    if (ended()) return failAll(lastError());
    try {
      s.commit.run();
      return results;
    } catch (e) {
      try {
        if (connectionOf(ds).inTransaction) s.rollback.run();
      } catch {
        /* nothing left to roll back */
      }
      return failAll(e ?? new Error('group commit failed'));
    }
  }).catch((e: unknown) => {
    // Not expected (the statements above throw only where caught); still, no member may wait forever,
    // and no later member may join a group that will not run.
    if (pendingGroups.get(ds) === group) pendingGroups.delete(ds);
    return failAll(e);
  });
  group.members.forEach((m, i) => m.settle(outcomes[i]!));
}

type Run = { run(): unknown };
const txStatements = new WeakMap<object, { begin: Run; commit: Run; rollback: Run; savepoint: Run; release: Run; rollbackTo: Run }>();
const connectionOf = (ds: DataSource) => sqliteConnection(ds) as unknown as { prepare(sql: string): Run; inTransaction: boolean };
function transactionStatements(ds: DataSource) {
  const db = connectionOf(ds);
  let t = txStatements.get(db);
  if (!t) {
    t = { begin: db.prepare('BEGIN IMMEDIATE'), commit: db.prepare('COMMIT'), rollback: db.prepare('ROLLBACK'), savepoint: db.prepare('SAVEPOINT group_member'), release: db.prepare('RELEASE group_member'), rollbackTo: db.prepare('ROLLBACK TO group_member') };
    txStatements.set(db, t);
  }
  return t;
}
