import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * SHA-256 per table over every row of every SQLite file under `dir`, read through a second
 * connection (WAL: it sees what the services committed). Two digests that differ name the table.
 */
export async function sqliteDigest(dir: string, skipTables: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.sqlite')).sort()) {
    const db = new Database(join(dir, f), { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
      for (const { name } of tables) {
        // Audit checkpoints are signed by the service on its own timer (core/audit/audit-anchor.ts), not
        // by any request: a digest that must show "no request changed anything" leaves them out.
        if (skipTables.includes(name) || name.endsWith('_audit_checkpoints')) continue;
        const rows = db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all();
        out[`${f}:${String(name)}`] = createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16) + `/${rows.length}`;
      }
    } finally {
      db.close();
    }
  }
  return out;
}
