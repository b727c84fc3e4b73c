import { EntitySchema, type DataSource, type EntityManager } from 'typeorm';
import { jcs } from '../crypto/canonical.ts';
import { inGroupCommit } from '../store/data-source.ts';
import { Mutex } from '../util/mutex.ts';
import { GENESIS, sealEntry, type AuditEntry } from './audit-chain.ts';
import { sqlAll, sqlOne, sqlRun, tableOf } from '../store/prepared.ts';

/** One row of a hash-chained audit trail (details as JSON text, the same on SQLite and PostgreSQL). */
export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export type AuditInput = Omit<AuditEntry, 'seq' | 'prev_hash' | 'hash'>;

const str = (length: number) => ({ type: 'varchar' as const, length });

/** The table mapping of an audit trail; each service names its own table. */
export function auditTable(tableName: string): EntitySchema<AuditRow> {
  return new EntitySchema<AuditRow>({
    name: tableName,
    tableName,
    columns: { seq: { type: 'integer', primary: true }, at: str(40), actor: str(200), action: str(64), target: str(512), details: { type: 'text' }, prev_hash: str(64), hash: str(64) },
  });
}

/** A row as a chain entry; details that are no longer JSON (edited in the database) stay as text, so the hash check reports them. */
export const toEntry = (r: AuditRow): AuditEntry => {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(r.details) as Record<string, unknown>;
  } catch {
    details = { unreadable: r.details };
  }
  return { ...r, details };
};

export async function lastAuditEntry(m: EntityManager, table: EntitySchema<AuditRow>): Promise<AuditEntry | undefined> {
  const [row] = await m.find(table, { order: { seq: 'DESC' }, take: 1 });
  return row ? toEntry(row) : undefined;
}

/**
 * Appends the next entry of the chain inside the caller's transaction.
 *
 * SQLite: reads the head (seq, hash) and writes with one prepared INSERT; transactions begin
 * IMMEDIATE, so writers take turns (core/store/data-source.ts).
 *
 * PostgreSQL (a pool, several instances): one statement that reads the head, hashes and inserts
 * (`pgAppend`), `ON CONFLICT (seq) DO NOTHING`. Two writers that read the same head both aim at
 * seq + 1; the primary key lets one in, the other waits for it to commit, inserts nothing, and
 * runs the statement again (READ COMMITTED: the next statement sees the new head). No table lock:
 * an earlier `LOCK TABLE … SHARE ROW EXCLUSIVE` held to commit made every offer and every request
 * of every instance wait for each other (issue 16: the audit chain must not be the serial bottleneck).
 */
export async function appendAuditEntry(m: EntityManager, table: EntitySchema<AuditRow>, input: AuditInput): Promise<AuditEntry> {
  const { table: name } = tableOf(table as EntitySchema<unknown>);
  if (m.connection.options.type === 'postgres') {
    const append = pgAppend(name, input);
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const [row] = await sqlAll<AppendedRow>(m, append.sql, append.params);
      if (row) return appended(row, input);
    }
    throw new Error('audit chain: no free sequence number after repeated attempts');
  }
  const head = await sqlOne<{ seq: number | string; hash: string }>(m, `SELECT seq, hash FROM ${name} ORDER BY seq DESC LIMIT 1`);
  const entry = sealEntry({ seq: head ? Number(head.seq) + 1 : 1, ...entryFields(input), prev_hash: head?.hash ?? GENESIS });
  await sqlRun(m, `INSERT INTO ${name} (seq, at, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [entry.seq, entry.at, entry.actor, entry.action, entry.target, JSON.stringify(entry.details), entry.prev_hash, entry.hash]);
  return entry;
}

/** Writers racing for one seq on PostgreSQL: each attempt loses only to a writer that committed. */
const MAX_APPEND_ATTEMPTS = 100;

/** Exactly the fields of an entry (an input object with more keys would hash differently from what is stored). */
const entryFields = (i: AuditInput): AuditInput => ({ at: i.at, actor: i.actor, action: i.action, target: i.target, details: i.details });

/** What the PostgreSQL append returns, and the entry it stands for. */
type AppendedRow = { seq: number | string; prev_hash: string; hash: string };
const appended = (row: AppendedRow, input: AuditInput): AuditEntry => ({ seq: Number(row.seq), ...entryFields(input), prev_hash: row.prev_hash, hash: row.hash });

/**
 * One PostgreSQL statement that appends `input` after the current head: seq = head + 1, prev_hash =
 * head's hash, hash = SHA-256 (lowercase hex) of the entry in JSON canonical form, as `hashEntry`
 * computes it. RFC 8785 orders the members action, actor, at, details, prev_hash, seq, target; the
 * parts around prev_hash and seq are canonicalised here, the two values are spliced in by the
 * database (a seq is a non-negative integer, whose canonical form is its decimal digits).
 *
 * Alone, a lost race inserts nothing (`ON CONFLICT (seq) DO NOTHING`). With `write` (writeWithAudit)
 * the write is a data-modifying WITH clause, its `?` first, the entry is appended only if it changed
 * a row, and a lost race fails the whole statement, so the write is undone with it.
 */
function pgAppend(name: string, input: AuditInput, write?: { sql: string; params: unknown[] }): { sql: string; params: unknown[] } {
  const e = entryFields(input);
  const before = `{"action":${jcs(e.action)},"actor":${jcs(e.actor)},"at":${jcs(e.at)},"details":${jcs(e.details)},"prev_hash":"`;
  const after = `,"target":${jcs(e.target)}}`;
  const sql =
    (write ? `WITH w AS (${write.sql} RETURNING 1) ` : '') +
    `INSERT INTO ${name} (seq, at, actor, action, target, details, prev_hash, hash) ` +
    `SELECT h.seq + 1, ?, ?, ?, ?, ?, h.hash, encode(sha256(convert_to(CAST(? AS text) || h.hash || '","seq":' || (h.seq + 1)::text || CAST(? AS text), 'UTF8')), 'hex') ` +
    `FROM (SELECT 0 AS seq, '${GENESIS}' AS hash UNION ALL (SELECT seq, hash FROM ${name} ORDER BY seq DESC LIMIT 1) ORDER BY seq DESC LIMIT 1) h ` +
    (write ? 'WHERE EXISTS (SELECT 1 FROM w) ' : 'ON CONFLICT (seq) DO NOTHING ') +
    'RETURNING seq, prev_hash, hash';
  return { sql, params: [...(write?.params ?? []), e.at, e.actor, e.action, e.target, JSON.stringify(e.details), before, after] };
}

/**
 * Runs one write (an INSERT or UPDATE with `?` placeholders, no RETURNING) and appends its audit
 * entry, atomically; the entry only when the write changed a row. Returns the entry, or null when
 * the write changed nothing.
 *
 * SQLite: both in one transaction. PostgreSQL: one statement, the write as a data-modifying WITH
 * clause (issue 16: four round trips and a transaction fewer on every offer and request). If the
 * seq was taken meanwhile, the statement fails as a whole on the chain's primary key (nothing is
 * kept, not even the write) and runs again.
 */
export async function writeWithAudit(ds: DataSource, table: EntitySchema<AuditRow>, write: { sql: string; params: unknown[] }, input: AuditInput): Promise<AuditEntry | null> {
  if (ds.options.type !== 'postgres') {
    // One member of a group commit (core/store/data-source.ts): the write and its entry in one savepoint.
    return inGroupCommit(ds, async (m) => ((await sqlRun(m, write.sql, write.params)) === 0 ? null : appendAuditEntry(m, table, input)));
  }
  const { table: name } = tableOf(table as EntitySchema<unknown>);
  const statement = pgAppend(name, input, write);
  // Within one process the appends take turns (one statement each, committed when it returns):
  // racing all of them for one seq made each wait for the winner and try again, so n concurrent
  // offers cost about n² attempts (measured: the two-instance bench fell from 72 to 37 offers/s).
  // Races between processes (instances, the CLI) remain, and the key settles them.
  return turnOf(ds, name).run(async () => {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      try {
        const [row] = await sqlAll<AppendedRow>(ds.manager, statement.sql, statement.params);
        return row ? appended(row, input) : null;
      } catch (e) {
        if (!isSeqConflict(e, name)) throw e;
      }
    }
    throw new Error('audit chain: no free sequence number after repeated attempts');
  });
}

const turns = new WeakMap<DataSource, Map<string, Mutex>>();
/** The turn of one process's appends to one chain (per data source and table). */
function turnOf(ds: DataSource, table: string): Mutex {
  let byTable = turns.get(ds);
  if (!byTable) turns.set(ds, (byTable = new Map()));
  let turn = byTable.get(table);
  if (!turn) byTable.set(table, (turn = new Mutex()));
  return turn;
}

/** A unique violation (SQLSTATE 23505) on the audit table itself: another writer took the seq. */
function isSeqConflict(e: unknown, table: string): boolean {
  const d = (e as { driverError?: { code?: string; table?: string } }).driverError ?? (e as { code?: string; table?: string });
  return d?.code === '23505' && d.table === table;
}

export async function readAudit(m: EntityManager, table: EntitySchema<AuditRow>): Promise<AuditEntry[]> {
  return (await m.find(table, { order: { seq: 'ASC' } })).map(toEntry);
}
