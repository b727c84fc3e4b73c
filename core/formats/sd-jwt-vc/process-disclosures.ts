import type { ConcretePath } from './claim-path.ts';
import { sdDigest } from './hasher.ts';

/**
 * Disclosure decoding and digest processing, RFC 9901 §4.2 and §7.1 steps 3 to 5, shared by the
 * verifier and by the holder (which needs the same map of claim paths to Disclosures).
 *
 * Written here rather than delegated to @sd-jwt (decode `unpack`, utils `Disclosure`), which in
 * 0.19.0 (measured, see tests/formats/sd-jwt-library-behaviour.test.ts):
 * - accepts a Disclosure that is a JSON string of length 2 or 3 (`"abc"` discloses claim `b` = `c`);
 * - silently ignores a 2-element Disclosure referenced from `_sd`, and uses a 3-element one
 *   referenced from an array position (§7.1 3.3.2.1 and 3.3.3.1 say reject);
 * - lets a Disclosure named `_sd` or `...` through and lets a Disclosure overwrite a plaintext
 *   claim of the same name (§7.1 3.3.2.2, 3.3.2.3 say reject);
 * - does not notice a digest occurring twice (§7.1 step 4) nor an unreferenced Disclosure (step 5).
 */

export interface DecodedDisclosure {
  /** The base64url string as received; its digest is over these characters (RFC 9901 §4.2.3). */
  encoded: string;
  digest: string;
  salt: string;
  /** Claim name for an object-property Disclosure (3 elements); absent for an array element (2 elements). */
  name?: string;
  value: unknown;
}

export interface PlacedDisclosure {
  disclosure: DecodedDisclosure;
  /** Where the disclosed claim sits in the processed payload (array indices after undisclosed elements are removed). */
  path: ConcretePath;
  /** Where its digest sits in the issuer-signed payload (array indices counting digest placeholders). */
  rawPath: ConcretePath;
}

export type ProcessOutcome =
  | { ok: true; claims: Record<string, unknown>; placed: PlacedDisclosure[] }
  | { ok: false; code: 'malformed' | 'disclosure_invalid' | 'disclosure_duplicate' | 'disclosure_unreferenced'; message: string };

class Reject extends Error {
  constructor(
    readonly code: 'malformed' | 'disclosure_invalid' | 'disclosure_duplicate' | 'disclosure_unreferenced',
    message: string,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Own property assignment that cannot hit `__proto__` setters. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** RFC 9901 §4.2.1 / §4.2.2: a Disclosure is base64url(JSON array [salt, name, value] or [salt, value]), salt and name strings. */
export function decodeDisclosure(encoded: string): DecodedDisclosure | string {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return 'a Disclosure is not base64url-encoded JSON';
  }
  if (!Array.isArray(data) || (data.length !== 2 && data.length !== 3)) return 'a Disclosure is not a JSON array of 2 or 3 elements';
  if (typeof data[0] !== 'string') return 'a Disclosure salt is not a string';
  const digest = sdDigest(encoded);
  if (data.length === 2) return { encoded, digest, salt: data[0], value: data[1] };
  if (typeof data[1] !== 'string') return 'a Disclosure claim name is not a string';
  return { encoded, digest, salt: data[0], name: data[1], value: data[2] };
}

/**
 * Replaces the digests in `payload` by the Disclosures they reference, recursively, and checks
 * every MUST of RFC 9901 §7.1 steps 3 to 5. `payload` is the Issuer-signed JWT payload (JSON).
 */
export function processDisclosures(payload: Record<string, unknown>, encodedDisclosures: readonly string[]): ProcessOutcome {
  const byDigest = new Map<string, DecodedDisclosure>();
  for (const encoded of encodedDisclosures) {
    const d = decodeDisclosure(encoded);
    if (typeof d === 'string') return { ok: false, code: 'disclosure_invalid', message: d };
    // RFC 9901 §4: "A Holder MUST NOT … send a Disclosure more than once." Two equal strings have equal digests.
    if (byDigest.has(d.digest)) return { ok: false, code: 'disclosure_duplicate', message: 'the same Disclosure is presented more than once' };
    byDigest.set(d.digest, d);
  }

  const seenDigests = new Set<string>();
  const placed: PlacedDisclosure[] = [];

  const seeDigest = (digest: string): DecodedDisclosure | undefined => {
    // RFC 9901 §4.1 "The same digest value MUST NOT appear more than once" and §7.1 step 4.
    if (seenDigests.has(digest)) throw new Reject('disclosure_duplicate', 'a digest occurs more than once in the SD-JWT');
    seenDigests.add(digest);
    // §7.1 3.3.1: a digest without a matching Disclosure (undisclosed claim or decoy) is ignored.
    return byDigest.get(digest);
  };

  const walk = (value: unknown, path: ConcretePath, rawPath: ConcretePath): unknown => {
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      value.forEach((element, rawIndex) => {
        if (isObject(element) && Object.hasOwn(element, '...')) {
          // §4.2.4.2: an array digest is an object whose only key is "..." and whose value is a string.
          const digest = element['...'];
          if (Object.keys(element).length !== 1 || typeof digest !== 'string') throw new Reject('malformed', '"..." used other than as an array element digest');
          const d = seeDigest(digest);
          if (!d) return; // §7.1 3.4: undisclosed array elements are removed
          // §7.1 3.3.3.1: a digest in an array must reference a 2-element Disclosure.
          if (d.name !== undefined) throw new Reject('disclosure_invalid', 'an object-property Disclosure is referenced from an array');
          const at = [...path, out.length];
          const rawAt = [...rawPath, rawIndex];
          placed.push({ disclosure: d, path: at, rawPath: rawAt });
          out.push(walk(d.value, at, rawAt));
        } else {
          out.push(walk(element, [...path, out.length], [...rawPath, rawIndex]));
        }
      });
      return out;
    }
    if (!isObject(value)) return value;

    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (key === '_sd') continue;
      // RFC 9901 §4.1 item 7: `...` only conveys array digests; §4.1.1: `_sd_alg` only at the top level.
      if (key === '...') throw new Reject('malformed', '"..." used as an object member');
      if (key === '_sd_alg') {
        if (path.length > 0) throw new Reject('malformed', '_sd_alg inside a nested object');
        continue; // §7.1 3.6: removed from the processed payload
      }
      put(out, key, walk(member, [...path, key], [...rawPath, key]));
    }
    if (Object.hasOwn(value, '_sd')) {
      const sd = value['_sd'];
      // §4.2.4.1: "The `_sd` key MUST refer to an array of strings".
      if (!Array.isArray(sd) || sd.some((x) => typeof x !== 'string')) throw new Reject('malformed', '_sd is not an array of strings');
      for (const digest of sd as string[]) {
        const d = seeDigest(digest);
        if (!d) continue;
        // §7.1 3.3.2.1: a digest in `_sd` must reference a 3-element Disclosure.
        if (d.name === undefined) throw new Reject('disclosure_invalid', 'an array-element Disclosure is referenced from _sd');
        // §7.1 3.3.2.2 and §4.2.1: the claim name must not be `_sd` or `...`.
        if (d.name === '_sd' || d.name === '...') throw new Reject('disclosure_invalid', `a Disclosure uses the reserved claim name ${d.name}`);
        // §7.1 3.3.2.3: the claim name must not already exist at that level.
        if (Object.hasOwn(out, d.name)) throw new Reject('disclosure_invalid', 'a Disclosure repeats a claim name that already exists at its level');
        const at = [...path, d.name];
        const rawAt = [...rawPath, d.name];
        placed.push({ disclosure: d, path: at, rawPath: rawAt });
        put(out, d.name, walk(d.value, at, rawAt));
      }
    }
    return out;
  };

  let claims: Record<string, unknown>;
  try {
    claims = walk(payload, [], []) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof Reject) return { ok: false, code: err.code, message: err.message };
    throw err;
  }

  // §7.1 step 5: every Disclosure must be referenced, directly or via another Disclosure.
  const used = new Set(placed.map((p) => p.disclosure.digest));
  if ([...byDigest.keys()].some((digest) => !used.has(digest))) {
    return { ok: false, code: 'disclosure_unreferenced', message: 'a Disclosure is not referenced by any digest' };
  }
  return { ok: true, claims, placed };
}
