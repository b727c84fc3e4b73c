import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * W3C Bitstring Status List v1.0 (W3C Recommendation, 15 May 2025).
 *
 * §2.2 `encodedList`: the Multibase-encoded base64url (no padding, multibase prefix `u`) form of the
 * GZIP-compressed (RFC 1952) bitstring; the uncompressed bitstring is at least 16 KB (131,072 bits).
 * Index 0 is the left-most bit of the bitstring, i.e. the most significant bit of the first byte
 * (§7.1), the opposite of the IETF Token Status List, which counts from the least significant bit.
 * §3.2: a status value is read at position `statusListIndex × statusSize`; `statusSize` is 1 unless
 * the entry says otherwise.
 */

/** §2.2, §3.2: the uncompressed bitstring holds at least 131,072 entries (16 KB of 1-bit values). */
export const BITSTRING_MIN_BITS = 131_072;
export const BITSTRING_MIN_BYTES = BITSTRING_MIN_BITS / 8;
/** Largest decompressed list accepted by default (a GZIP stream is a decompression-bomb vector). */
export const BITSTRING_MAX_BYTES = 16 * 1024 * 1024;

export const BITSTRING_STATUS_LIST_TYPE = 'BitstringStatusList';
export const BITSTRING_STATUS_LIST_ENTRY_TYPE = 'BitstringStatusListEntry';
export const BITSTRING_STATUS_LIST_CREDENTIAL_TYPE = 'BitstringStatusListCredential';

/**
 * §2.1 status purposes with a 1-bit status. `message` is left out on purpose: it needs `statusSize`
 * and `statusMessages` (§2.2), which these builders do not produce.
 */
export type BitstringStatusPurpose = 'revocation' | 'suspension' | 'refresh';
const PURPOSES: ReadonlySet<string> = new Set<BitstringStatusPurpose>(['revocation', 'suspension', 'refresh']);

export class BitstringStatusListError extends Error {
  override name = 'BitstringStatusListError';
}

/** §3.3: a bitstring of `sizeBits` bits with the given indices set to 1, GZIP-compressed, multibase base64url. */
export function encodeBitstring(setIndices: Iterable<number>, sizeBits: number = BITSTRING_MIN_BITS): string {
  if (!Number.isSafeInteger(sizeBits) || sizeBits < BITSTRING_MIN_BITS) throw new BitstringStatusListError(`a bitstring has at least ${BITSTRING_MIN_BITS} bits`);
  if (sizeBits % 8 !== 0) throw new BitstringStatusListError('the bitstring size must be a whole number of bytes');
  if (sizeBits / 8 > BITSTRING_MAX_BYTES) throw new BitstringStatusListError(`a bitstring has at most ${BITSTRING_MAX_BYTES * 8} bits`);
  const bytes = new Uint8Array(sizeBits / 8);
  for (const index of setIndices) {
    if (!Number.isSafeInteger(index) || index < 0 || index >= sizeBits) throw new BitstringStatusListError(`index ${index} is outside the bitstring`);
    bytes[Math.floor(index / 8)]! |= 0x80 >> index % 8;
  }
  // Default compression level: gives byte for byte the all-zero example of §2.2 (Example 3).
  return 'u' + gzipSync(bytes).toString('base64url');
}

/**
 * §3.4 Bitstring Expansion: the uncompressed bitstring. Refuses anything but multibase `u`
 * (base64url, no padding), non-canonical base64url, data that is not GZIP, an output larger than
 * `maxBytes` and one smaller than 16 KB (§2.2).
 */
export function decodeBitstring(encodedList: string, maxBytes: number = BITSTRING_MAX_BYTES): Uint8Array {
  if (typeof encodedList !== 'string' || !encodedList.startsWith('u')) throw new BitstringStatusListError('encodedList must be multibase base64url (prefix u)');
  const b64 = encodedList.slice(1);
  if (!/^[A-Za-z0-9_-]+$/.test(b64) || b64.length % 4 === 1) throw new BitstringStatusListError('encodedList is not base64url without padding');
  const compressed = Buffer.from(b64, 'base64url');
  // Non-zero unused bits in the last character would let two strings name one list.
  if (compressed.toString('base64url') !== b64) throw new BitstringStatusListError('encodedList is not canonical base64url');
  if (compressed.length < 18 || compressed[0] !== 0x1f || compressed[1] !== 0x8b) throw new BitstringStatusListError('encodedList is not GZIP-compressed');
  let bytes: Buffer;
  try {
    bytes = gunzipSync(compressed, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new BitstringStatusListError(`bitstring is larger than ${maxBytes} bytes`);
    throw new BitstringStatusListError('encodedList is not a valid GZIP stream');
  }
  if (bytes.length < BITSTRING_MIN_BYTES) throw new BitstringStatusListError(`bitstring is shorter than ${BITSTRING_MIN_BYTES} bytes (${BITSTRING_MIN_BITS} bits)`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** §7.1: bit `index` counted from the most significant bit of the first byte. Out of range throws (§3.2 RANGE_ERROR). */
export function bitAt(bytes: Uint8Array, index: number): 0 | 1 {
  if (!Number.isSafeInteger(index) || index < 0 || index >= bytes.length * 8) throw new BitstringStatusListError(`index ${index} is out of range`);
  return ((bytes[Math.floor(index / 8)]! >> (7 - (index % 8))) & 1) as 0 | 1;
}

/**
 * §3.2: the status at `statusListIndex` for entries of `statusSize` bits, read from position
 * `statusListIndex × statusSize`, its left-most bit taken as the most significant.
 */
export function statusAtIndex(bytes: Uint8Array, statusListIndex: number, statusSize = 1): number {
  if (!Number.isSafeInteger(statusSize) || statusSize < 1 || statusSize > 8) throw new BitstringStatusListError('statusSize must be an integer from 1 to 8');
  if (!Number.isSafeInteger(statusListIndex) || statusListIndex < 0) throw new BitstringStatusListError(`index ${statusListIndex} is out of range`);
  const start = statusListIndex * statusSize;
  if (start + statusSize > bytes.length * 8) throw new BitstringStatusListError(`index ${statusListIndex} is out of range`);
  let value = 0;
  for (let i = 0; i < statusSize; i++) value = (value << 1) | bitAt(bytes, start + i);
  return value;
}

/** §2.1: `statusListIndex` is a non-negative integer written in base 10 (no sign, no leading zeros). */
export function parseStatusListIndex(value: string): number {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value)) throw new BitstringStatusListError('statusListIndex must be a base-10 integer string');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new BitstringStatusListError('statusListIndex is too large');
  return n;
}

/** §2.2 `credentialSubject` of a BitstringStatusListCredential. */
export interface BitstringStatusListSubject {
  id: string;
  type: typeof BITSTRING_STATUS_LIST_TYPE;
  statusPurpose: BitstringStatusPurpose;
  encodedList: string;
}

/** §2.1 `credentialStatus` entry of a credential whose status is kept in a Bitstring Status List. */
export interface BitstringStatusListEntry {
  id: string;
  type: typeof BITSTRING_STATUS_LIST_ENTRY_TYPE;
  statusPurpose: BitstringStatusPurpose;
  statusListIndex: string;
  statusListCredential: string;
}

function checkPurpose(statusPurpose: string): asserts statusPurpose is BitstringStatusPurpose {
  if (!PURPOSES.has(statusPurpose)) throw new BitstringStatusListError(`statusPurpose must be one of ${[...PURPOSES].join(', ')}`);
}

function checkUrl(value: string, what: string): void {
  if (typeof value !== 'string' || !URL.canParse(value)) throw new BitstringStatusListError(`${what} must be a URL`);
}

/** The status list credential's subject; `encodedList` is decoded once to make sure it is a valid list. */
export function buildStatusListSubject(opts: { id: string; statusPurpose: BitstringStatusPurpose; encodedList: string; maxBytes?: number }): BitstringStatusListSubject {
  checkUrl(opts.id, 'id');
  checkPurpose(opts.statusPurpose);
  decodeBitstring(opts.encodedList, opts.maxBytes);
  return { id: opts.id, type: BITSTRING_STATUS_LIST_TYPE, statusPurpose: opts.statusPurpose, encodedList: opts.encodedList };
}

/** The `credentialStatus` entry; `id` defaults to `<statusListCredential>#<index>` as in the spec's examples. */
export function buildStatusListEntry(opts: { statusListCredential: string; statusListIndex: number; statusPurpose: BitstringStatusPurpose; id?: string }): BitstringStatusListEntry {
  checkUrl(opts.statusListCredential, 'statusListCredential');
  checkPurpose(opts.statusPurpose);
  if (!Number.isSafeInteger(opts.statusListIndex) || opts.statusListIndex < 0) throw new BitstringStatusListError('statusListIndex must be a non-negative integer');
  const index = String(opts.statusListIndex);
  const id = opts.id ?? `${opts.statusListCredential}#${index}`;
  checkUrl(id, 'id');
  return { id, type: BITSTRING_STATUS_LIST_ENTRY_TYPE, statusPurpose: opts.statusPurpose, statusListIndex: index, statusListCredential: opts.statusListCredential };
}
