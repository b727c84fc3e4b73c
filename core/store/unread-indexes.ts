import { type QueryRunner, TableUnique } from 'typeorm';

/**
 * Drops the UNIQUE constraint on one column, if the table has one (issue 16: indexes nothing reads).
 *
 * Through TypeORM's query runner, so each database does what it needs: PostgreSQL drops the
 * constraint (`ALTER TABLE … DROP CONSTRAINT`); SQLite cannot drop a constraint written into
 * `CREATE TABLE`, so TypeORM rebuilds the table (a copy without it, rows copied, renamed back; with
 * foreign keys off for the migrations, so tables that refer to it keep their rows).
 */
export async function dropColumnUnique(q: QueryRunner, tableName: string, column: string): Promise<void> {
  // The table as it is now, not the query runner's cached copy: an earlier migration may have changed it by SQL.
  const table = await q.getTable(tableName);
  const unique = table?.uniques.find((u) => u.columnNames.length === 1 && u.columnNames[0] === column);
  if (table && unique) await q.dropUniqueConstraint(table, unique);
}

/** The way back (a migration's `down`): the column's UNIQUE constraint again. */
export async function addColumnUnique(q: QueryRunner, tableName: string, column: string): Promise<void> {
  const table = await q.getTable(tableName);
  if (table) await q.createUniqueConstraint(table, new TableUnique({ columnNames: [column] }));
}
