import type { DataSource, EntityManager, EntitySchema } from 'typeorm';

/**
 * Hot-path SQL without the ORM (issue 16: in the CPU profile of the issuer under load TypeORM took
 * about a quarter of the busy time: query building, result mapping, and a statement prepared anew
 * whenever it inlined a number into the SQL text, which it does for every numeric parameter).
 *
 * One statement text, `?` placeholders, always bound parameters (never interpolated values):
 * - SQLite (better-sqlite3): each text is prepared once per connection and kept. TypeORM's SQLite
 *   driver has one connection per process and every use of it is taken in turn (withDb /
 *   inTransaction, core/store/data-source.ts), so a statement run here inside inTransaction's
 *   callback is part of that transaction, as a TypeORM query would be.
 * - PostgreSQL: `$n` placeholders, run through the caller's EntityManager, so inside a transaction
 *   on that transaction's connection.
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
const pgTexts = new Map<string, string>();

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

/** `?` placeholders as `$1`, `$2`, … (PostgreSQL), computed once per text. */
function pgText(sql: string): string {
  let text = pgTexts.get(sql);
  if (text === undefined) {
    let n = 0;
    pgTexts.set(sql, (text = sql.replace(/\?/g, () => `$${++n}`)));
  }
  return text;
}

/** Rows of a SELECT (or of a statement with RETURNING). */
export async function sqlAll<T = Record<string, unknown>>(m: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  if (isPg(m)) return (await m.query(pgText(sql), params)) as T[];
  return prepared(m.connection, sql).all(...params) as T[];
}

/** The first row of a SELECT, or undefined. */
export async function sqlOne<T = Record<string, unknown>>(m: EntityManager, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await sqlAll<T>(m, sql, params))[0];
}

/** Runs an INSERT, UPDATE or DELETE; returns the number of rows it changed. */
export async function sqlRun(m: EntityManager, sql: string, params: unknown[] = []): Promise<number> {
  if (isPg(m)) {
    // The structured result carries the row count for INSERT as well (the plain one only for UPDATE and DELETE).
    const qr = m.queryRunner ?? m.connection.createQueryRunner();
    try {
      const r = (await qr.query(pgText(sql), params, true)) as { affected?: number | null };
      return Number(r.affected ?? 0);
    } finally {
      if (qr !== m.queryRunner) await qr.release();
    }
  }
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
