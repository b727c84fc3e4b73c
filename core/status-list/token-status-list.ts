import { deflateSync, inflateSync } from 'node:zlib';

/**
 * IETF Token Status List (draft-ietf-oauth-status-list, §4.1 compressed byte array, §4.2 JSON):
 * statuses packed little-end-first into bytes, `bits` per entry, DEFLATE in ZLIB format, base64url.
 * Status values (§7.1): 0x00 VALID, 0x01 INVALID, 0x02 SUSPENDED.
 */
export const STATUS = { VALID: 0, INVALID: 1, SUSPENDED: 2 } as const;
export type Bits = 1 | 2 | 4 | 8;
export const STATUS_LIST_TYP = 'statuslist+jwt';
export const STATUS_LIST_MEDIA_TYPE = 'application/statuslist+jwt';

/** Largest decompressed list accepted (a compressed list is a decompression-bomb vector). */
export const MAX_LIST_BYTES = 16 * 1024 * 1024;

export class StatusListError extends Error {
  override name = 'StatusListError';
}

export function packStatuses(values: ArrayLike<number>, bits: Bits, size = values.length): Uint8Array {
  const perByte = 8 / bits;
  const bytes = new Uint8Array(Math.ceil(size / perByte));
  const mask = (1 << bits) - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0 || v > mask) throw new StatusListError(`status value ${v} does not fit in ${bits} bits`);
    bytes[Math.floor(i / perByte)]! |= v << ((i % perByte) * bits);
  }
  return bytes;
}

/** §4.1 steps 2-4 and §4.2: `{bits, lst}` for a list of `size` entries with the given values set. */
export function encodeStatusList(entries: Iterable<[index: number, value: number]>, bits: Bits, size: number): { bits: Bits; lst: string } {
  const values = new Uint8Array(size);
  for (const [i, v] of entries) {
    if (i < 0 || i >= size) throw new StatusListError(`index ${i} outside the list`);
    values[i] = v;
  }
  const compressed = deflateSync(packStatuses(values, bits, size), { level: 9 });
  return { bits, lst: compressed.toString('base64url') };
}

export function decompressStatusList(lst: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+$/.test(lst)) throw new StatusListError('lst is not base64url');
  try {
    return inflateSync(Buffer.from(lst, 'base64url'), { maxOutputLength: MAX_LIST_BYTES });
  } catch {
    throw new StatusListError('lst is not a ZLIB-compressed byte array');
  }
}

/** §8.3 step 6: the status at `index`; out of range is an error, never "valid". */
export function statusAt(bytes: Uint8Array, bits: Bits, index: number): number {
  const perByte = 8 / bits;
  const byte = Math.floor(index / perByte);
  if (!Number.isInteger(index) || index < 0 || byte >= bytes.length) throw new StatusListError(`index ${index} is out of range`);
  return (bytes[byte]! >> ((index % perByte) * bits)) & ((1 << bits) - 1);
}
