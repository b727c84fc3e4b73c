import { benchIssuance } from './issuance.ts';
import { benchVerification } from './verification.ts';
import { benchFloor } from './floor.ts';
import { WARMUP_SECONDS, type BenchResult } from './stats.ts';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeProfiles, topFunctions } from './profile-summary.ts';

/**
 * `npm run bench`: prints figures, asserts nothing (targets belong to the issues, not to tests).
 * BENCH_SECONDS (default 10) and BENCH_CONCURRENCY (default 32) tune the run. BENCH_DATABASE_URL
 * (or TEST_DATABASE_URL) adds runs with two instances on that PostgreSQL, beside the SQLite ones.
 * BENCH_ONLY=issuance|verification|floor runs one part. Each measured window follows BENCH_WARMUP_SECONDS
 * (default 5) of the same load, unmeasured; BENCH_NODE_FLAGS passes Node/V8 flags to the services. With `--profile`, BENCH_PROFILE_FUNCTIONS=n
 * also prints the n costliest functions by self time.
 */
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const databaseUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || undefined;
// `npm run bench -- --profile`: every service process writes a V8 CPU profile; the top self-time entries are printed per run.
const profiling = process.argv.includes('--profile');
const topN = Number(process.env.BENCH_PROFILE_FUNCTIONS ?? 0);
const only = process.env.BENCH_ONLY;
const part = (name: string) => !only || only === name;
const profileDir = () => (profiling ? mkdtempSync(join(tmpdir(), 'idideal-profile-')) : undefined);
const profiles = new Map<BenchResult, string>();
const profiled = async (run: (dir: string | undefined) => Promise<BenchResult>): Promise<BenchResult> => {
  const dir = profileDir();
  const r = await run(dir);
  if (dir) profiles.set(r, dir);
  return r;
};
const cores = availableParallelism();
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

console.log(`ID-Ideal benchmark: ${seconds} s per run after ${WARMUP_SECONDS} s of warm-up load, concurrency ${concurrency}, node ${process.version}`);
const issuance = !part('issuance') ? [] : [
  { label: '1 process (SQLite', r: await profiled((dir) => benchIssuance({ seconds, concurrency, ...(dir ? { profileDir: dir } : {}) })) },
  { label: '2 workers, ISSUER_WORKERS=2 (SQLite', r: await profiled((dir) => benchIssuance({ seconds, concurrency, workers: 2, ...(dir ? { profileDir: dir } : {}) })) },
  ...(databaseUrl ? [{ label: '2 instances on one PostgreSQL, steps alternating (PostgreSQL', r: await profiled((dir) => benchIssuance({ seconds, concurrency, databaseUrl, instances: 2, ...(dir ? { profileDir: dir } : {}) })) }] : []),
];
for (const { label, r } of issuance) {
  console.log(`\n${r.name}, ${label}, HTTP on loopback; create offer, fetch offer, token, nonce, credential)`);
  print(r, 'flows/s', 'flows', 'targets (issue 16): >= 600 flows/s with workers, >= 350 in one process; <= 2.5 ms server CPU per flow');
}
const verification = !part('verification') ? [] : [
  { label: '1 process (SQLite', r: await profiled((dir) => benchVerification({ seconds, concurrency, ...(dir ? { profileDir: dir } : {}) })) },
  { label: '2 workers, VERIFIER_WORKERS=2 (SQLite', r: await profiled((dir) => benchVerification({ seconds, concurrency, workers: 2, ...(dir ? { profileDir: dir } : {}) })) },
  ...(databaseUrl ? [{ label: '2 instances on one PostgreSQL, steps alternating (PostgreSQL', r: await profiled((dir) => benchVerification({ seconds, concurrency, databaseUrl, instances: 2, ...(dir ? { profileDir: dir } : {}) })) }] : []),
];
for (const { label, r } of verification) {
  console.log(`\nverifications, ${label}, HTTP on loopback; create request, fetch request object, present with KB-JWT, post response, read verdict)`);
  print(r, 'verifications/s', 'verified', 'targets (issue 16): >= 1,000/s with workers, >= 600 in one process; <= 1.5 ms server CPU per verification');
}
/** Issue 16: "the PostgreSQL two-instance run at ≥ 60 % of the SQLite figures", against both SQLite runs. */
const pgShare = (runs: { r: BenchResult }[]): string | undefined => {
  const [one, workers, pg] = runs.map((x) => x.r);
  if (!one || !workers || !pg) return undefined;
  const pct = (a: number, b: number) => `${fmt((100 * a) / b, 0)} %`;
  return `${pct(pg.perSecond, one.perSecond)} of 1 process, ${pct(pg.perSecond, workers.perSecond)} of 2 workers`;
};
const shares = [['issuance', pgShare(issuance)], ['verification', pgShare(verification)]].filter(([, v]) => v);
if (shares.length > 0) console.log(`
PostgreSQL two instances against SQLite (target: >= 60 %): ${shares.map(([k, v]) => `${k} ${v}`).join('; ')}`);
if (!databaseUrl) console.log('\nPostgreSQL runs skipped: set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to postgres://… to run two instances on one database.');
if (part('floor')) {
  for (const stack of ['express', 'lane'] as const) {
    const floors = [await benchFloor({ seconds, concurrency, servers: 1, stack }), await benchFloor({ seconds, concurrency, servers: 2, stack })];
    console.log(
      stack === 'express'
        ? `\nfloor of the stack: bare Express (same body parsers) answering 4 trivial requests per flow, no database, crypto or validation`
        : `\nfloor of the fast lane (the hot routes' stack: Fastify with the services' request stamp, limiter, parsers and error exit), same 4 requests`,
    );
    console.log(`  flows/s           ${fmt(floors[0]!.perSecond)} (1 process), ${fmt(floors[1]!.perSecond)} (2 processes)   no real flow on this stack can be faster`);
    console.log(`  server CPU/flow   ${fmt(floors[0]!.cpuPerFlowMs, 2)} ms (1 process), ${fmt(floors[1]!.cpuPerFlowMs, 2)} ms (2 processes)`);
    console.log(`  machine           steal ${fmt(100 * floors[0]!.machine.steal)} % (1 process), ${fmt(100 * floors[1]!.machine.steal)} % (2 processes) of the cores' time`);
  }
}
console.log('\nThe load generator runs on the same two cores; per flow it generates a holder key and signs one proof (issuance), or signs one KB-JWT (verification).');

function print(r: BenchResult, unit: string, noun: string, target: string): void {
  console.log(`  ${unit.padEnd(17)} ${fmt(r.perSecond)}   (${r.count} ${noun}, ${r.errors} errors)`);
  if (r.firstError) console.log(`  first error       ${r.firstError}`);
  console.log(`  latency p50/p99   ${fmt(r.p50)} ms / ${fmt(r.p99)} ms   (closed loop, ${concurrency} in flight)`);
  console.log(`  at half the rate  p50/p99 ${fmt(r.half.p50)} ms / ${fmt(r.half.p99)} ms   (open loop, ${fmt(r.half.rate)}/s scheduled, ${r.half.count} done, ${r.half.errors} errors), server CPU/flow ${fmt(r.half.cpuPerFlowMs ?? NaN, 2)} ms`);
  if (r.half.firstError) console.log(`  first error       ${r.half.firstError}`);
  console.log(`  jose ceiling      ${fmt(r.ceiling)} ES256 sign+verify per s (one thread, same run)`);
  console.log(`  server CPU/flow   ${fmt(r.cpuPerFlowMs, 2)} ms (all service processes, measured window), of it main threads ${fmt(r.mainCpuPerFlowMs, 2)} ms, other threads (V8 compiler and GC helpers, libuv pool) ${fmt(r.cpuPerFlowMs - r.mainCpuPerFlowMs, 2)} ms`);
  if (r.dbCpuPerFlowMs > 0) console.log(`  PostgreSQL CPU    ${fmt(r.dbCpuPerFlowMs, 2)} ms per flow (the server's processes on this machine, same cores; not in server CPU/flow)`);
  console.log(`  load generator    ${fmt(r.loadCpuPerFlowMs, 2)} ms CPU per flow (this process, same cores)`);
  // The host's other guests: with steal the cores gave this machine less than their time, and every
  // figure of the run is lower for it. Slow phases without steal have another cause
  // (docs/performance.md, measurement note of 2026-12-08).
  console.log(`  machine           steal ${fmt(100 * r.machine.steal)} %, idle ${fmt(100 * r.machine.idle)} % of the cores' time in the measured window (steal: taken by the host for others)`);
  // What the machine allows at these costs: every core busy with the services, PostgreSQL and the load
  // generator, nothing else; the rate a target asks for needs its CPU per flow under cores * 1000 / rate.
  const perFlowMs = r.cpuPerFlowMs + r.dbCpuPerFlowMs + r.loadCpuPerFlowMs;
  console.log(`  cores' ceiling    ${fmt((cores * 1000) / perFlowMs)} ${unit} (${cores} cores / ${fmt(perFlowMs, 2)} ms of all processes' CPU per flow)`);
  console.log(`  ratio             ${fmt(r.ratio, 3)}`);
  console.log(`  ${target}`);
  const dir = profiles.get(r);
  if (dir) {
    console.log(`  CPU profile (${dir}), window ${r.window.startUs}-${r.window.endUs} µs, busy self time by package or file, measured window only:\n${summarizeProfiles(dir, 15, r.window).join('\n')}`);
    if (topN > 0) console.log(`  costliest functions by self time, measured window:\n${topFunctions(dir, topN, r.window).join('\n')}`);
  }
}
