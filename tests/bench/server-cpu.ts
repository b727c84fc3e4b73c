import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * CPU seconds (user + system): `all` threads of the processes, their `main` (JavaScript) threads
 * alone, and `db`, the processes of a PostgreSQL server on this machine (none without one).
 */
export interface CpuReading {
  all: number;
  main: number;
  /** CPU seconds per PostgreSQL process (by pid): `dbCpuBetween` counts only what each used between two readings. */
  db: Map<number, number>;
}

/**
 * PostgreSQL CPU seconds between two readings: per process, so a backend that ends in between (a
 * pool closing an idle connection) takes out none of what it used before; one that starts in
 * between counts whole. What an ending backend used in the window itself is missed (a little).
 */
export function dbCpuBetween(a: CpuReading, b: CpuReading): number {
  let sum = 0;
  for (const [pid, cpu] of b.db) sum += cpu - (a.db.get(pid) ?? 0);
  return sum;
}

/**
 * CPU seconds (user + system) the given processes and all their descendants have used so far, read
 * from /proc (Linux). The bench takes it before and after the measured window, so start-up work
 * (migrations, key creation) does not count, and divides by the flows: CPU per flow.
 * `main` is the processes' main threads alone (`/proc/<pid>/task/<pid>/stat`): the rest of `all` is
 * V8's helper threads (concurrent marking, parallel scavenges) and libuv's pool, which a CPU profile
 * of the main thread does not see. `db` holds every process named `postgres` (the server's backends and
 * its background processes; with PostgreSQL on this machine they share the cores with the services).
 * NaN where /proc is not there.
 */
export function cpuSeconds(roots: number[]): CpuReading {
  const tick = 100; // USER_HZ on Linux
  let stats: { pid: number; ppid: number; cpu: number; comm: string }[];
  try {
    stats = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .flatMap((d) => {
        try {
          const [all, ppid, comm] = statCpu(join('/proc', d, 'stat'));
          return [{ pid: Number(d), ppid, cpu: all / tick, comm }];
        } catch {
          return [];
        }
      });
  } catch {
    return { all: NaN, main: NaN, db: new Map() };
  }
  const tree = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stats) if (!tree.has(s.pid) && tree.has(s.ppid)) (tree.add(s.pid), (grew = true));
  }
  const mine = stats.filter((s) => tree.has(s.pid));
  const main = (pid: number) => {
    try {
      return statCpu(join('/proc', String(pid), 'task', String(pid), 'stat'))[0] / tick;
    } catch {
      return 0; // ended between the two reads
    }
  };
  const db = new Map(stats.filter((s) => s.comm === 'postgres').map((s) => [s.pid, s.cpu]));
  return { all: mine.reduce((sum, s) => sum + s.cpu, 0), main: mine.reduce((sum, s) => sum + main(s.pid), 0), db };
}

/** utime + stime (ticks), the parent pid and the command name from a /proc stat line. */
function statCpu(path: string): [number, number, string] {
  // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
  const raw = readFileSync(path, 'utf8');
  const close = raw.lastIndexOf(')');
  const rest = raw.slice(close + 2).split(' ');
  return [Number(rest[11]) + Number(rest[12]), Number(rest[1]), raw.slice(raw.indexOf('(') + 1, close)];
}

/** The cores' time so far (ticks of all cores, from the first line of /proc/stat), of it idle and stolen. */
export interface MachineTicks {
  total: number;
  /** idle + iowait. */
  idle: number;
  /** Time the hypervisor gave the cores to someone else while this guest wanted them. */
  steal: number;
}

/**
 * The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal (guest and
 * guest_nice are already inside user and nice, so they are left out of the total).
 */
export function parseProcStat(text: string): MachineTicks | undefined {
  const line = text.split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/);
  if (f[0] !== 'cpu' || f.length < 9) return undefined;
  const ticks = f.slice(1, 9).map(Number);
  if (!ticks.every(Number.isFinite)) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks as [number, number, number, number, number, number, number, number];
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait, steal };
}

/** The machine's ticks now; undefined where /proc/stat is not there. */
export function machineTicks(): MachineTicks | undefined {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Shares of the cores' time between two readings: stolen by the host, and idle (NaN without readings). */
export function machineShares(a: MachineTicks | undefined, b: MachineTicks | undefined): { steal: number; idle: number } {
  if (!a || !b || b.total <= a.total) return { steal: NaN, idle: NaN };
  const total = b.total - a.total;
  return { steal: (b.steal - a.steal) / total, idle: (b.idle - a.idle) / total };
}
