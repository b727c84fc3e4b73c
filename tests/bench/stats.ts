import { SignJWT, generateKeyPair, jwtVerify } from 'jose';

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
