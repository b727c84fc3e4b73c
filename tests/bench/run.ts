import { benchIssuance } from './issuance.ts';
import { benchVerification } from './verification.ts';
import { benchFloor } from './floor.ts';
import type { BenchResult } from './stats.ts';

/**
 * `npm run bench`: prints figures, asserts nothing (targets belong to the issues, not to tests).
 * BENCH_SECONDS (default 10) and BENCH_CONCURRENCY (default 32) tune the run. BENCH_DATABASE_URL
 * (or TEST_DATABASE_URL) adds runs with two instances on that PostgreSQL, beside the SQLite ones.
 */
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const databaseUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || undefined;
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

console.log(`ID-Ideal benchmark: ${seconds} s per run, concurrency ${concurrency}, node ${process.version}`);
const issuance = [
  { label: '1 process (SQLite', r: await benchIssuance({ seconds, concurrency }) },
  { label: '2 workers, ISSUER_WORKERS=2 (SQLite', r: await benchIssuance({ seconds, concurrency, workers: 2 }) },
  ...(databaseUrl ? [{ label: '2 instances on one PostgreSQL, steps alternating (PostgreSQL', r: await benchIssuance({ seconds, concurrency, databaseUrl, instances: 2 }) }] : []),
];
for (const { label, r } of issuance) {
  console.log(`\n${r.name}, ${label}, HTTP on loopback; create offer, fetch offer, token, nonce, credential)`);
  print(r, 'flows/s', 'flows', '(target >= 0.5 and >= 1,000 flows/s)');
}
const verification = [
  { label: '1 process (SQLite', r: await benchVerification({ seconds, concurrency }) },
  { label: '2 workers, VERIFIER_WORKERS=2 (SQLite', r: await benchVerification({ seconds, concurrency, workers: 2 }) },
  ...(databaseUrl ? [{ label: '2 instances on one PostgreSQL, steps alternating (PostgreSQL', r: await benchVerification({ seconds, concurrency, databaseUrl, instances: 2 }) }] : []),
];
for (const { label, r } of verification) {
  console.log(`\nverifications, ${label}, HTTP on loopback; create request, fetch request object, present with KB-JWT, post response, read verdict)`);
  print(r, 'verifications/s', 'verified', '(target >= 0.5 and >= 1,500 verifications/s)');
}
if (!databaseUrl) console.log('\nPostgreSQL runs skipped: set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to postgres://… to run two instances on one database.');
const floors = [await benchFloor({ seconds, concurrency, servers: 1 }), await benchFloor({ seconds, concurrency, servers: 2 })];
console.log(`\nfloor of the stack: Express (same body parsers) answering 4 trivial requests per flow, no database, crypto or validation`);
console.log(`  flows/s           ${fmt(floors[0]!.perSecond)} (1 process), ${fmt(floors[1]!.perSecond)} (2 processes)   no real flow on this machine can be faster`);
console.log('\nThe load generator runs on the same two cores and signs one proof (issuance) or one KB-JWT (verification) per flow.');

function print(r: BenchResult, unit: string, noun: string, target: string): void {
  console.log(`  ${unit.padEnd(17)} ${fmt(r.perSecond)}   (${r.count} ${noun}, ${r.errors} errors)`);
  if (r.firstError) console.log(`  first error       ${r.firstError}`);
  console.log(`  latency p50/p99   ${fmt(r.p50)} ms / ${fmt(r.p99)} ms`);
  console.log(`  jose ceiling      ${fmt(r.ceiling)} ES256 sign+verify per s (one thread, same run)`);
  console.log(`  ratio             ${fmt(r.ratio, 3)}   ${target}`);
}
