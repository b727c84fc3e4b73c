import { describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { p256KeyFromPrivateHex } from '../../core/crypto/jwk.ts';
import { libraryCallbacks } from '../../issuer/oid4vci-lib.ts';
import { SignedHere } from '../../issuer/oauth/signed-here.ts';

/**
 * Issue 16: an access token this process signed is verified again by lookup, not by ECDSA
 * (issuer/oauth/signed-here.ts). A lookup must answer exactly what the signature check answers:
 * yes only for the very bytes signed here with the very key asked about; everything else goes to
 * the full check. The full check is counted through the module that does it.
 */
const fullChecks = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../core/crypto/es256-compact.ts', async (original) => {
  const m = await original<typeof import('../../core/crypto/es256-compact.ts')>();
  return { ...m, verifyCompactEs256: (...a: Parameters<typeof m.verifyCompactEs256>) => (fullChecks.n++, m.verifyCompactEs256(...a)) };
});

const officeKey = () => {
  const { privateKey, publicJwk } = p256KeyFromPrivateHex(randomBytes(32).toString('hex'));
  return { kid: `did:web:office.example#${randomBytes(4).toString('hex')}`, alg: 'ES256', publicJwk: publicJwk as JWK, privateKey };
};
const officeWith = (signer: ReturnType<typeof officeKey>) =>
  new Map([['amt', { slug: 'amt', issuerId: 'https://issuer.example/offices/amt', identity: { did: 'did:web:office.example', signer, keys: [] } }]]) as never;

async function signToken(callbacks: ReturnType<typeof libraryCallbacks>, kid: string): Promise<string> {
  const { jwt } = await callbacks.signJwt({ method: 'custom', kid, alg: 'ES256' } as never, { header: { typ: 'at+jwt', alg: 'ES256' }, payload: { sub: 'offer', exp: 2_000_000_000 } } as never);
  return jwt;
}
const verify = (callbacks: ReturnType<typeof libraryCallbacks>, jwt: string, jwk: JWK) =>
  callbacks.verifyJwt({ method: 'jwk', publicJwk: jwk, alg: 'ES256' } as never, { header: { alg: 'ES256' }, payload: {}, compact: jwt } as never);

describe('SignedHere', () => {
  const a = officeKey().publicJwk;
  const b = officeKey().publicJwk;

  it('vouches only for the same string and the same key', () => {
    const s = new SignedHere();
    s.remember('h.p.s', a);
    expect(s.signed('h.p.s', a)).toBe(true);
    expect(s.signed('h.p.s', { ...a })).toBe(true);
    expect(s.signed('h.p.s', b)).toBe(false);
    expect(s.signed('h.p.t', a)).toBe(false);
    expect(s.signed('h.p.s', { ...a, y: b.y })).toBe(false);
  });

  it('keeps at most max entries, dropping the oldest', () => {
    const s = new SignedHere(2);
    s.remember('1', a);
    s.remember('2', a);
    s.remember('3', a);
    expect([s.signed('1', a), s.signed('2', a), s.signed('3', a)]).toEqual([false, true, true]);
  });
});

describe('the issuer library callbacks', () => {
  it('a token signed here verifies without an ECDSA check; its key is the one asked about', async () => {
    const key = officeKey();
    const callbacks = libraryCallbacks(officeWith(key));
    const jwt = await signToken(callbacks, key.kid);
    fullChecks.n = 0;
    expect(await verify(callbacks, jwt, key.publicJwk)).toMatchObject({ verified: true });
    expect(fullChecks.n).toBe(0);
    // The same bytes asked about with another key: the full check, which refuses.
    expect(await verify(callbacks, jwt, officeKey().publicJwk)).toEqual({ verified: false });
    expect(fullChecks.n).toBe(1);
  });

  it('a token this process did not sign gets the full check: valid when another process signed it with the key, refused when altered', async () => {
    const key = officeKey();
    const other = libraryCallbacks(officeWith(key));
    const here = libraryCallbacks(officeWith(key));
    const jwt = await signToken(other, key.kid);
    fullChecks.n = 0;
    expect(await verify(here, jwt, key.publicJwk)).toMatchObject({ verified: true });
    expect(fullChecks.n).toBe(1);
    const [h, p, sig] = jwt.split('.') as [string, string, string];
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'someone-else', exp: 2_000_000_000 })).toString('base64url')}.${sig}`;
    expect(await verify(here, forged, key.publicJwk)).toEqual({ verified: false });
    expect(await verify(other, forged, key.publicJwk)).toEqual({ verified: false });
    expect(p).not.toBe(forged.split('.')[1]);
  });
});
