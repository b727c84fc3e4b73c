import 'reflect-metadata';
import { chmodSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Entities as VeramoEntities, migrations as veramoMigrations } from '@veramo/data-store';
import { DataSource, type EntitySchema, type MixedList, type MigrationInterface } from 'typeorm';

/**
 * One TypeORM data source per service: embedded SQLite under DATA_DIR by default, PostgreSQL when
 * DATABASE_URL is set (each service in its own schema, so services never read each other's tables).
 * Schema changes only by numbered migrations; `synchronize` is never on.
 */

export interface DataSourceOptions {
  /** Service name: SQLite file name and PostgreSQL schema. */
  name: string;
  dataDir: string;
  databaseUrl?: string | undefined;
  entities: MixedList<EntitySchema | (new () => unknown)>;
  migrations: (new () => MigrationInterface)[];
  /** Include Veramo's key, DID and credential tables (and their migrations). */
  veramo?: boolean;
  /** Use a throwaway in-memory SQLite database (tests of a single store). */
  inMemory?: boolean;
}

export async function openDataSource(opts: DataSourceOptions): Promise<DataSource> {
  const entities = [...(opts.veramo ? (VeramoEntities as unknown[]) : []), ...(opts.entities as unknown[])] as MixedList<EntitySchema>;
  const migrations = [...(opts.veramo ? (veramoMigrations as unknown as (new () => MigrationInterface)[]) : []), ...opts.migrations];
  let ds: DataSource;
  if (opts.databaseUrl) {
    const schema = opts.name.replace(/[^a-z0-9_]/g, '_');
    await ensurePgSchema(opts.databaseUrl, schema);
    ds = new DataSource({
      type: 'postgres',
      url: opts.databaseUrl,
      schema,
      extra: { options: `-c search_path=${schema}`, max: 10 },
      entities,
      migrations,
      migrationsRun: false,
      migrationsTransactionMode: 'each',
      synchronize: false,
      logging: false,
    });
  } else {
    let database = ':memory:';
    if (!opts.inMemory) {
      mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
      database = join(opts.dataDir, `${opts.name}.sqlite`);
      // Owner-only from the first byte: SQLite gives its -wal and -shm files the same mode.
      closeSync(openSync(database, 'a', 0o600));
      chmodSync(database, 0o600);
    }
    ds = new DataSource({
      type: 'sqlite',
      database,
      enableWAL: !opts.inMemory,
      busyTimeout: 5000,
      entities,
      migrations,
      migrationsRun: false,
      migrationsTransactionMode: 'each',
      synchronize: false,
      logging: false,
    });
  }
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}

async function ensurePgSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}
