import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/**
 * 0004: full credential type definitions (issue 15: claims, labels, validity, colours), append-only
 * like every registry row. Each PUT that changes a definition adds a version; the newest version of
 * an id is the definition. `vct` never changes for an id (grants name the vct).
 */
export class Registry0004TypeDefinitions1764100000004 implements MigrationInterface {
  name = 'Registry0004TypeDefinitions1764100000004';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'registry_type_definitions',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          v('type_id', 64),
          v('vct', 512),
          { name: 'definition', type: 'text' },
          v('recorded_at', 40),
          v('actor', 200),
        ],
      }),
    );
    await q.createIndex('registry_type_definitions', new TableIndex({ name: 'idx_registry_type_definitions_id', columnNames: ['type_id', 'seq'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('registry_type_definitions');
  }
}
