import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchemas } from '../helpers/pg-schemas.ts';
import { SignJWT, generateKeyPair, jwtVerify } from 'jose';
import { cpuSeconds, dbCpuBetween, machineShares, machineTicks, type CpuReading } from './server-cpu.ts';

// `timeout`: an idle kept-alive socket is closed by the services after Node's keepAliveTimeout (5 s),
// which they announce as `Keep-Alive: timeout=5`. Node 20's agent honours that hint only when a
// timeout of its own is set; without one it may reuse a socket just as the server closes it, and
// the request fails with "socket hang up" (seen once in 1,834 open-loop verifications, 2026-12-07).
// With it, idle sockets are dropped after 4 s (the hint minus Node's one-second buffer); a socket
// in use is not affected (the agent destroys only free sockets on timeout).
const agent = new http.Agent({ keepAlive: true, maxSockets: 512, timeout: 5_000 });

export interface LoadResponse {
  status: number;
  text(): Promise<string>;
  json(): Promise<any>;
}

/**
 * The load generator's HTTP client: node:http with keep-alive connections. The generator shares
 * the two cores with the services it measures; this client costs it far less CPU per request than
 * fetch (undici), so more of the machine goes to the services under test.
 */
export function loadFetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | URLSearchParams } = {}): Promise<LoadResponse> {
  return new Promise((resolve, reject) => {
    const method = init.method ?? 'GET';
    const body = init.body === undefined ? (method === 'GET' ? undefined : '') : String(init.body);
    const headers = { ...init.headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) };
    const req = http.request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, text: async () => text, json: async () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface BenchResult {
  name: string;
  count: number;
  errors: number;
  firstError?: string;
  perSecond: number;
  p50: number;
  p99: number;
  /** In-process jose ES256 sign + verify pairs per second, one thread. */
  ceiling: number;
  ratio: number;
  /** Server CPU (all service processes) per completed flow in the measured window, ms; NaN without /proc. */
  cpuPerFlowMs: number;
  /** Of it, the services' main (JavaScript) threads; the rest is V8's helper threads (optimising compiler, garbage collection) and libuv's pool. */
  mainCpuPerFlowMs: number;
  /** CPU of the PostgreSQL server's processes on this machine per completed flow, ms (PostgreSQL runs; 0 when the server is elsewhere). */
  dbCpuPerFlowMs: number;
  /** CPU of the load generator (this process: HTTP client, holder keys, proofs, KB-JWTs) per completed flow, ms; it shares the cores. */
  loadCpuPerFlowMs: number;
  /**
   * The whole machine in the measured window: the share of the cores' time the host gave to others
   * (`steal`) and the share left idle. A run with much steal ran on less than two cores.
   */
  machine: { steal: number; idle: number };
  /** The measured window on the monotonic clock (µs, the clock of V8's CPU profiles): profiles are cut to it. */
  window: { startUs: number; endUs: number };
  /** Latency at half the measured rate (open loop: flows started on a fixed schedule, timed from their scheduled start). */
  half: { rate: number; count: number; errors: number; firstError?: string; p50: number; p99: number; cpuPerFlowMs?: number };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The in-process ceiling of the same crypto with jose: one ES256 SignJWT plus one jwtVerify. */
export async function ceilingSignVerify(seconds: number): Promise<number> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  let n = 0;
  const until = Date.now() + seconds * 1000;
  const t0 = process.hrtime.bigint();
  while (Date.now() < until) {
    const jwt = await new SignJWT({ sub: 'x', iat: 1 }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    await jwtVerify(jwt, publicKey);
    n++;
  }
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export async function waitHealthy(url: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become healthy`);
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** Seconds of unmeasured closed-loop load before each measured window (BENCH_WARMUP_SECONDS, default 5). */
export const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);

/** `concurrency` loops running `flow` back to back for `seconds`: each completed flow's latency (ms), and the errors. */
async function closedLoop(flow: () => Promise<void>, concurrency: number, seconds: number): Promise<{ latencies: number[]; errors: number; firstError?: string }> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const s = process.hrtime.bigint();
        try {
          await flow();
          latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
        } catch (e) {
          if (errors++ === 0) firstError = (e as Error).message.slice(0, 300);
        }
      }
    }),
  );
  return { latencies, errors, ...(firstError !== undefined ? { firstError } : {}) };
}

/**
 * Runs `flow` with `concurrency` loops for `seconds` (after a warm-up), then the same flow open-loop at
 * half the rate reached, then the jose ceiling, in one run. The window of the closed-loop run (on
 * the monotonic clock, as V8 stamps its profile samples) is returned so profiles cover only it.
 */
export async function runLoad(name: string, flow: () => Promise<void>, opts: { seconds: number; concurrency: number; warmup: number; cpu?: () => CpuReading }): Promise<BenchResult> {
  for (let i = 0; i < opts.warmup; i++) await flow();
  // Then the closed loop itself, unmeasured, until V8 has compiled the hot path: without it the first
  // seconds of the window carry the optimising compiler's threads and unoptimised code (issue 16).
  await closedLoop(flow, opts.concurrency, WARMUP_SECONDS);
  const none: CpuReading = { all: NaN, main: NaN, db: new Map() };
  const cpu0 = opts.cpu?.() ?? none;
  const own0 = process.cpuUsage();
  const machine0 = machineTicks();
  const startUs = nowUs();
  const { latencies, errors, firstError } = await closedLoop(flow, opts.concurrency, opts.seconds);
  const endUs = nowUs();
  const machine = machineShares(machine0, machineTicks());
  const elapsed = (endUs - startUs) / 1e6;
  const cpu1 = opts.cpu?.() ?? none;
  const own = process.cpuUsage(own0);
  const loadCpuPerFlowMs = (own.user + own.system) / 1000 / Math.max(1, latencies.length);
  const cpuPerFlowMs = (cpu1.all - cpu0.all) * 1000 / Math.max(1, latencies.length);
  const mainCpuPerFlowMs = (cpu1.main - cpu0.main) * 1000 / Math.max(1, latencies.length);
  const dbCpuPerFlowMs = dbCpuBetween(cpu0, cpu1) * 1000 / Math.max(1, latencies.length);
  const perSecond = latencies.length / elapsed;
  // Server CPU per flow at half the rate too: a second reading of the same cost with fewer flows in
  // flight (less contention for the two cores; fixed per-second work spread over fewer flows).
  const cpuHalf0 = opts.cpu?.() ?? none;
  const openHalf = await openLoop(flow, perSecond / 2, opts.seconds);
  const half = { ...openHalf, cpuPerFlowMs: ((opts.cpu?.() ?? none).all - cpuHalf0.all) * 1000 / Math.max(1, openHalf.count + openHalf.errors) };
  const ceiling = await ceilingSignVerify(3);
  return { name, count: latencies.length, errors, ...(firstError ? { firstError } : {}), perSecond, p50: percentile(latencies, 50), p99: percentile(latencies, 99), ceiling, ratio: perSecond / ceiling, cpuPerFlowMs, mainCpuPerFlowMs, dbCpuPerFlowMs, loadCpuPerFlowMs, machine, window: { startUs, endUs }, half };
}

/**
 * Open loop (issue 16: "p99 under 100 ms at half that load"): flow i starts at t0 + i / rate whether
 * or not earlier ones have finished, and its latency counts from that scheduled start, so a stall
 * of the load generator or the server is not hidden by fewer requests being sent (coordinated omission).
 */
export async function openLoop(flow: () => Promise<void>, rate: number, seconds: number): Promise<BenchResult['half']> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const total = Math.floor(rate * seconds);
  if (!(total > 0)) return { rate, count: 0, errors: 0, p50: NaN, p99: NaN };
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p: Promise<void> = flow().then(
      () => void latencies.push(performance.now() - scheduled),
      (e: unknown) => {
        if (errors++ === 0) firstError = (e as Error).message.slice(0, 300);
      },
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }
  await Promise.all(inflight);
  return { rate, count: latencies.length, errors, ...(firstError ? { firstError } : {}), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/**
 * The services of one bench run, each a child process (tsx) with the run's environment: a DATA_DIR
 * of its own, or PostgreSQL under a schema prefix of its own. `stop` ends them all and drops the schemas.
 */
export function benchServices(opts: { databaseUrl?: string | undefined; env: Record<string, string>; profileDir?: string | undefined }) {
  const prefix = opts.databaseUrl ? benchSchemaPrefix() : undefined;
  const env = {
    ...process.env,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'idideal-bench-')),
    LOG_LEVEL: 'warn',
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl, DATABASE_SCHEMA_PREFIX: prefix } : { DATABASE_URL: '' }),
    ...opts.env,
  };
  const procs: ChildProcess[] = [];
  // Node itself with tsx as a loader (not the tsx CLI, which would run the service in a child), so
  // the pid is the service's: its CPU is read from /proc and `--cpu-prof` profiles the service.
  // BENCH_NODE_FLAGS: Node/V8 flags for the service processes only (some, such as V8's GC flags, NODE_OPTIONS refuses).
  const nodeArgs = [...(opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : []), ...(process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)];
  return {
    start(entry: string, extra: Record<string, string> = {}): void {
      procs.push(spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'inherit'] }));
    },
    /** CPU seconds the services (and their workers) have used so far; PostgreSQL's only in its runs. */
    cpu(): CpuReading {
      const r = cpuSeconds(procs.map((p) => p.pid!).filter(Boolean));
      return opts.databaseUrl ? r : { ...r, db: new Map() };
    },
    async stop(): Promise<void> {
      await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(undefined) : (p.once('exit', r), p.kill('SIGTERM'))))));
      if (opts.databaseUrl && prefix) await dropSchemas(opts.databaseUrl, prefix);
    },
  };
}

/** A schema prefix of its own for one PostgreSQL bench run (DATABASE_SCHEMA_PREFIX). */
export function benchSchemaPrefix(): string {
  return `bench${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}_`;
}

