import { openAuditAnchor } from '../core/audit/open-anchor.ts';
import { auditTable } from '../core/audit/audit-table.ts';
import { checkpointTable } from '../core/audit/checkpoint-table.ts';
import { createLogger } from '../core/log/logger.ts';
import { openHostedIdentities } from '../core/service/did-host.ts';
import { systemClock } from '../core/util/time.ts';
import { loadIssuerConfig } from '../issuer/config.ts';
import { issuerMigrations } from '../issuer/store/migrations/0001-issuer.ts';
import { loadVerifierConfig } from '../verifier/config.ts';
import { verifierMigrations } from '../verifier/store/migrations/0001-verifier.ts';

/**
 * `npm run audit-check -- issuer|verifier`: reads the service's database (DATA_DIR or DATABASE_URL,
 * with the service's own configuration) and checks its audit chain against itself and against its
 * signed checkpoints (core/audit/audit-anchor.ts), as `GET /api/audit/check` does; when intact, the
 * head is checkpointed. Exit code 0: intact; 1: tampered, truncated or unanchored; 2: could not check.
 */
const SERVICES = {
  issuer: { load: loadIssuerConfig, migrations: issuerMigrations, collection: 'offices' },
  verifier: { load: loadVerifierConfig, migrations: verifierMigrations, collection: 'verifiers' },
} as const;

const name = process.argv[2];
if (name !== 'issuer' && name !== 'verifier') {
  console.error('usage: npm run audit-check -- issuer|verifier');
  process.exit(2);
}
try {
  const s = SERVICES[name];
  const config = s.load(process.env);
  const audit = auditTable(`${name}_audit`);
  const checkpoints = checkpointTable(`${name}_audit_checkpoints`);
  const hosted = await openHostedIdentities(config, s.collection, [], { entities: [audit, checkpoints], migrations: s.migrations as never });
  const anchor = await openAuditAnchor({ hosted, publicUrl: config.publicUrl, service: name, audit, checkpoints, clock: systemClock, logger: createLogger(`${name}-audit-check`, 'warn') });
  const report = await anchor.check();
  await hosted.dataSource.destroy();
  if (report.valid) {
    console.log(`audit chain intact and anchored: checkpoint ${report.checkpoint?.seq}, head entry ${report.checkpoint?.audit_head.seq} (${report.checkpoint?.audit_head.hash})`);
    process.exit(0);
  }
  console.error(`audit chain BROKEN: ${report.problems.length} problem(s)`);
  for (const p of report.problems) console.error(`  ${p.problem}: ${p.message}`);
  process.exit(1);
} catch (e) {
  console.error(`audit check could not run: ${(e as Error).message}`);
  process.exit(2);
}
