import { errors } from 'jose';
import type { FastClaimOptions } from './es256-compact.ts';

/**
 * RFC 7519 §4.1 registered-claim checks for the node:crypto fast path (core/crypto/es256-compact.ts),
 * the same rules and the same error classes as jose 6's `jwtVerify` (its validateClaimsSet), so that
 * core/crypto/jws.ts translates a failure to the same reason whichever path checked the token:
 * required claims present; `iss`, `sub`, `aud` equal to the expected values; `nbf` not after now +
 * tolerance; `exp` after now − tolerance; with `maxTokenAge`, `iat` present, not older than that and
 * not in the future. Numeric dates must be numbers.
 */
export function checkRegisteredClaims(claims: Record<string, unknown>, opts: FastClaimOptions): void {
  const failed = (claim: string, reason: string, message: string) => new errors.JWTClaimValidationFailed(message, claims, claim, reason);
  const presence = [...(opts.requiredClaims ?? [])];
  if (opts.maxTokenAge !== undefined) presence.push('iat');
  if (opts.audience !== undefined) presence.push('aud');
  if (opts.subject !== undefined) presence.push('sub');
  if (opts.issuer !== undefined) presence.push('iss');
  for (const claim of new Set(presence.reverse())) if (!Object.hasOwn(claims, claim)) throw failed(claim, 'missing', `missing required "${claim}" claim`);

  if (opts.issuer !== undefined && !(Array.isArray(opts.issuer) ? opts.issuer : [opts.issuer]).includes(claims.iss as string)) throw failed('iss', 'check_failed', 'unexpected "iss" claim value');
  if (opts.subject !== undefined && claims.sub !== opts.subject) throw failed('sub', 'check_failed', 'unexpected "sub" claim value');
  if (opts.audience !== undefined) {
    const wanted = typeof opts.audience === 'string' ? [opts.audience] : opts.audience;
    const aud = claims.aud;
    const present = typeof aud === 'string' ? wanted.includes(aud) : Array.isArray(aud) ? wanted.some((a) => aud.includes(a)) : false;
    if (!present) throw failed('aud', 'check_failed', 'unexpected "aud" claim value');
  }

  const tolerance = opts.clockTolerance ?? 0;
  const now = Math.floor((opts.currentDate ?? new Date()).getTime() / 1000);
  const numeric = (claim: string, required: boolean): number | undefined => {
    const v = claims[claim];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number') throw failed(claim, 'invalid', `"${claim}" claim must be a number`);
    return v;
  };
  const iat = numeric('iat', opts.maxTokenAge !== undefined);
  const nbf = numeric('nbf', false);
  if (nbf !== undefined && nbf > now + tolerance) throw failed('nbf', 'check_failed', '"nbf" claim timestamp check failed');
  const exp = numeric('exp', false);
  if (exp !== undefined && exp <= now - tolerance) throw new errors.JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
  if (opts.maxTokenAge !== undefined) {
    const age = now - iat!;
    if (age - tolerance > opts.maxTokenAge) throw new errors.JWTExpired('"iat" claim timestamp check failed (too far in the past)', claims, 'iat', 'check_failed');
    if (age < -tolerance) throw failed('iat', 'check_failed', '"iat" claim timestamp check failed (it should be in the past)');
  }
}
