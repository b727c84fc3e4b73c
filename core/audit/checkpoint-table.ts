import { EntitySchema, MoreThanOrEqual, type EntityManager } from 'typeorm';
import type { AuditEntry } from './audit-chain.ts';
import { toEntry, type AuditRow } from './audit-table.ts';

/** One signed checkpoint of an audit trail (core/audit/checkpoint.ts), stored as its compact JWS. */
export interface CheckpointRow {
  seq: number;
  jws: string;
}

/** The table mapping of a trail's checkpoints; each service names its own table (`<service>_audit_checkpoints`). */
export function checkpointTable(tableName: string): EntitySchema<CheckpointRow> {
  return new EntitySchema<CheckpointRow>({ name: tableName, tableName, columns: { seq: { type: 'integer', primary: true }, jws: { type: 'text' } } });
}

export async function lastCheckpoint(m: EntityManager, table: EntitySchema<CheckpointRow>): Promise<CheckpointRow | undefined> {
  const [row] = await m.find(table, { order: { seq: 'DESC' }, take: 1 });
  return row ?? undefined;
}

export function readCheckpoints(m: EntityManager, table: EntitySchema<CheckpointRow>): Promise<CheckpointRow[]> {
  return m.find(table, { order: { seq: 'ASC' } });
}

/** Entries from `seq` on, in order: what a new checkpoint must show extends the last one. */
export async function auditEntriesFrom(m: EntityManager, table: EntitySchema<AuditRow>, seq: number): Promise<AuditEntry[]> {
  const rows = await m.find(table, { where: { seq: MoreThanOrEqual(seq) }, order: { seq: 'ASC' } });
  return rows.map(toEntry);
}
