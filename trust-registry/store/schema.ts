import { EntitySchema } from 'typeorm';
import { auditTable } from '../../core/audit/audit-table.ts';

/**
 * Table mappings of the registry (EntitySchema rather than decorators: no reliance on decorator
 * metadata under tsx). JSON members are stored as text so SQLite and PostgreSQL read the same.
 * Dates are RFC 3339 strings in UTC: sortable and identical on both databases.
 */

export interface EntityRow {
  id: string;
  kind: string;
  name_de: string;
  name_en: string;
  jwks: string | null;
  created_at: string;
}

export interface CredentialTypeRow {
  vct: string;
  name_de: string;
  name_en: string;
  issued_before_suspension: string;
  w3c_types: string | null;
  created_at: string;
}

export interface GrantRow {
  id: string;
  authority_id: string;
  entity_id: string;
  action: string;
  resource: string;
  valid_from: string;
  valid_until: string | null;
  constraints: string;
  statement: string;
  created_at: string;
  /** Why the grant's validity starts before it was recorded (an administrator's correction), else null. */
  correction?: string | null;
}

export interface GrantStatusRow {
  id?: number;
  grant_id: string;
  status: string;
  reason: string;
  effective_at: string;
  recorded_at: string;
  actor: string;
  /** Why the change takes effect before it was recorded (an administrator's correction), else null. */
  correction?: string | null;
}


export interface SnapshotRow {
  seq: number;
  iat: number;
  next_update: number;
  prev_hash: string;
  hash: string;
  jws: string;
}

const str = (length: number, nullable = false) => ({ type: 'varchar' as const, length, nullable });

export const EntityTable = new EntitySchema<EntityRow>({
  name: 'registry_entity',
  tableName: 'registry_entities',
  columns: {
    id: { ...str(512), primary: true },
    kind: str(32),
    name_de: str(200),
    name_en: str(200),
    jwks: { type: 'text', nullable: true },
    created_at: str(40),
  },
});

export const CredentialTypeTable = new EntitySchema<CredentialTypeRow>({
  name: 'registry_credential_type',
  tableName: 'registry_credential_types',
  columns: {
    vct: { ...str(512), primary: true },
    name_de: str(200),
    name_en: str(200),
    issued_before_suspension: str(16),
    w3c_types: { type: 'text', nullable: true },
    created_at: str(40),
  },
});

export const GrantTable = new EntitySchema<GrantRow>({
  name: 'registry_grant',
  tableName: 'registry_grants',
  columns: {
    id: { ...str(64), primary: true },
    authority_id: str(512),
    entity_id: str(512),
    action: str(32),
    resource: str(512),
    valid_from: str(40),
    valid_until: str(40, true),
    constraints: { type: 'text' },
    statement: { type: 'text' },
    created_at: str(40),
    correction: str(500, true),
  },
});

export const GrantStatusTable = new EntitySchema<GrantStatusRow>({
  name: 'registry_grant_status',
  tableName: 'registry_grant_status',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    grant_id: str(64),
    status: str(16),
    reason: str(500),
    effective_at: str(40),
    recorded_at: str(40),
    actor: str(200),
    correction: str(500, true),
  },
});

/** One version of a credential type's full definition (core/catalog/model.ts), newest per type_id wins. */
export interface TypeDefinitionRow {
  seq?: number;
  type_id: string;
  vct: string;
  /** CredentialTypeDef as JSON; validated again when read. */
  definition: string;
  recorded_at: string;
  actor: string;
}

export const TypeDefinitionTable = new EntitySchema<TypeDefinitionRow>({
  name: 'registry_type_definition',
  tableName: 'registry_type_definitions',
  columns: {
    seq: { type: 'integer', primary: true, generated: 'increment' },
    type_id: str(64),
    vct: str(512),
    definition: { type: 'text' },
    recorded_at: str(40),
    actor: str(200),
  },
});

export const AuditTable = auditTable('registry_audit');

export const SnapshotTable = new EntitySchema<SnapshotRow>({
  name: 'registry_snapshot',
  tableName: 'registry_snapshots',
  columns: {
    seq: { type: 'integer', primary: true },
    iat: { type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } },
    next_update: { type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } },
    prev_hash: str(64),
    hash: str(64),
    jws: { type: 'text' },
  },
});

export const registryTables = [EntityTable, CredentialTypeTable, GrantTable, GrantStatusTable, AuditTable, SnapshotTable, TypeDefinitionTable];
