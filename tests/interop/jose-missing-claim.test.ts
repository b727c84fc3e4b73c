import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { verifyJwt } from '../../core/crypto/jws.ts';

/**
 * A missing claim reads as missing, not as a date in the future: jose reports both as
 * JWTClaimValidationFailed and tells them apart by `reason` ('missing' | 'check_failed').
 * Found when a VP-JWT without iat (VCDM 1.1 allows it) was refused as "token iat is in the future".
 */
describe('core/crypto/jws.ts: jose claim failures', () => {
  it('names a missing iat as missing, and a future one as in the future', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Math.floor(Date.now() / 1000);
    const sign = (payload: Record<string, unknown>) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(privateKey);
    const failure = (jwt: string) => verifyJwt(jwt, publicKey, { typ: 'JWT', maxTokenAge: 300 }).then(() => null, (e: { reason: string; message: string }) => ({ reason: e.reason, message: e.message }));

    expect(await failure(await sign({ aud: 'x' }))).toEqual({ reason: 'claim_invalid', message: 'claim iat is missing' });
    expect(await failure(await sign({ iat: now + 3600 }))).toEqual({ reason: 'not_yet_valid', message: 'token iat is in the future' });
    expect(await failure(await sign({ iat: now }))).toBeNull();
  });
});
