import { describe, expect, it } from 'vitest';
import { deflateSync, gzipSync } from 'node:zlib';
import {
  bitAt,
  BITSTRING_MIN_BITS,
  BITSTRING_MIN_BYTES,
  BitstringStatusListError,
  buildStatusListEntry,
  buildStatusListSubject,
  decodeBitstring,
  encodeBitstring,
  parseStatusListIndex,
  statusAtIndex,
} from '../../core/status-list/bitstring-status-list.ts';

/**
 * W3C Bitstring Status List v1.0, W3C Recommendation 15 May 2025, §2.2 Example 3
 * ("Example BitstringStatusListCredential"), credentialSubject.encodedList.
 */
const SPEC_EXAMPLE_3 = 'uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA';

const u = (bytes: Uint8Array) => 'u' + Buffer.from(bytes).toString('base64url');

describe('Bitstring Status List codec', () => {
  it('W3C REC 2025-05-15 §2.2 Example 3 encodedList decodes to 131,072 zero bits', () => {
    const bytes = decodeBitstring(SPEC_EXAMPLE_3);
    expect(bytes.length).toBe(16_384);
    expect(bytes.length * 8).toBe(BITSTRING_MIN_BITS);
    expect(bytes.every((b) => b === 0)).toBe(true);
    expect(bitAt(bytes, 0)).toBe(0);
    expect(bitAt(bytes, 131_071)).toBe(0);
  });

  it('encoding an empty 131,072-bit list gives exactly the §2.2 Example 3 encodedList', () => {
    expect(encodeBitstring([])).toBe(SPEC_EXAMPLE_3);
  });

  it('round trip: exactly the set indices read 1', () => {
    const set = [0, 1, 7, 8, 9, 1993, 25_460, 94_567, 131_071];
    const bytes = decodeBitstring(encodeBitstring(set));
    expect(bytes.length).toBe(BITSTRING_MIN_BYTES);
    const ones: number[] = [];
    for (let i = 0; i < bytes.length * 8; i++) if (bitAt(bytes, i) === 1) ones.push(i);
    expect(ones).toEqual(set);
  });

  it('round trip with a larger list (262,144 bits) and duplicate indices', () => {
    const encoded = encodeBitstring(new Set([5, 200_000, 262_143, 5]), 262_144);
    const bytes = decodeBitstring(encoded);
    expect(bytes.length).toBe(32_768);
    expect([5, 200_000, 262_143].map((i) => bitAt(bytes, i))).toEqual([1, 1, 1]);
    expect(bytes.reduce((n, b) => n + (b === 0 ? 0 : 1), 0)).toBe(3);
  });

  it('bit order: index 0 is the most significant bit of byte 0, index 7 the least, index 8 the MSB of byte 1', () => {
    const bytes = decodeBitstring(encodeBitstring([0, 7, 8, 131_071]));
    expect(bytes[0]).toBe(0b1000_0001);
    expect(bytes[1]).toBe(0b1000_0000);
    expect(bytes[bytes.length - 1]).toBe(0b0000_0001);
    // Reading a hand-made bitstring: 0x40 in byte 0 is index 1, 0x01 in byte 2 is index 23.
    const raw = new Uint8Array(BITSTRING_MIN_BYTES);
    raw[0] = 0x40;
    raw[2] = 0x01;
    expect([0, 1, 2, 7, 16, 22, 23].map((i) => bitAt(raw, i))).toEqual([0, 1, 0, 0, 0, 0, 1]);
    expect(decodeBitstring(u(gzipSync(raw)))).toEqual(raw);
  });

  it('bitAt refuses an index out of range, negative or not an integer', () => {
    const bytes = decodeBitstring(SPEC_EXAMPLE_3);
    expect(() => bitAt(bytes, 131_072)).toThrow(BitstringStatusListError);
    expect(() => bitAt(bytes, -1)).toThrow(BitstringStatusListError);
    expect(() => bitAt(bytes, 1.5)).toThrow(BitstringStatusListError);
    expect(() => bitAt(bytes, Number.NaN)).toThrow(BitstringStatusListError);
    expect(() => bitAt(new Uint8Array(0), 0)).toThrow(/out of range/);
  });

  it('statusAtIndex reads statusSize bits at statusListIndex × statusSize, left-most bit most significant', () => {
    const raw = new Uint8Array(BITSTRING_MIN_BYTES);
    raw[0] = 0b01_10_11_00; // 2-bit statuses 1, 2, 3, 0
    expect([0, 1, 2, 3].map((i) => statusAtIndex(raw, i, 2))).toEqual([1, 2, 3, 0]);
    expect(statusAtIndex(raw, 1)).toBe(1); // statusSize 1 by default
    expect(statusAtIndex(raw, 65_535, 2)).toBe(0);
    expect(() => statusAtIndex(raw, 65_536, 2)).toThrow(BitstringStatusListError);
    expect(() => statusAtIndex(raw, 0, 0)).toThrow(BitstringStatusListError);
  });

  it('encodeBitstring refuses a size under 131,072 bits, a size that is not whole bytes and an index outside the list', () => {
    expect(() => encodeBitstring([], 131_064)).toThrow(BitstringStatusListError);
    expect(() => encodeBitstring([], 131_073)).toThrow(/whole number of bytes/);
    expect(() => encodeBitstring([131_072])).toThrow(/outside/);
    expect(() => encodeBitstring([-1])).toThrow(/outside/);
    expect(() => encodeBitstring([2.5])).toThrow(/outside/);
  });
});

describe('decodeBitstring refusals', () => {
  const zeros = gzipSync(new Uint8Array(BITSTRING_MIN_BYTES));

  it('refuses a multibase prefix other than u (base64url): none, U, m, z', () => {
    const b64u = zeros.toString('base64url');
    expect(() => decodeBitstring(b64u)).toThrow(/prefix u/); // H4sI… without a prefix
    expect(() => decodeBitstring('U' + b64u)).toThrow(BitstringStatusListError);
    expect(() => decodeBitstring('m' + zeros.toString('base64'))).toThrow(/prefix u/);
    expect(() => decodeBitstring('z' + b64u)).toThrow(/prefix u/);
    expect(() => decodeBitstring('')).toThrow(/prefix u/);
  });

  it('refuses bad base64url: padding, standard-alphabet characters, whitespace, an impossible length, non-canonical trailing bits, empty', () => {
    expect(() => decodeBitstring(SPEC_EXAMPLE_3 + '==')).toThrow(/base64url/);
    expect(() => decodeBitstring('u' + zeros.toString('base64').replace(/=+$/, '') + '+/')).toThrow(/base64url/);
    expect(() => decodeBitstring(SPEC_EXAMPLE_3.slice(0, 20) + ' ' + SPEC_EXAMPLE_3.slice(20))).toThrow(/base64url/);
    expect(() => decodeBitstring(SPEC_EXAMPLE_3 + 'A')).toThrow(/base64url/); // 69 characters: length % 4 === 1
    // The last character of a 51-byte string carries no unused bits; make a 52-byte one and flip an unused bit.
    const canonical = u(Buffer.concat([zeros, Buffer.from([0])]));
    const last = canonical.at(-1)!;
    expect(last).toBe('A');
    expect(() => decodeBitstring(canonical.slice(0, -1) + 'B')).toThrow(/canonical/);
    expect(() => decodeBitstring('u')).toThrow(/base64url/);
  });

  it('refuses data that is not GZIP: raw bytes, ZLIB (DEFLATE with a zlib header), a truncated GZIP stream, trailing garbage', () => {
    expect(() => decodeBitstring(u(new Uint8Array(BITSTRING_MIN_BYTES)))).toThrow(/not GZIP/);
    expect(() => decodeBitstring(u(deflateSync(new Uint8Array(BITSTRING_MIN_BYTES))))).toThrow(/not GZIP/);
    expect(() => decodeBitstring(u(zeros.subarray(0, zeros.length - 4)))).toThrow(/GZIP/);
    expect(() => decodeBitstring(u(Buffer.concat([zeros, Buffer.from('garbage')])))).toThrow(/GZIP/);
    const corrupt = Buffer.from(zeros);
    corrupt[corrupt.length - 8]! ^= 0xff; // CRC32 no longer matches
    expect(() => decodeBitstring(u(corrupt))).toThrow(/GZIP/);
  });

  it('refuses an uncompressed bitstring under 16 KB (131,072 bits)', () => {
    expect(() => decodeBitstring(u(gzipSync(new Uint8Array(BITSTRING_MIN_BYTES - 1))))).toThrow(/shorter than 16384 bytes/);
    expect(() => decodeBitstring(u(gzipSync(new Uint8Array(0))))).toThrow(BitstringStatusListError);
    expect(decodeBitstring(u(gzipSync(new Uint8Array(BITSTRING_MIN_BYTES)))).length).toBe(BITSTRING_MIN_BYTES);
  });

  it('refuses an output over the limit (default 16 MiB, or maxBytes): a 64 MiB zero-buffer GZIP bomb stops at the limit', () => {
    const bomb = u(gzipSync(Buffer.alloc(64 * 1024 * 1024)));
    expect(bomb.length).toBeLessThan(100_000);
    const started = Date.now();
    expect(() => decodeBitstring(bomb)).toThrow(/larger than 16777216 bytes/);
    expect(Date.now() - started).toBeLessThan(5_000);
    const twice = encodeBitstring([], 2 * BITSTRING_MIN_BITS);
    expect(() => decodeBitstring(twice, BITSTRING_MIN_BYTES)).toThrow(/larger than 16384 bytes/);
    expect(decodeBitstring(twice, 2 * BITSTRING_MIN_BYTES).length).toBe(2 * BITSTRING_MIN_BYTES);
  });
});

describe('Bitstring Status List builders', () => {
  it('status list credential subject: { id, type BitstringStatusList, statusPurpose, encodedList }', () => {
    const encodedList = encodeBitstring([94_567]);
    expect(buildStatusListSubject({ id: 'https://example.com/status/3#list', statusPurpose: 'revocation', encodedList })).toEqual({
      id: 'https://example.com/status/3#list',
      type: 'BitstringStatusList',
      statusPurpose: 'revocation',
      encodedList,
    });
  });

  it('status list subject refuses an invalid encodedList, an unknown purpose and an id that is not a URL', () => {
    expect(() => buildStatusListSubject({ id: 'https://example.com/status/3#list', statusPurpose: 'revocation', encodedList: 'not-a-list' })).toThrow(BitstringStatusListError);
    expect(() => buildStatusListSubject({ id: 'https://example.com/status/3#list', statusPurpose: 'message' as never, encodedList: SPEC_EXAMPLE_3 })).toThrow(/statusPurpose/);
    expect(() => buildStatusListSubject({ id: 'list 3', statusPurpose: 'suspension', encodedList: SPEC_EXAMPLE_3 })).toThrow(/URL/);
  });

  it('BitstringStatusListEntry: statusListIndex as a base-10 string, id defaulting to <statusListCredential>#<index> (spec Example 1 shape)', () => {
    expect(buildStatusListEntry({ statusListCredential: 'https://example.com/credentials/status/3', statusListIndex: 94_567, statusPurpose: 'revocation' })).toEqual({
      id: 'https://example.com/credentials/status/3#94567',
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: '94567',
      statusListCredential: 'https://example.com/credentials/status/3',
    });
    const withId = buildStatusListEntry({ statusListCredential: 'https://example.com/s/4', statusListIndex: 0, statusPurpose: 'suspension', id: 'urn:uuid:7f1e3b1c-3a59-4a43-9f4d-2f9c5a9d2b11' });
    expect(withId.id).toBe('urn:uuid:7f1e3b1c-3a59-4a43-9f4d-2f9c5a9d2b11');
    expect(withId.statusListIndex).toBe('0');
  });

  it('BitstringStatusListEntry refuses a negative or fractional index and a statusListCredential that is not a URL', () => {
    const base = { statusListCredential: 'https://example.com/s/4', statusPurpose: 'revocation' as const };
    expect(() => buildStatusListEntry({ ...base, statusListIndex: -1 })).toThrow(BitstringStatusListError);
    expect(() => buildStatusListEntry({ ...base, statusListIndex: 1.5 })).toThrow(BitstringStatusListError);
    expect(() => buildStatusListEntry({ ...base, statusListCredential: 'status list 4', statusListIndex: 1 })).toThrow(/URL/);
  });

  it('parseStatusListIndex accepts base-10 integer strings only', () => {
    expect(parseStatusListIndex('0')).toBe(0);
    expect(parseStatusListIndex('94567')).toBe(94_567);
    for (const bad of ['', '-1', '+1', '01', '1.0', '1e3', '0x10', ' 1', '99999999999999999999']) expect(() => parseStatusListIndex(bad), bad).toThrow(BitstringStatusListError);
  });
});
