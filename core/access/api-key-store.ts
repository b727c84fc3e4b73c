import { EntitySchema, type DataSource, type EntityManager } from 'typeorm';
import type { AuditEntry } from '../audit/audit-chain.ts';
import { appendAuditEntry, readAudit, writeWithAudit, type AuditInput, type AuditRow } from '../audit/audit-table.ts';
import { inTransaction, withDb } from '../store/data-source.ts';
import type { Role } from './api-keys.ts';

/** One API key as stored: no secret, only its SHA-256 digest. */
export interface ApiKeyRow {
  id: string;
  role: string;
  /** JSON array of scope strings. */
  scopes: string;
  label: string | null;
  secret_hash: string;
  created_at: string;
  rotated_at: string | null;
  revoked_at: string | null;
}

export interface ApiKey {
  id: string;
  role: Role;
  scopes: string[];
  label: string | null;
  secretHash: string;
  createdAt: string;
  rotatedAt: string | null;
  revokedAt: string | null;
}

const str = (length: number, nullable = false) => ({ type: 'varchar' as const, length, nullable });

/** The table mapping of a service's API keys (`<service>_api_keys`, created by its own numbered migration). */
export function apiKeyTable(tableName: string): EntitySchema<ApiKeyRow> {
  return new EntitySchema<ApiKeyRow>({
    name: tableName,
    tableName,
    columns: {
      id: { ...str(40), primary: true },
      role: str(16),
      scopes: { type: 'text' },
      label: str(200, true),
      secret_hash: str(64),
      created_at: str(40),
      rotated_at: str(40, true),
      revoked_at: str(40, true),
    },
  });
}

const toKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  role: r.role as Role,
  scopes: JSON.parse(r.scopes) as string[],
  label: r.label,
  secretHash: r.secret_hash,
  createdAt: r.created_at,
  rotatedAt: r.rotated_at,
  revokedAt: r.revoked_at,
});

/**
 * A service's hash-chained audit trail (core/audit) as a small port: append in its own transaction
 * or inside another, or together with one write (`writeWith`). Writers in several processes (a
 * service's instances and the API-key CLI) extend the chain without gaps or forks: see
 * core/audit/audit-table.ts appendAuditEntry.
 */
export class AuditLog {
  constructor(
    readonly ds: DataSource,
    readonly table: EntitySchema<AuditRow>,
  ) {}

  async appendIn(m: EntityManager, entry: AuditInput): Promise<AuditEntry> {
    return appendAuditEntry(m, this.table, entry);
  }

  /** One write (`?` placeholders) and its entry, atomically; null when the write changed no row. */
  writeWith(write: { sql: string; params: unknown[] }, entry: AuditInput): Promise<AuditEntry | null> {
    return writeWithAudit(this.ds, this.table, write, entry);
  }

  append(entry: AuditInput): Promise<AuditEntry> {
    return inTransaction(this.ds, (m) => this.appendIn(m, entry));
  }

  entries(): Promise<AuditEntry[]> {
    return withDb(this.ds, (m) => readAudit(m, this.table));
  }
}

/** The API-key port: lookups for authentication, and audited changes for the CLI. */
export class ApiKeyStore {
  readonly audit: AuditLog;

  constructor(
    readonly ds: DataSource,
    readonly tables: { keys: EntitySchema<ApiKeyRow>; audit: EntitySchema<AuditRow> },
  ) {
    this.audit = new AuditLog(ds, tables.audit);
  }

  async find(id: string): Promise<ApiKey | null> {
    const row = await withDb(this.ds, (m) => m.findOneBy(this.tables.keys, { id }));
    return row ? toKey(row) : null;
  }

  async list(): Promise<ApiKey[]> {
    return (await withDb(this.ds, (m) => m.find(this.tables.keys, { order: { created_at: 'ASC', id: 'ASC' } }))).map(toKey);
  }

  /** Stores a new key and audits it (`apikey.create`), in one transaction. */
  create(key: { id: string; role: Role; scopes: string[]; label: string | null; secretHash: string }, at: string, actor: string): Promise<void> {
    return inTransaction(this.ds, async (m) => {
      await m.insert(this.tables.keys, { id: key.id, role: key.role, scopes: JSON.stringify(key.scopes), label: key.label, secret_hash: key.secretHash, created_at: at, rotated_at: null, revoked_at: null });
      await this.audit.appendIn(m, { at, actor, action: 'apikey.create', target: key.id, details: { role: key.role, scopes: key.scopes, label: key.label } });
    });
  }

  /** Replaces the secret of a key that is not revoked (the old secret stops working at once); audited. */
  rotate(id: string, secretHash: string, at: string, actor: string): Promise<boolean> {
    return inTransaction(this.ds, async (m) => {
      const r = await m.createQueryBuilder().update(this.tables.keys).set({ secret_hash: secretHash, rotated_at: at }).where('id = :id AND revoked_at IS NULL', { id }).execute();
      if (r.affected !== 1) return false;
      await this.audit.appendIn(m, { at, actor, action: 'apikey.rotate', target: id, details: {} });
      return true;
    });
  }

  /** Revokes a key for good; audited with the reason. */
  revoke(id: string, at: string, actor: string, reason: string | null): Promise<boolean> {
    return inTransaction(this.ds, async (m) => {
      const r = await m.createQueryBuilder().update(this.tables.keys).set({ revoked_at: at }).where('id = :id AND revoked_at IS NULL', { id }).execute();
      if (r.affected !== 1) return false;
      await this.audit.appendIn(m, { at, actor, action: 'apikey.revoke', target: id, details: { reason } });
      return true;
    });
  }
}
