import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { Registry0002ApiKeys1764100000002 } from './0002-api-keys.ts';
import { Registry0003Corrections1764100000003 } from './0003-corrections.ts';
import { Registry0004TypeDefinitions1764100000004 } from './0004-type-definitions.ts';
import { Registry0005AuditHashIndex1764100000005 } from './0005-audit-hash-index.ts';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });
const text = (name: string, nullable = false) => ({ name, type: 'text', isNullable: nullable });

/** 0001: the registry's tables. Never edit once released; add a new numbered migration instead. */
export class Registry0001Init1764100000001 implements MigrationInterface {
  name = 'Registry0001Init1764100000001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'registry_entities',
        columns: [v('id', 512, { isPrimary: true }), v('kind', 32), v('name_de', 200), v('name_en', 200), text('jwks', true), v('created_at', 40)],
      }),
    );
    await q.createTable(
      new Table({
        name: 'registry_credential_types',
        columns: [v('vct', 512, { isPrimary: true }), v('name_de', 200), v('name_en', 200), v('issued_before_suspension', 16), text('w3c_types', true), v('created_at', 40)],
      }),
    );
    await q.createTable(
      new Table({
        name: 'registry_grants',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('authority_id', 512),
          v('entity_id', 512),
          v('action', 32),
          v('resource', 512),
          v('valid_from', 40),
          v('valid_until', 40, { isNullable: true }),
          text('constraints'),
          text('statement'),
          v('created_at', 40),
        ],
        foreignKeys: [
          { columnNames: ['entity_id'], referencedTableName: 'registry_entities', referencedColumnNames: ['id'] },
        ],
      }),
    );
    await q.createIndex('registry_grants', new TableIndex({ name: 'idx_registry_grants_entity', columnNames: ['entity_id', 'action'] }));
    await q.createIndex('registry_grants', new TableIndex({ name: 'idx_registry_grants_authority', columnNames: ['authority_id'] }));
    await q.createTable(
      new Table({
        name: 'registry_grant_status',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          v('grant_id', 64),
          v('status', 16),
          v('reason', 500),
          v('effective_at', 40),
          v('recorded_at', 40),
          v('actor', 200),
        ],
        foreignKeys: [{ columnNames: ['grant_id'], referencedTableName: 'registry_grants', referencedColumnNames: ['id'] }],
      }),
    );
    await q.createIndex('registry_grant_status', new TableIndex({ name: 'idx_registry_grant_status_grant', columnNames: ['grant_id'] }));
    await q.createTable(
      new Table({
        name: 'registry_audit',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true },
          v('at', 40),
          v('actor', 200),
          v('action', 64),
          v('target', 512),
          text('details'),
          v('prev_hash', 64),
          v('hash', 64, { isUnique: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'registry_snapshots',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true },
          { name: 'iat', type: 'bigint' },
          { name: 'next_update', type: 'bigint' },
          v('prev_hash', 64),
          v('hash', 64, { isUnique: true }),
          text('jws'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['registry_snapshots', 'registry_audit', 'registry_grant_status', 'registry_grants', 'registry_credential_types', 'registry_entities']) await q.dropTable(t);
  }
}

export const registryMigrations = [Registry0001Init1764100000001, Registry0002ApiKeys1764100000002, Registry0003Corrections1764100000003, Registry0004TypeDefinitions1764100000004, Registry0005AuditHashIndex1764100000005];
