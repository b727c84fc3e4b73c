import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { decompressStatusList, encodeStatusList, statusAt, StatusListError, type Bits } from '../../core/status-list/token-status-list.ts';

/** The spec examples in tests/vectors/token-status-list/ (JSON with a line-wrapped `lst`). */
function vector(name: string): { bits: Bits; lst: string; byteArray?: number[] } {
  const text = readFileSync(new URL(`../vectors/token-status-list/${name}`, import.meta.url), 'utf8');
  const json = text.slice(text.indexOf('{'));
  const bits = Number(/"bits":\s*(\d+)/.exec(json)![1]) as Bits;
  const lst = /"lst":\s*"([^"]+)"/.exec(json)![1]!.replace(/\s+/g, '');
  const arr = /byte_array = \[([^\]]+)\]/.exec(text)?.[1];
  return { bits, lst, ...(arr ? { byteArray: arr.split(',').map((h) => parseInt(h.trim(), 16)) } : {}) };
}

const LONG: Record<string, [number, number][]> = {
  // draft-ietf-oauth-status-list, Appendix "Test vectors for Status List encoding", 1-bit Status List
  'status_list_encoding1_long_json.md': [[0, 1], [1993, 1], [25460, 1], [159495, 1], [495669, 1], [554353, 1], [645645, 1], [723232, 1], [854545, 1], [934534, 1], [1000345, 1]],
  // … 2-bit Status List
  'status_list_encoding2_long_json.md': [[0, 1], [1993, 2], [25460, 1], [159495, 3], [495669, 1], [554353, 1], [645645, 2], [723232, 1], [854545, 1], [934534, 2], [1000345, 3]],
};

describe('Token Status List codec against the spec examples', () => {
  it('§4.1 1-bit example: byte array 0xB9 0xA3', () => {
    const v = vector('status_list_encoding_json.md');
    expect([...decompressStatusList(v.lst)]).toEqual(v.byteArray);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => statusAt(decompressStatusList(v.lst), 1, i))).toEqual([1, 0, 0, 1, 1, 1, 0, 1]);
  });

  it('§4.1 2-bit example: statuses 01 10 00 11 …', () => {
    const v = vector('status_list_encoding2_json.md');
    const bytes = decompressStatusList(v.lst);
    expect([...bytes]).toEqual(v.byteArray);
    expect(Array.from({ length: 12 }, (_, i) => statusAt(bytes, 2, i))).toEqual([1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]);
    // Our encoder produces the same byte array.
    const ours = encodeStatusList(Array.from({ length: 12 }, (_, i) => [i, [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3][i]!] as [number, number]), 2, 12);
    expect([...decompressStatusList(ours.lst)]).toEqual(v.byteArray);
  });

  for (const [file, set] of Object.entries(LONG)) {
    it(`Appendix test vector ${file}: exactly the listed indices are set`, () => {
      const v = vector(file);
      const bytes = decompressStatusList(v.lst);
      for (const [i, value] of set) expect(statusAt(bytes, v.bits, i), `index ${i}`).toBe(value);
      let nonZero = 0;
      for (let i = 0; i < (bytes.length * 8) / v.bits; i++) if (statusAt(bytes, v.bits, i) !== 0) nonZero++;
      expect(nonZero).toBe(set.length);
      // Round trip through our encoder.
      const again = encodeStatusList(set, v.bits, (bytes.length * 8) / v.bits);
      expect(Buffer.from(decompressStatusList(again.lst)).equals(Buffer.from(bytes))).toBe(true);
    });
  }

  it('refuses an index out of range, a list that is not compressed, and a decompression bomb', () => {
    const { lst } = encodeStatusList([[3, 2]], 2, 16);
    const bytes = decompressStatusList(lst);
    expect(() => statusAt(bytes, 2, 16)).toThrow(StatusListError);
    expect(() => statusAt(bytes, 2, -1)).toThrow(StatusListError);
    expect(() => decompressStatusList(Buffer.from('not compressed at all').toString('base64url'))).toThrow(/ZLIB/);
    expect(() => decompressStatusList('***')).toThrow(/base64url/);
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64url');
    expect(() => decompressStatusList(bomb)).toThrow(StatusListError);
  });
});
