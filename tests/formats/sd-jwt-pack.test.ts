import { verify } from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { describe, expect, it } from 'vitest';
import { es256Sign } from '../../core/formats/sd-jwt-vc/es256.ts';
import { SD_ALG, sha256Hasher } from '../../core/formats/sd-jwt-vc/hasher.ts';
import { type DisclosureFrame, packClaims } from '../../core/formats/sd-jwt-vc/pack.ts';
import { type DisclosablePath, type IssueSdJwtVcArgs, issueSdJwtVc, sdJwtVcParts } from '../../core/formats/sd-jwt-vc/issue-sd-jwt-vc.ts';
import { CLAIMS, ISSUER_DID, T0_S, VCT, countingSalt, holderKeys, issuerKeys, signerFor } from './sd-jwt-vc-fixtures.ts';

/**
 * Our RFC 9901 packing (core/formats/sd-jwt-vc/pack.ts) against @sd-jwt's `issue`, which did the
 * packing before (issue 16): for the same arguments and the same salts, the issuer-signed JWT's
 * header and payload and every disclosure must be byte for byte what the library writes. Only the
 * ECDSA signature differs (it is randomized); ours must verify under the issuer key.
 */

async function libraryIssue(args: IssueSdJwtVcArgs): Promise<string> {
  const { header, payload, frame, salt } = sdJwtVcParts(args);
  const sdjwt = new SDJwtVcInstance({ signer: es256Sign(args.signer.privateKey), signAlg: args.signer.alg, hasher: sha256Hasher, hashAlg: SD_ALG, saltGenerator: () => salt() });
  return sdjwt.issue(payload as Parameters<typeof sdjwt.issue>[0], frame as never, { header: header as never });
}

/** Splits a compact SD-JWT into signing input, signature and disclosures (the trailing `~` kept as an empty last element). */
function parts(sdJwt: string) {
  const [jwt, ...disclosures] = sdJwt.split('~');
  const dot = jwt!.lastIndexOf('.');
  return { signingInput: jwt!.slice(0, dot), signature: jwt!.slice(dot + 1), disclosures };
}

async function expectSameAsLibrary(overrides: Partial<IssueSdJwtVcArgs>) {
  const args: IssueSdJwtVcArgs = { signer: await signerFor(issuerKeys), iss: ISSUER_DID, vct: VCT, claims: CLAIMS, cnf: { jwk: holderKeys.publicJwk }, iat: T0_S, exp: T0_S + 86400, ...overrides };
  const ours = parts(await issueSdJwtVc({ ...args, salt: countingSalt() }));
  const theirs = parts(await libraryIssue({ ...args, salt: countingSalt() }));
  expect(ours.signingInput).toBe(theirs.signingInput);
  expect(ours.disclosures).toEqual(theirs.disclosures);
  expect(verify('sha256', Buffer.from(ours.signingInput, 'ascii'), { key: issuerKeys.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(ours.signature, 'base64url'))).toBe(true);
  return ours;
}

/** A small deterministic generator, so a failure names a seed that reproduces it. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const STRINGS = ['Leipzig', 'Straße', 'Ørsted', '東京', 'emoji 👩‍⚕️', '', 'quote " and \\ and \n', '\u2028', 'a~b'];

function randomJson(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth <= 0 || pick < 0.45) {
    const leaf = [() => STRINGS[Math.floor(r() * STRINGS.length)], () => Math.floor(r() * 2000) - 1000, () => r() * 10, () => r() < 0.5, () => null][Math.floor(r() * 5)]!;
    return leaf();
  }
  if (pick < 0.7) return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth - 1));
  return Object.fromEntries(Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => [`m${i}${STRINGS[Math.floor(r() * 3)]}`, randomJson(r, depth - 1)]));
}

/** Some of the paths that name a claim: object members and array elements at any depth. */
function randomPaths(r: () => number, value: unknown, prefix: DisclosablePath, out: DisclosablePath[]): DisclosablePath[] {
  const children: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : typeof value === 'object' && value !== null ? Object.entries(value) : [];
  for (const [seg, child] of children) {
    const path = [...prefix, seg];
    if (r() < 0.6) out.push(path);
    randomPaths(r, child, path, out);
  }
  return out;
}

/** A library frame for `value`: random members and elements disclosed, random decoys at any level. */
function randomFrame(r: () => number, value: unknown): DisclosureFrame {
  const frame: DisclosureFrame & { _sd: (string | number)[] } = { _sd: [] };
  const children: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : typeof value === 'object' && value !== null ? Object.entries(value) : [];
  for (const [seg, child] of children) {
    if (r() < 0.5) frame._sd.push(seg);
    if (typeof child === 'object' && child !== null && r() < 0.7) frame[String(seg)] = randomFrame(r, child);
  }
  if (r() < 0.4) frame._sd_decoy = 1 + Math.floor(r() * 3);
  return frame;
}

describe('SD-JWT VC packing is the library packing', () => {
  it('the default: every member at every depth, nested objects packed recursively', async () => {
    const { disclosures } = await expectSameAsLibrary({});
    // vorname, nachname, geburtsdatum, anschrift (+ its four members), staatsangehoerigkeiten, and the trailing empty part
    expect(disclosures).toHaveLength(10);
  });

  it('explicit paths, array elements, decoys, status, nbf, vct#integrity and x5c', async () => {
    await expectSameAsLibrary({
      claims: { ...CLAIMS, kinder: [{ name: 'Max' }, { name: 'Moritz', geburtsjahr: 2010 }], merkmale: ['a', 'b', 'c'] },
      disclosable: [['kinder', 1], ['kinder', 0, 'name'], ['merkmale', 2], ['merkmale', 0], ['anschrift', 'ort'], ['vorname']],
      decoys: 3,
      nbf: T0_S - 10,
      status: { status_list: { idx: 42, uri: 'https://issuer.example/status/1' } },
      vctIntegrity: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      x5c: ['MIIBszCCAVmgAwIBAgIU'],
    });
  });

  it('nothing disclosable: no _sd, no _sd_alg, no disclosures', async () => {
    const ours = await expectSameAsLibrary({ disclosable: [], decoys: 2 });
    expect(ours.disclosures).toEqual(['']);
    const payload = JSON.parse(Buffer.from(ours.signingInput.split('.')[1]!, 'base64url').toString('utf8'));
    expect(payload).not.toHaveProperty('_sd');
    expect(payload).not.toHaveProperty('_sd_alg');
  });

  it('random claims and random paths (200 seeds)', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const claims = Object.fromEntries(Array.from({ length: 1 + Math.floor(r() * 5) }, (_, i) => [`c${i}`, randomJson(r, 3)]));
      const explicit = r() < 0.5;
      try {
        await expectSameAsLibrary({ claims, ...(explicit ? { disclosable: randomPaths(r, claims, [], []) } : {}), decoys: Math.floor(r() * 3) });
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`);
      }
    }
  });

  it('any frame, decoys in objects and arrays (200 seeds), against the library packing alone', async () => {
    const signer = await signerFor(issuerKeys);
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(1000 + seed);
      const claims = Object.fromEntries(Array.from({ length: 1 + Math.floor(r() * 5) }, (_, i) => [`c${i}`, randomJson(r, 3)]));
      const frame = randomFrame(r, claims);
      const ours = packClaims(claims, frame, countingSalt());
      const sdjwt = new SDJwtVcInstance({ signer: es256Sign(signer.privateKey), signAlg: 'ES256', hasher: sha256Hasher, hashAlg: SD_ALG, saltGenerator: countingSalt() });
      const [jwt, ...disclosures] = (await sdjwt.issue(claims as never, frame as never)).split('~');
      const { _sd_alg, ...packed } = JSON.parse(Buffer.from(jwt!.split('.')[1]!, 'base64url').toString('utf8'));
      expect({ seed, packed: ours.packed, disclosures: [...ours.disclosures, ''] }).toEqual({ seed, packed, disclosures });
    }
  });
});
