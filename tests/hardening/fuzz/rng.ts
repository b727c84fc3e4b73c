/**
 * A seeded generator (mulberry32) so a failing hostile-input run can be replayed:
 * the seed is printed at the start, and `FUZZ_SEED=<seed>` reruns the same requests.
 */
export interface Rng {
  seed: number;
  next(): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  bytes(n: number): Buffer;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    pick: (xs) => xs[int(xs.length)]!,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}

export function seedFromEnv(): number {
  const s = process.env.FUZZ_SEED;
  if (s && /^\d+$/.test(s)) return Number(s) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}
