import { EntitySchema, type EntityManager } from 'typeorm';
import { GENESIS, sealEntry, type AuditEntry } from './audit-chain.ts';
import { sqlOne, sqlRun, tableOf } from '../store/prepared.ts';

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
 * Appends the next entry of the chain; call inside the write's transaction (the unique seq guards races).
 * Reads only the head (seq, hash) and writes with one prepared INSERT (issue 16: it runs on every
 * offer, request and admin action; the ORM's find and insert showed in the profile).
 */
export async function appendAuditEntry(m: EntityManager, table: EntitySchema<AuditRow>, input: AuditInput): Promise<AuditEntry> {
  const { table: name } = tableOf(table as EntitySchema<unknown>);
  const head = await sqlOne<{ seq: number | string; hash: string }>(m, `SELECT seq, hash FROM ${name} ORDER BY seq DESC LIMIT 1`);
  const entry = sealEntry({ seq: head ? Number(head.seq) + 1 : 1, ...input, prev_hash: head?.hash ?? GENESIS });
  await sqlRun(m, `INSERT INTO ${name} (seq, at, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [entry.seq, entry.at, entry.actor, entry.action, entry.target, JSON.stringify(entry.details), entry.prev_hash, entry.hash]);
  return entry;
}

export async function readAudit(m: EntityManager, table: EntitySchema<AuditRow>): Promise<AuditEntry[]> {
  return (await m.find(table, { order: { seq: 'ASC' } })).map(toEntry);
}
