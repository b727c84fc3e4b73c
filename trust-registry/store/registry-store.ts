import type { DataSource, EntityManager } from 'typeorm';
import { inTransaction, withDb } from '../../core/store/data-source.ts';
import type { CredentialType, Entity, Grant, GrantConstraints, RegistryState, StatusEvent } from '../../core/trust/model.ts';
import type { AuditEntry } from '../../core/audit/audit-chain.ts';
import { appendAuditEntry, lastAuditEntry, readAudit, type AuditInput } from '../../core/audit/audit-table.ts';
import { zCredentialTypeDef, type CredentialTypeDef } from '../../core/catalog/model.ts';
import { typeMetadataIntegrity } from '../../core/catalog/type-metadata.ts';
import {
  AuditTable,
  CredentialTypeTable,
  TypeDefinitionTable,
  EntityTable,
  GrantStatusTable,
  GrantTable,
  SnapshotTable,
  type GrantStatusRow,
  type SnapshotRow,
} from './schema.ts';

/** When a grant and each of its status changes were recorded, and which of them were corrections (issue 18). */
export interface GrantRecord {
  recorded_at: string;
  /** The reason of a correction: the grant's validity starts before it was recorded. */
  correction: string | null;
  /** Per status event, in the order of the grant's history. */
  history: { correction: string | null }[];
}

/**
 * The registry's storage port over TypeORM (SQLite or PostgreSQL). Reads take an optional
 * EntityManager so a write unit can read its own uncommitted rows. Rows are append-only except
 * that nothing is ever updated: status changes and audit entries are new rows.
 */
export class RegistryStore {
  constructor(readonly ds: DataSource) {}

  /**
   * Runs `fn` in one database transaction. Writes extend the audit chain and the snapshot sequence,
   * so on PostgreSQL (several instances) the transaction first takes a table lock that serialises
   * writers across processes; SQLite allows one writer at a time anyway.
   */
  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return inTransaction(this.ds, async (m) => {
      if (this.ds.options.type === 'postgres') await m.query('LOCK TABLE registry_audit IN SHARE ROW EXCLUSIVE MODE');
      return fn(m);
    });
  }

  /** Reads the whole state; inside a write unit pass its manager, otherwise it takes the connection in turn. */
  loadState(rootAuthority: string, m?: EntityManager): Promise<RegistryState> {
    return m ? this.readState(rootAuthority, m) : withDb(this.ds, (mm) => this.readState(rootAuthority, mm));
  }

  private async readState(rootAuthority: string, m: EntityManager): Promise<RegistryState> {
    // Sequential: inside a transaction all queries share one connection.
    const entities = await m.find(EntityTable, { order: { id: 'ASC' } });
    const types = await m.find(CredentialTypeTable, { order: { vct: 'ASC' } });
    const grants = await m.find(GrantTable, { order: { created_at: 'ASC', id: 'ASC' } });
    const statuses = await m.find(GrantStatusTable, { order: { id: 'ASC' } });
    const definitions = await this.readTypeDefinitions(m);
    const byVct = new Map([...definitions.values()].map((d) => [d.vct, d]));
    const history = new Map<string, StatusEvent[]>();
    for (const s of statuses) {
      const list = history.get(s.grant_id) ?? [];
      list.push({ status: s.status as StatusEvent['status'], reason: s.reason, effective_at: s.effective_at, recorded_at: s.recorded_at });
      history.set(s.grant_id, list);
    }
    return {
      authority_id: rootAuthority,
      entities: entities.map<Entity>((e) => ({
        id: e.id,
        kind: e.kind as Entity['kind'],
        name: { de: e.name_de, en: e.name_en },
        ...(e.jwks ? { jwks: JSON.parse(e.jwks) } : {}),
      })),
      credential_types: types.map<CredentialType>((t) => {
        // A full definition (issue 15, PUT /api/catalog/credential-types/{id}) carries the current
        // name, suspension rule and W3C type; the row keeps what the type was registered with.
        const d = byVct.get(t.vct);
        const w3c = d?.w3c_type ? [d.w3c_type] : t.w3c_types ? (JSON.parse(t.w3c_types) as string[]) : undefined;
        return {
          vct: t.vct,
          name: d ? d.name : { de: t.name_de, en: t.name_en },
          issued_before_suspension: (d ? d.issued_before_suspension : t.issued_before_suspension) as CredentialType['issued_before_suspension'],
          ...(w3c ? { w3c_types: w3c } : {}),
          // draft-ietf-oauth-sd-jwt-vc "Integrity of Referenced Documents": over the octets /vct/<id> serves.
          ...(d ? { 'vct#integrity': typeMetadataIntegrity(d) } : {}),
        };
      }),
      grants: grants.map<Grant>((g) => ({
        id: g.id,
        authority_id: g.authority_id,
        entity_id: g.entity_id,
        action: g.action as Grant['action'],
        resource: g.resource,
        valid_from: g.valid_from,
        valid_until: g.valid_until,
        constraints: JSON.parse(g.constraints) as GrantConstraints,
        statement: g.statement,
        history: history.get(g.id) ?? [],
      })),
    };
  }

  async insertEntity(m: EntityManager, e: Entity, at: string): Promise<void> {
    await m.insert(EntityTable, { id: e.id, kind: e.kind, name_de: e.name.de, name_en: e.name.en, jwks: e.jwks ? JSON.stringify(e.jwks) : null, created_at: at });
  }

  async insertCredentialType(m: EntityManager, t: CredentialType, at: string): Promise<void> {
    await m.insert(CredentialTypeTable, {
      vct: t.vct,
      name_de: t.name.de,
      name_en: t.name.en,
      issued_before_suspension: t.issued_before_suspension,
      w3c_types: t.w3c_types ? JSON.stringify(t.w3c_types) : null,
      created_at: at,
    });
  }

  /** The newest definition of each credential type by id (issue 15), validated again on read. */
  typeDefinitions(m?: EntityManager): Promise<Map<string, CredentialTypeDef>> {
    return m ? this.readTypeDefinitions(m) : withDb(this.ds, (mm) => this.readTypeDefinitions(mm));
  }

  /** Number of definition versions stored: the catalogue's revision. */
  typeDefinitionRevision(m?: EntityManager): Promise<number> {
    const read = async (mm: EntityManager) => (await mm.find(TypeDefinitionTable, { select: { seq: true }, order: { seq: 'DESC' }, take: 1 }))[0]?.seq ?? 0;
    return m ? read(m) : withDb(this.ds, read);
  }

  private async readTypeDefinitions(m: EntityManager): Promise<Map<string, CredentialTypeDef>> {
    const rows = await m.find(TypeDefinitionTable, { order: { seq: 'DESC' } });
    const newest = new Map<string, CredentialTypeDef>();
    for (const r of rows) {
      if (newest.has(r.type_id)) continue;
      // A row that no longer parses or validates (edited in the database) is not served; the version before it is.
      let raw: unknown;
      try {
        raw = JSON.parse(r.definition);
      } catch {
        continue;
      }
      const parsed = zCredentialTypeDef.safeParse(raw);
      if (parsed.success && parsed.data.id === r.type_id && parsed.data.vct === r.vct) newest.set(r.type_id, parsed.data);
    }
    // First definition order (oldest id first), so listings stay stable when a type changes.
    const firstSeen = [...new Set(rows.map((r) => r.type_id).reverse())];
    return new Map(firstSeen.filter((id) => newest.has(id)).map((id) => [id, newest.get(id)!]));
  }

  async insertTypeDefinition(m: EntityManager, d: CredentialTypeDef, at: string, actor: string): Promise<void> {
    await m.insert(TypeDefinitionTable, { type_id: d.id, vct: d.vct, definition: JSON.stringify(d), recorded_at: at, actor });
  }

  async insertGrant(m: EntityManager, g: Omit<Grant, 'history'>, at: string, correction: string | null = null): Promise<void> {
    await m.insert(GrantTable, {
      id: g.id,
      authority_id: g.authority_id,
      entity_id: g.entity_id,
      action: g.action,
      resource: g.resource,
      valid_from: g.valid_from,
      valid_until: g.valid_until,
      constraints: JSON.stringify(g.constraints),
      statement: g.statement,
      created_at: at,
      correction,
    });
  }

  async appendStatus(m: EntityManager, row: GrantStatusRow): Promise<void> {
    await m.insert(GrantStatusTable, row);
  }

  /** Recording times and corrections per grant id, with the status rows in the order readState uses. */
  loadRecords(m?: EntityManager): Promise<Map<string, GrantRecord>> {
    const read = async (mm: EntityManager) => {
      const grants = await mm.find(GrantTable, { select: { id: true, created_at: true, correction: true } });
      const statuses = await mm.find(GrantStatusTable, { select: { id: true, grant_id: true, correction: true }, order: { id: 'ASC' } });
      const records = new Map<string, GrantRecord>();
      for (const g of grants) records.set(g.id, { recorded_at: g.created_at, correction: g.correction ?? null, history: [] });
      for (const s of statuses) records.get(s.grant_id)?.history.push({ correction: s.correction ?? null });
      return records;
    };
    return m ? read(m) : withDb(this.ds, read);
  }

  lastAudit(m: EntityManager): Promise<AuditEntry | undefined> {
    return lastAuditEntry(m, AuditTable);
  }

  appendAudit(m: EntityManager, e: AuditInput): Promise<AuditEntry> {
    return appendAuditEntry(m, AuditTable, e);
  }

  auditEntries(): Promise<AuditEntry[]> {
    return withDb(this.ds, (m) => readAudit(m, AuditTable));
  }

  latestSnapshot(m?: EntityManager): Promise<SnapshotRow | undefined> {
    const read = async (mm: EntityManager) => (await mm.find(SnapshotTable, { order: { seq: 'DESC' }, take: 1 }))[0];
    return m ? read(m) : withDb(this.ds, read);
  }

  async insertSnapshot(m: EntityManager, row: SnapshotRow): Promise<void> {
    await m.insert(SnapshotTable, row);
  }
}
