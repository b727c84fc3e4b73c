import { createHash } from 'node:crypto';
import { QueryFailedError, type DataSource, type EntityManager, type EntitySchema } from 'typeorm';
import { pipelinedQuery, statementKind, type PgResult, type StatementKind } from './pg-pipeline.ts';

/**
 * Hot-path SQL without the ORM (issue 16: in the CPU profile of the issuer under load TypeORM took
 * about a quarter of the busy time: query building, result mapping, and a statement prepared anew
 * whenever it inlined a number into the SQL text, which it does for every numeric parameter).
 *
 * One statement text, `?` placeholders, always bound parameters (never interpolated values):
 * - SQLite (better-sqlite3): each text is prepared once per connection and kept. TypeORM's SQLite
 *   driver has one connection per process and every use of it is taken in turn (withDb /
 *   inTransaction, inGroupCommit, core/store/data-source.ts), so a statement run here inside their
 *   callback is part of that transaction (or commit group), as a TypeORM query would be.
 * - PostgreSQL: `$n` placeholders, as a named prepared statement of the driver (node-postgres): each
 *   connection parses and plans a text once and then only binds and executes it (issue 16: with
 *   PostgreSQL on the same two cores, its processes used about 4 ms of CPU per issuance, a third of
 *   the whole; parsing and planning each statement anew was part of it). Inside a transaction on
 *   that transaction's connection, else on a pipelined connection (core/store/pg-pipeline.ts);
 *   past TypeORM's query runner, whose per-query events and logging we do not use. Errors are
 *   TypeORM's QueryFailedError, as from `m.query`, so callers see one error type.
 */

interface Statement {
  reader: boolean;
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number };
}
interface Connection {
  prepare(sql: string): Statement;
  exec(sql: string): unknown;
}

const statements = new WeakMap<object, Map<string, Statement>>();

const isPg = (m: EntityManager) => m.connection.options.type === 'postgres';

/** The better-sqlite3 connection of a SQLite data source (the one TypeORM uses). */
export function sqliteConnection(ds: DataSource): Connection {
  const db = (ds.driver as unknown as { databaseConnection?: Connection }).databaseConnection;
  if (!db) throw new Error('no SQLite connection');
  return db;
}

function prepared(ds: DataSource, sql: string): Statement {
  const db = sqliteConnection(ds);
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}

/** A statement as node-postgres takes it: `$n` placeholders, and a name while the set of names is small. */
interface PgStatement {
  text: string;
  name?: string;
  /** The pipelined connections it goes to outside a transaction. */
  kind: StatementKind;
}
interface PgQueryable {
  query(config: { text: string; name?: string; values: unknown[] }): Promise<PgResult>;
}
const pgStatements = new Map<string, PgStatement>();
/**
 * Texts that get a name: every connection keeps each named statement until it closes, so the names
 * are bounded. The texts run here are fixed (a few per store method, the completion's per batch
 * size), far fewer than this; beyond it a text is parsed each time, as before.
 */
const MAX_NAMED = 512;

/** `?` placeholders as `$1`, `$2`, …, the statement's name (a hash of the text) and kind, computed once per text. */
function pgStatement(sql: string): PgStatement {
  let st = pgStatements.get(sql);
  if (st === undefined) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    const kind = statementKind(text);
    st = pgStatements.size < MAX_NAMED ? { text, name: `q${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`, kind } : { text, kind };
    pgStatements.set(sql, st);
  }
  return st;
}

async function pgQuery(m: EntityManager, sql: string, params: unknown[]): Promise<PgResult> {
  const { kind, ...st } = pgStatement(sql);
  const config = { ...st, values: params };
  try {
    // In a transaction: its query runner's connection.
    const runner = m.queryRunner as (EntityManager['queryRunner'] & { connect(): Promise<PgQueryable> }) | undefined;
    if (runner && !runner.isReleased) return await (await runner.connect()).query(config);
    // Else on a pipelined connection (core/store/pg-pipeline.ts). A failed statement leaves it
    // open: a unique violation (the audit chain's race for a seq, which is retried) is an answer.
    return await pipelinedQuery(m.connection, config, kind);
  } catch (e) {
    throw new QueryFailedError(st.text, params, e as Error);
  }
}

/** Rows of a SELECT (or of a statement with RETURNING). */
export async function sqlAll<T = Record<string, unknown>>(m: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  if (isPg(m)) return (await pgQuery(m, sql, params)).rows as T[];
  return prepared(m.connection, sql).all(...params) as T[];
}

/** The first row of a SELECT, or undefined. */
export async function sqlOne<T = Record<string, unknown>>(m: EntityManager, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await sqlAll<T>(m, sql, params))[0];
}

/** Runs an INSERT, UPDATE or DELETE; returns the number of rows it changed. */
export async function sqlRun(m: EntityManager, sql: string, params: unknown[] = []): Promise<number> {
  if (isPg(m)) return Number((await pgQuery(m, sql, params)).rowCount ?? 0);
  return prepared(m.connection, sql).run(...params).changes;
}

/** The table name and column names of an entity schema, for statements that follow the schema. */
export function tableOf(schema: EntitySchema<unknown>): { table: string; columns: string[] } {
  const o = schema.options as { tableName?: string; name: string; columns: Record<string, unknown> };
  return { table: o.tableName ?? o.name, columns: Object.keys(o.columns) };
}

/** `INSERT INTO t (c1, …) VALUES (?, …)` over all columns of the schema, and the row's values in that order (absent ones as NULL). */
export function insertAll(schema: EntitySchema<unknown>): { sql: string; values: (row: Record<string, unknown>) => unknown[] } {
  const { table, columns } = tableOf(schema);
  const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  return { sql, values: (row) => columns.map((c) => row[c] ?? null) };
}

/** `SELECT c1, … FROM t` over all columns of the schema. */
export function selectAll(schema: EntitySchema<unknown>): string {
  const { table, columns } = tableOf(schema);
  return `SELECT ${columns.join(', ')} FROM ${table}`;
}
