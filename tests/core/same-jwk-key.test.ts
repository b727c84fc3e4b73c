import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JWK } from 'jose';
import { sameJwkKey, thumbprint } from '../../core/crypto/jwk.ts';

/**
 * sameJwkKey (issue 16) replaces comparing two RFC 7638 thumbprints when a wallet checks that its key
 * is the credential's cnf.jwk: it must say "same" exactly when the thumbprints are equal.
 */
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as JWK;
const ed = () => generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as JWK;
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as JWK;

describe('sameJwkKey', () => {
  const a = ec();
  const b = ec();
  const o = ed();
  const r = rsa();
  const cases: [string, JWK, JWK][] = [
    ['the same EC key', a, { ...a }],
    ['the same EC key with other members (kid, use, alg) and another member order', a, { y: a.y, x: a.x, kid: 'k1', use: 'sig', alg: 'ES256', crv: a.crv, kty: 'EC' } as JWK],
    ['two EC keys', a, b],
    ['EC keys differing in y only', a, { ...a, y: b.y } as JWK],
    ['EC keys differing in crv only', a, { ...a, crv: 'P-384' } as JWK],
    ['the same OKP key', o, { ...o, kid: 'x' } as JWK],
    ['an OKP and an EC key', o, a],
    ['the same RSA key', r, { ...r }],
    ['RSA keys differing in e', r, { ...r, e: 'AQAB'.replace('Q', 'R') } as JWK],
  ];
  for (const [name, x, y] of cases) {
    it(`${name}: as the thumbprints say`, async () => {
      const equalThumbprints = (await thumbprint(x)) === (await thumbprint(y));
      expect(sameJwkKey(x, y)).toBe(equalThumbprints);
      expect(sameJwkKey(y, x)).toBe(equalThumbprints);
    });
  }
  it('a key without its required members is nobody\'s key', () => {
    const { y: _, ...noY } = a;
    expect(sameJwkKey(noY as JWK, noY as JWK)).toBe(false);
    expect(sameJwkKey({ kty: 'oct', k: 'AAAA' } as JWK, { kty: 'oct', k: 'AAAA' } as JWK)).toBe(false);
  });
});
