import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * CPU seconds (user + system) the given processes and all their descendants have used so far, read
 * from /proc (Linux). The bench takes it before and after the measured window, so start-up work
 * (migrations, key creation) does not count, and divides by the flows: CPU per flow.
 * Returns NaN where /proc is not there.
 */
export function cpuSeconds(roots: number[]): number {
  const tick = 100; // USER_HZ on Linux
  let stats: { pid: number; ppid: number; cpu: number }[];
  try {
    stats = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .flatMap((d) => {
        try {
          // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
          const raw = readFileSync(join('/proc', d, 'stat'), 'utf8');
          const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
          return [{ pid: Number(d), ppid: Number(rest[1]), cpu: (Number(rest[11]) + Number(rest[12])) / tick }];
        } catch {
          return [];
        }
      });
  } catch {
    return NaN;
  }
  const tree = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stats) if (!tree.has(s.pid) && tree.has(s.ppid)) (tree.add(s.pid), (grew = true));
  }
  return stats.filter((s) => tree.has(s.pid)).reduce((sum, s) => sum + s.cpu, 0);
}
