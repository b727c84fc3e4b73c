import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SdJwtVcUsageError, type SdJwtVcVerified, verifySdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import {
  AUD,
  CLAIMS,
  ISSUER_DID,
  NONCE,
  T0,
  T0_S,
  VCT,
  countingSalt,
  holderKeys,
  issue,
  issuerKeys,
  otherKeys,
  present,
  unjson64,
  verifyArgs,
} from './sd-jwt-vc-fixtures.ts';

/** Issue → present a subset → verify, and the shapes issue and present produce. */

const split = (sdJwt: string) => {
  const parts = sdJwt.split('~');
  const [h, p] = parts[0]!.split('.');
  return { header: unjson64(h!), payload: unjson64(p!), disclosures: parts.slice(1, -1), kb: parts[parts.length - 1]! };
};

async function verified(sdJwt: string, overrides = {}): Promise<SdJwtVcVerified> {
  const result = await verifySdJwtVc(verifyArgs(sdJwt, overrides));
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result;
}

const sortPaths = (paths: unknown[][]) => paths.map((p) => JSON.stringify(p)).sort();

describe('issueSdJwtVc', () => {
  it('signs ES256 with kid and typ dc+sd-jwt, puts only reserved claims in plaintext, uses _sd_alg sha-256', async () => {
    const sdJwt = await issue({ status: { status_list: { idx: 7, uri: 'https://status.leipzig.example/lists/1' } } });
    const { header, payload, disclosures, kb } = split(sdJwt);
    expect(header).toEqual({ alg: 'ES256', typ: 'dc+sd-jwt', kid: expect.stringMatching(new RegExp(`^${ISSUER_DID}#`)) });
    expect(kb).toBe('');
    expect(payload['_sd_alg']).toBe('sha-256');
    expect(Object.keys(payload).sort()).toEqual(['_sd', '_sd_alg', 'cnf', 'exp', 'iat', 'iss', 'status', 'vct']);
    expect(payload['cnf']).toEqual({ jwk: { kty: 'EC', crv: 'P-256', x: holderKeys.publicJwk.x, y: holderKeys.publicJwk.y } });
    // 5 top-level claims + 4 members of anschrift (recursive disclosure), nothing for array elements.
    expect(disclosures).toHaveLength(9);
    expect(payload['_sd']).toHaveLength(5);
  });

  it('copies only the public members of cnf.jwk', async () => {
    const privateJwk = holderKeys.privateKey.export({ format: 'jwk' });
    const { payload } = split(await issue({ cnf: { jwk: privateJwk as never } }));
    expect(payload['cnf']).toEqual({ jwk: { kty: 'EC', crv: 'P-256', x: holderKeys.publicJwk.x, y: holderKeys.publicJwk.y } });
  });

  it('is deterministic with an injected salt generator (up to the randomized ECDSA signature)', async () => {
    const withoutSignature = (s: string) => s.replace(/^([^.]+\.[^.]+)\.[^~]+/, '$1');
    const a = await issue({ salt: countingSalt() });
    const b = await issue({ salt: countingSalt() });
    expect(withoutSignature(a)).toBe(withoutSignature(b));
    expect(JSON.parse(Buffer.from(split(a).disclosures[0]!, 'base64url').toString())[0]).toMatch(/^s\d{4}$/);
  });

  it('uses 128-bit base64url salts by default', async () => {
    const { disclosures } = split(await issue());
    for (const d of disclosures) expect(JSON.parse(Buffer.from(d, 'base64url').toString())[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('makes only the listed claims disclosable when `disclosable` is given', async () => {
    const sdJwt = await issue({ disclosable: [['geburtsdatum'], ['anschrift', 'strasse'], ['staatsangehoerigkeiten', 0]] });
    const { payload, disclosures } = split(sdJwt);
    expect(disclosures).toHaveLength(3);
    expect(payload['vorname']).toBe('Erika');
    expect(payload['anschrift']).toEqual({ hausnummer: '17', postleitzahl: '04109', ort: 'Leipzig', _sd: [expect.any(String)] });
    expect(payload['staatsangehoerigkeiten']).toEqual([{ '...': expect.any(String) }]);
    const v = await verified(await present(sdJwt, []));
    expect(v.claims['geburtsdatum']).toBeUndefined();
    expect(v.claims['anschrift']).toEqual({ hausnummer: '17', postleitzahl: '04109', ort: 'Leipzig' });
    expect(v.claims['staatsangehoerigkeiten']).toEqual([]);
  });

  it('with `disclosable: []` has no _sd, no _sd_alg and no Disclosures (SD-JWT VC §2.2.2.5)', async () => {
    const sdJwt = await issue({ disclosable: [] });
    const { payload, disclosures } = split(sdJwt);
    expect(payload['_sd']).toBeUndefined();
    expect(payload['_sd_alg']).toBeUndefined();
    expect(disclosures).toEqual([]);
    expect(sdJwt.endsWith('~')).toBe(true);
    expect((await verified(await present(sdJwt, [['vorname']]))).claims['vorname']).toBe('Erika');
  });

  it('adds decoy digests that verify as ignorable', async () => {
    const sdJwt = await issue({ decoys: 4 });
    expect(split(sdJwt).payload['_sd']).toHaveLength(5 + 4);
    const v = await verified(await present(sdJwt, [['vorname']]));
    expect(v.claims['vorname']).toBe('Erika');
  });

  it.each([
    ['a reserved claim in claims (iss)', { claims: { ...CLAIMS, iss: 'x' } }],
    ['a reserved claim in claims (status)', { claims: { ...CLAIMS, status: {} } }],
    ['a reserved claim in claims (vct#integrity)', { claims: { ...CLAIMS, 'vct#integrity': 'x' } }],
    ['a nested _sd member', { claims: { a: { _sd: [] } } }],
    ['a nested ... member', { claims: { a: [{ '...': 'x' }] } }],
    ['a non-JSON value', { claims: { a: new Date() } }],
    ['a path that names no claim', { disclosable: [['anschrift', 'land']] }],
    ['a non-integer iat', { iat: 1.5 }],
    ['a missing iat', { iat: undefined }],
    ['a non-P-256 issuer key', { signer: { kid: 'did:web:x#1', alg: 'ES256', publicJwk: {}, privateKey: generateKeyPairSync('ed25519').privateKey } }],
    ['a non-P-256 cnf key', { cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } } }],
    ['a malformed status', { status: { status_list: { idx: -1, uri: 'x' } } }],
  ])('refuses %s', async (_name, overrides) => {
    await expect(issue(overrides as never)).rejects.toBeInstanceOf(SdJwtVcUsageError);
  });
});

describe('issue → present → verify', () => {
  it('returns exactly the chosen claims; undisclosed ones are absent', async () => {
    const sdJwt = await issue({ status: { status_list: { idx: 7, uri: 'https://status.leipzig.example/lists/1' } } });
    const presentation = await present(sdJwt, [['vorname'], ['anschrift', 'ort']]);
    // vorname, anschrift (parent, needed to reach ort), ort: nothing else.
    expect(split(presentation).disclosures).toHaveLength(3);

    const v = await verified(presentation);
    expect(v.claims).toEqual({
      iss: ISSUER_DID,
      iat: T0_S - 3600,
      exp: T0_S + 365 * 86400,
      vct: VCT,
      cnf: { jwk: { kty: 'EC', crv: 'P-256', x: holderKeys.publicJwk.x, y: holderKeys.publicJwk.y } },
      status: { status_list: { idx: 7, uri: 'https://status.leipzig.example/lists/1' } },
      vorname: 'Erika',
      anschrift: { ort: 'Leipzig' },
    });
    expect(sortPaths(v.disclosedPaths)).toEqual(sortPaths([['vorname'], ['anschrift'], ['anschrift', 'ort']]));
    expect(v).toMatchObject({ vct: VCT, iss: ISSUER_DID, iat: T0_S - 3600, exp: T0_S + 365 * 86400, status: { status_list: { idx: 7 } } });
    expect(v.cnfJwk).toMatchObject({ x: holderKeys.publicJwk.x });
    expect(v.keyBinding).toEqual({ iat: T0_S, aud: AUD, nonce: NONCE, sd_hash: expect.any(String) });
    expect(v.header['kid']).toMatch(new RegExp(`^${ISSUER_DID}#`));
    expect(v.payload['_sd']).toBeDefined(); // the signed payload, untouched
    expect(v.claims['_sd']).toBeUndefined();
  });

  it('writes a KB-JWT with typ kb+jwt, alg ES256 and the four required claims', async () => {
    const { kb } = split(await present(await issue(), [['vorname']]));
    const [h, p] = kb.split('.');
    expect(unjson64(h!)).toEqual({ typ: 'kb+jwt', alg: 'ES256' });
    expect(Object.keys(unjson64(p!)).sort()).toEqual(['aud', 'iat', 'nonce', 'sd_hash']);
  });

  it('disclosing an object discloses all of it', async () => {
    const v = await verified(await present(await issue(), [['anschrift']]));
    expect(v.claims['anschrift']).toEqual(CLAIMS.anschrift);
    expect(v.disclosedPaths).toHaveLength(5);
  });

  it('disclosing nothing leaves only the plaintext claims', async () => {
    const presentation = await present(await issue(), []);
    expect(split(presentation).disclosures).toEqual([]);
    const v = await verified(presentation);
    expect(Object.keys(v.claims).sort()).toEqual(['cnf', 'exp', 'iat', 'iss', 'vct']);
    expect(v.disclosedPaths).toEqual([]);
  });

  it('handles array elements by index and null (all elements)', async () => {
    const sdJwt = await issue({
      claims: { sprachen: ['de', 'en', 'fr'] },
      disclosable: [['sprachen'], ['sprachen', 0], ['sprachen', 1], ['sprachen', 2]],
    });
    const one = await verified(await present(sdJwt, [['sprachen', 1]]));
    expect(one.claims['sprachen']).toEqual(['en']);
    expect(sortPaths(one.disclosedPaths)).toEqual(sortPaths([['sprachen'], ['sprachen', 0]]));
    const all = await verified(await present(sdJwt, [['sprachen', null]]));
    expect(all.claims['sprachen']).toEqual(['de', 'en', 'fr']);
  });

  it('lets the holder check its credential before storing it (no Key Binding)', async () => {
    const sdJwt = await issue();
    const v = await verified(sdJwt, { requireKeyBinding: false, expectedNonce: undefined, expectedAud: undefined });
    expect(v.claims).toMatchObject(CLAIMS);
    expect(v.keyBinding).toBeUndefined();
  });

  it('passes the unverified header and payload to the issuer key callback', async () => {
    const seen: unknown[] = [];
    const args = verifyArgs(await present(await issue(), []));
    const inner = args.issuerKey;
    const result = await verifySdJwtVc({
      ...args,
      issuerKey: async (header, payload) => {
        seen.push(header['kid'], payload['iss']);
        return inner(header, payload);
      },
    });
    expect(result.ok).toBe(true);
    expect(seen).toEqual([expect.stringMatching(new RegExp(`^${ISSUER_DID}#`)), ISSUER_DID]);
  });

  it('accepts an issuer KeyObject as well as a JWK', async () => {
    const result = await verifySdJwtVc(verifyArgs(await present(await issue(), []), { issuerKey: async () => issuerKeys.publicKey }));
    expect(result.ok).toBe(true);
  });
});

describe('presentSdJwtVc refuses', () => {
  it('a claim the credential does not have (OpenID4VP §6.4.1)', async () => {
    await expect(present(await issue(), [['vorname'], ['religion']])).rejects.toBeInstanceOf(SdJwtVcUsageError);
  });
  it('an index applied to an object', async () => {
    await expect(present(await issue(), [['anschrift', 0]])).rejects.toBeInstanceOf(SdJwtVcUsageError);
  });
  it('a holder key other than cnf.jwk', async () => {
    await expect(present(await issue(), [['vorname']], { holderKey: otherKeys.privateKey })).rejects.toBeInstanceOf(SdJwtVcUsageError);
  });
  it('an SD-JWT that already carries a KB-JWT (RFC 9901 §7.2)', async () => {
    const presentation = await present(await issue(), [['vorname']]);
    await expect(present(presentation, [['vorname']])).rejects.toBeInstanceOf(SdJwtVcUsageError);
  });
  it('a holder key that is not a P-256 private key', async () => {
    await expect(present(await issue(), [], { holderKey: holderKeys.publicKey })).rejects.toBeInstanceOf(SdJwtVcUsageError);
  });
  it('an empty audience or nonce', async () => {
    await expect(present(await issue(), [], { aud: '' })).rejects.toBeInstanceOf(SdJwtVcUsageError);
    await expect(present(await issue(), [], { nonce: '' })).rejects.toBeInstanceOf(SdJwtVcUsageError);
  });
});

describe('verifySdJwtVc misuse', () => {
  it('throws when Key Binding is required but no nonce or audience is given', async () => {
    const sdJwt = await issue();
    await expect(verifySdJwtVc({ ...verifyArgs(sdJwt), expectedNonce: undefined } as never)).rejects.toBeInstanceOf(TypeError);
    await expect(verifySdJwtVc({ ...verifyArgs(sdJwt), expectedAud: '' } as never)).rejects.toBeInstanceOf(TypeError);
    await expect(verifySdJwtVc({ ...verifyArgs(sdJwt), now: Number.NaN })).rejects.toBeInstanceOf(TypeError);
  });
  it('defaults to a 300 s KB window', async () => {
    const presentation = await present(await issue(), []);
    expect((await verifySdJwtVc(verifyArgs(presentation, { now: T0 + 359_000 }))).ok).toBe(true); // 300 + 60 skew
    expect(await verifySdJwtVc(verifyArgs(presentation, { now: T0 + 361_000 }))).toMatchObject({ ok: false, code: 'kb_stale' });
  });
});
