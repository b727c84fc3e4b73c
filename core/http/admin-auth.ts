import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { unauthorized } from './errors.ts';

/**
 * Bearer-token check for admin APIs (RFC 6750 §2.1). Tokens are compared as SHA-256 digests in
 * constant time, so neither length nor prefix leaks through timing.
 */
export function requireAdmin(token: string): RequestHandler {
  const expected = createHash('sha256').update(token).digest();
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
    if (!m) return next(unauthorized());
    const got = createHash('sha256').update(m[1]!).digest();
    if (!timingSafeEqual(got, expected)) return next(unauthorized('The bearer token is not valid.'));
    res.locals.actor = 'admin:bootstrap';
    next();
  };
}
