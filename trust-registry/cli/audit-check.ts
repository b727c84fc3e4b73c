import { resolve } from 'node:path';
import { checkChain } from '../../core/audit/audit-chain.ts';
import { openRegistryDataSource } from '../service.ts';
import { RegistryStore } from '../store/registry-store.ts';

/**
 * `npm run registry:audit-check`: reads the registry's database (DATA_DIR or DATABASE_URL) and
 * checks the audit hash chain against itself and against the head vouched for by the latest
 * signed snapshot. Exit code 0: intact; 1: tampered or missing entries; 2: could not check.
 */
const dataDir = resolve(process.env.DATA_DIR ?? './.data');
try {
  const ds = await openRegistryDataSource({ dataDir, databaseUrl: process.env.DATABASE_URL || undefined, databaseSchemaPrefix: process.env.DATABASE_SCHEMA_PREFIX ?? '' });
  const store = new RegistryStore(ds);
  const entries = await store.auditEntries();
  const snapshot = await store.latestSnapshot();
  await ds.destroy();
  const head = snapshot ? (JSON.parse(Buffer.from(snapshot.jws.split('.')[1]!, 'base64url').toString('utf8')).audit_head as { seq: number; hash: string }) : undefined;
  const problems = checkChain(entries, head);
  if (problems.length === 0) {
    console.log(`audit chain intact: ${entries.length} entries, head ${entries.at(-1)?.hash ?? '(empty)'}`);
    process.exit(0);
  }
  console.error(`audit chain BROKEN: ${problems.length} problem(s) in ${entries.length} entries`);
  for (const p of problems) console.error(`  entry ${p.seq}: ${p.problem}: ${p.message}`);
  process.exit(1);
} catch (e) {
  console.error(`audit check could not run: ${(e as Error).message}`);
  process.exit(2);
}
