import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** CPU seconds (user + system): `all` threads of the processes, and their `main` (JavaScript) threads alone. */
export interface CpuReading {
  all: number;
  main: number;
}

/**
 * CPU seconds (user + system) the given processes and all their descendants have used so far, read
 * from /proc (Linux). The bench takes it before and after the measured window, so start-up work
 * (migrations, key creation) does not count, and divides by the flows: CPU per flow.
 * `main` is the processes' main threads alone (`/proc/<pid>/task/<pid>/stat`): the rest of `all` is
 * V8's helper threads (concurrent marking, parallel scavenges) and libuv's pool, which a CPU profile
 * of the main thread does not see. NaN where /proc is not there.
 */
export function cpuSeconds(roots: number[]): CpuReading {
  const tick = 100; // USER_HZ on Linux
  let stats: { pid: number; ppid: number; cpu: number }[];
  try {
    stats = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .flatMap((d) => {
        try {
          const [all, ppid] = statCpu(join('/proc', d, 'stat'));
          return [{ pid: Number(d), ppid, cpu: all / tick }];
        } catch {
          return [];
        }
      });
  } catch {
    return { all: NaN, main: NaN };
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
  return { all: mine.reduce((sum, s) => sum + s.cpu, 0), main: mine.reduce((sum, s) => sum + main(s.pid), 0) };
}

/** utime + stime (ticks) and the parent pid from a /proc stat line. */
function statCpu(path: string): [number, number] {
  // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
  const raw = readFileSync(path, 'utf8');
  const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return [Number(rest[11]) + Number(rest[12]), Number(rest[1])];
}
