import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compactVerify, jwtVerify, SignJWT } from 'jose';
import { signJws, signJwt, translateJoseError, verifyJws, verifyJwt, type Signer, type VerifyJwtOptions } from '../../core/crypto/jws.ts';
import { decodeJwt } from '@openid4vc/oauth2';
import { unverifiedClaims, verifyCompactEs256 } from '../../core/crypto/es256-compact.ts';

/**
 * The node:crypto fast path of core/crypto/jws.ts (issue 16) must judge every token exactly as
 * jose did before: same acceptance, same failure reason. Each case is run through both and compared.
 */

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer: Signer = { kid: 'did:web:example#k1', alg: 'ES256', publicJwk: publicKey.export({ format: 'jwk' }) as never, privateKey };
const now = 1_800_000_000;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const raw = (header: unknown, payload: unknown, key = privateKey) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
};

async function viaJose(jwt: string, opts: VerifyJwtOptions): Promise<string> {
  try {
    const { typ, ...rest } = opts;
    const { protectedHeader } = await jwtVerify(jwt, publicKey, { ...rest, algorithms: ['ES256'] });
    if (protectedHeader.typ !== typ) return 'bad_typ';
    return 'ok';
  } catch (e) {
    return translateJoseError(e).reason;
  }
}
async function viaOurs(jwt: string, opts: VerifyJwtOptions): Promise<string> {
  try {
    await verifyJwt(jwt, publicKey, opts);
    return 'ok';
  } catch (e) {
    return (e as { reason: string }).reason;
  }
}

describe('ES256 fast path against jose', () => {
  const opts: VerifyJwtOptions = { typ: 'test+jwt', currentDate: new Date(now * 1000), clockTolerance: 60 };
  const h = { alg: 'ES256', typ: 'test+jwt' };
  const cases: [string, string, VerifyJwtOptions, string][] = [
    ['valid', raw(h, { iat: now, exp: now + 60 }), opts, 'ok'],
    ['expired', raw(h, { exp: now - 61 }), opts, 'expired'],
    ['expired within tolerance', raw(h, { exp: now - 59 }), opts, 'ok'],
    ['nbf in the future', raw(h, { nbf: now + 61 }), opts, 'not_yet_valid'],
    ['iat not a number', raw(h, { iat: 'yesterday' }), opts, 'not_yet_valid'],
    ['exp not a number', raw(h, { exp: '1' }), opts, 'claim_invalid'],
    ['issuer expected, missing', raw(h, {}), { ...opts, issuer: 'did:web:a' }, 'claim_invalid'],
    ['issuer wrong', raw(h, { iss: 'did:web:b' }), { ...opts, issuer: 'did:web:a' }, 'claim_invalid'],
    ['issuer right', raw(h, { iss: 'did:web:a' }), { ...opts, issuer: 'did:web:a' }, 'ok'],
    ['audience in array', raw(h, { aud: ['x', 'y'] }), { ...opts, audience: 'y' }, 'ok'],
    ['audience wrong', raw(h, { aud: 'x' }), { ...opts, audience: 'y' }, 'claim_invalid'],
    ['too old for maxTokenAge', raw(h, { iat: now - 400 }), { ...opts, maxTokenAge: 300 }, 'expired'],
    ['iat in the future with maxTokenAge', raw(h, { iat: now + 120 }), { ...opts, maxTokenAge: 300 }, 'not_yet_valid'],
    ['other key', raw(h, { iat: now }, other.privateKey), opts, 'bad_signature'],
    ['payload is an array', raw(h, [1, 2]), opts, 'malformed'],
    ['payload not JSON', raw(h, 'not json'), opts, 'malformed'],
    ['crit unknown (jose path)', raw({ ...h, crit: ['x'], x: 1 }, { iat: now }), opts, 'bad_alg'],
    ['b64 false (jose path)', raw({ ...h, b64: false, crit: ['b64'] }, { iat: now }), opts, 'malformed'],
  ];
  for (const [name, jwt, o, want] of cases) {
    it(`${name}: ${want}, as jose`, async () => {
      expect(await viaOurs(jwt, o)).toBe(want);
      expect(await viaJose(jwt, o)).toBe(want);
    });
  }

  it('refuses a tampered signature and odd encodings the same way', async () => {
    const good = raw(h, { iat: now });
    const [a, b, c] = good.split('.');
    const flipped = `${a}.${b}.${c!.slice(0, -2)}${c!.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(await viaOurs(flipped, opts)).toBe(await viaJose(flipped, opts));
    expect(await viaOurs(flipped, opts)).toBe('bad_signature');
    for (const bad of [`${a}.${b}`, `${a}.${b}.${c}.x`, `${a}.${b}!.${c}`, `${a}.${b}.${c}=`, `${a}.${b}.${c!.slice(4)}`]) {
      expect(await viaOurs(bad, opts), bad.slice(-12)).not.toBe('ok');
      expect(await viaJose(bad, opts)).not.toBe('ok');
    }
  });

  it('signs what jose verifies, with the header as given', async () => {
    const jwt = await signJwt(signer, { iat: now, sub: 'x' }, { typ: 'test+jwt', header: { x5c: ['AA'] } });
    const { protectedHeader, payload } = await jwtVerify(jwt, publicKey, { algorithms: ['ES256'], currentDate: new Date(now * 1000) });
    expect(protectedHeader).toEqual({ x5c: ['AA'], alg: 'ES256', kid: signer.kid, typ: 'test+jwt' });
    expect(payload).toEqual({ iat: now, sub: 'x' });
    // byte for byte what jose's SignJWT writes (ECDSA signatures differ, the signing input does not)
    const joseJwt = await new SignJWT({ iat: now, sub: 'x' }).setProtectedHeader({ x5c: ['AA'], alg: 'ES256', kid: signer.kid, typ: 'test+jwt' }).sign(privateKey);
    expect(jwt.split('.').slice(0, 2)).toEqual(joseJwt.split('.').slice(0, 2));
    const jws = await signJws(signer, new Uint8Array([1, 2, 3]), { typ: 'x+jws' });
    expect((await compactVerify(jws, publicKey)).payload).toEqual(new Uint8Array([1, 2, 3]));
    expect((await verifyJws(jws, publicKey, 'x+jws')).payload).toEqual(new Uint8Array([1, 2, 3]));
    await expect(signJwt(signer, { exp: Number.NaN }, { typ: 'x' })).rejects.toThrow(/finite/);
  });

  it('leaves keys other than P-256 public keys to jose', () => {
    const jwt = raw(h, { iat: now });
    expect(verifyCompactEs256(jwt, publicKey)?.valid).toBe(true);
    expect(verifyCompactEs256(jwt, privateKey)).toBeUndefined();
    const ed = generateKeyPairSync('ed25519');
    expect(verifyCompactEs256(jwt, ed.publicKey)).toBeUndefined();
  });
});

describe('unverifiedClaims', () => {
  it('reads the claims the library decodeJwt reads, for a look before the full check', () => {
    const jwt = raw({ alg: 'ES256', typ: 'openid4vci-proof+jwt' }, { nonce: 'n-1', aud: 'https://issuer.example', iat: now });
    expect(unverifiedClaims(jwt)).toEqual(decodeJwt({ jwt }).payload);
    expect(unverifiedClaims(jwt)?.nonce).toBe('n-1');
  });

  it('reads nothing from a payload that is not a JSON object, not UTF-8, too long, or missing', () => {
    const h = b64({ alg: 'ES256' });
    for (const payload of [b64('[1]'), b64('"text"'), b64('{"a":'), Buffer.from([0xff, 0xfe]).toString('base64url'), b64({ pad: 'x'.repeat(7000) })]) {
      expect(unverifiedClaims(`${h}.${payload}.c2ln`)).toBeUndefined();
    }
    expect(unverifiedClaims('no-dots')).toBeUndefined();
    expect(unverifiedClaims(`${h}.${b64({ a: 1 })}`)).toBeUndefined();
    expect(unverifiedClaims(`${h}.${b64({ a: 1 })}.`)).toEqual({ a: 1 });
  });
});
