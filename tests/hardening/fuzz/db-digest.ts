import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';

const all = (db: sqlite3.Database, sql: string) =>
  new Promise<Record<string, unknown>[]>((resolve, reject) => db.all(sql, (e, rows) => (e ? reject(e) : resolve(rows as Record<string, unknown>[]))));

/**
 * SHA-256 per table over every row of every SQLite file under `dir`, read through a second
 * connection (WAL: it sees what the services committed). Two digests that differ name the table.
 */
export async function sqliteDigest(dir: string, skipTables: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.sqlite')).sort()) {
    const db = new sqlite3.Database(join(dir, f), sqlite3.OPEN_READONLY);
    try {
      const tables = await all(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
      for (const { name } of tables) {
        if (skipTables.includes(String(name))) continue;
        const rows = await all(db, `SELECT * FROM "${String(name)}" ORDER BY rowid`);
        out[`${f}:${String(name)}`] = createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16) + `/${rows.length}`;
      }
    } finally {
      await new Promise<void>((r) => db.close(() => r()));
    }
  }
  return out;
}
