import { describe, expect, it } from 'vitest';
import { machineShares, parseProcStat } from './server-cpu.ts';

// The bench prints how much of the cores' time the host took for others (steal) in each measured
// window; these are the readings it is computed from.
describe('the machine reading of the bench (/proc/stat)', () => {
  const line = (user: number, idle: number, steal: number) => `cpu  ${user} 10 200 ${idle} 5 0 15 ${steal} 40 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n`;

  it('counts user, nice, system, idle, iowait, irq, softirq and steal, not guest time again', () => {
    expect(parseProcStat(line(1000, 3000, 100))).toEqual({ total: 1000 + 10 + 200 + 3000 + 5 + 0 + 15 + 100, idle: 3005, steal: 100 });
  });

  it('gives the shares of the window between two readings', () => {
    const s = machineShares(parseProcStat(line(1000, 3000, 100)), parseProcStat(line(1150, 3030, 120)));
    expect(s.steal).toBeCloseTo(20 / 200, 10);
    expect(s.idle).toBeCloseTo(30 / 200, 10);
  });

  it('reads nothing from a text that is not /proc/stat, and gives no shares without two readings', () => {
    expect(parseProcStat('intr 1 2 3\n')).toBeUndefined();
    expect(parseProcStat('cpu 1 2 3\n')).toBeUndefined();
    expect(parseProcStat('cpu a b c d e f g h\n')).toBeUndefined();
    expect(machineShares(undefined, parseProcStat(line(1, 1, 1))).steal).toBeNaN();
    expect(machineShares(parseProcStat(line(1, 1, 1)), parseProcStat(line(1, 1, 1))).idle).toBeNaN();
  });
});
