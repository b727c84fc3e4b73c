import { randomBytes } from 'node:crypto';

/**
 * Random bytes taken from a 4 KiB block filled by the CSPRNG, each byte handed out once. The hot
 * paths need many small values (a salt per disclosure, the IV of every sealed value, nonces, states,
 * token ids); one `randomBytes` call each was 1.8–2.2 % of the issuer's and the verifier's busy time
 * in the bench profile (issue 16), one call per 4 KiB is not measurable. The bytes are the same CSPRNG
 * output either way, the block lives in this process only, and a new block is allocated (never
 * refilled in place) so a value handed out is never changed afterwards. Node's own randomUUID
 * buffers the same way.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

export function pooledRandomBytes(n: number): Buffer {
  if (n > 256) return randomBytes(n);
  if (offset + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}
