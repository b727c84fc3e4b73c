import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../../core/crypto/random.ts';

describe('pooledRandomBytes', () => {
  it('hands out each byte once: values of the asked length, no two alike across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const v = pooledRandomBytes(12);
      expect(v.length).toBe(12);
      seen.add(v.toString('hex'));
    }
    expect(seen.size).toBe(2000);
  });
  it('never changes a value after handing it out (a new block, not a refill in place)', () => {
    const v = pooledRandomBytes(16);
    const copy = Buffer.from(v);
    for (let i = 0; i < 1000; i++) pooledRandomBytes(16);
    expect(v.equals(copy)).toBe(true);
  });
  it('serves large requests straight from the CSPRNG', () => {
    expect(pooledRandomBytes(1024).length).toBe(1024);
  });
});
