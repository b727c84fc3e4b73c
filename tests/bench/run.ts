import { benchIssuance } from './issuance.ts';
import { benchVerification } from './verification.ts';

/**
 * `npm run bench`: prints figures, asserts nothing (targets belong to the issues, not to tests).
 * BENCH_SECONDS (default 10) and BENCH_CONCURRENCY (default 32) tune the run.
 */
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

console.log(`ID-Ideal benchmark: ${seconds} s per run, concurrency ${concurrency}, node ${process.version}`);
const results = [
  { label: '1 process', r: await benchIssuance({ seconds, concurrency }) },
  { label: '2 workers (ISSUER_WORKERS=2)', r: await benchIssuance({ seconds, concurrency, workers: 2 }) },
];
for (const { label, r } of results) {
  console.log(`\n${r.name}, ${label} (SQLite, HTTP on loopback; create offer, fetch offer, token, nonce, credential)`);
  console.log(`  flows/s           ${fmt(r.perSecond)}   (${r.count} flows, ${r.errors} errors)`);
  if (r.firstError) console.log(`  first error       ${r.firstError}`);
  console.log(`  latency p50/p99   ${fmt(r.p50)} ms / ${fmt(r.p99)} ms`);
  console.log(`  jose ceiling      ${fmt(r.ceiling)} ES256 sign+verify per s (one thread, same run)`);
  console.log(`  ratio             ${fmt(r.ratio, 3)}   (target >= 0.5 and >= 1,000 flows/s)`);
}
const v = await benchVerification({ seconds, concurrency });
console.log(`\nverifications (SQLite, HTTP on loopback; create request, fetch request object, present with KB-JWT, post response, read verdict)`);
console.log(`  verifications/s   ${fmt(v.perSecond)}   (${v.count} verified, ${v.errors} errors)`);
if (v.firstError) console.log(`  first error       ${v.firstError}`);
console.log(`  latency p50/p99   ${fmt(v.p50)} ms / ${fmt(v.p99)} ms`);
console.log(`  jose ceiling      ${fmt(v.ceiling)} ES256 sign+verify per s (one thread, same run)`);
console.log(`  ratio             ${fmt(v.ratio, 3)}   (target >= 0.5 and >= 1,500 verifications/s)`);
console.log('\nThe load generator runs on the same two cores and signs one proof (issuance) or one KB-JWT (verification) per flow.');
