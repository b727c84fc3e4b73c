import { EntitySchema, type EntityManager } from 'typeorm';
import { GENESIS, sealEntry, type AuditEntry } from './audit-chain.ts';

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

/** Appends the next entry of the chain; call inside the write's transaction (the unique seq guards races). */
export async function appendAuditEntry(m: EntityManager, table: EntitySchema<AuditRow>, input: AuditInput): Promise<AuditEntry> {
  const last = await lastAuditEntry(m, table);
  const entry = sealEntry({ seq: (last?.seq ?? 0) + 1, ...input, prev_hash: last?.hash ?? GENESIS });
  await m.insert(table, { ...entry, details: JSON.stringify(entry.details) });
  return entry;
}

export async function readAudit(m: EntityManager, table: EntitySchema<AuditRow>): Promise<AuditEntry[]> {
  return (await m.find(table, { order: { seq: 'ASC' } })).map(toEntry);
}
