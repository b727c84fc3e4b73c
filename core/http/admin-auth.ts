import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyStore } from '../access/api-key-store.ts';
import { ALL_SCOPES, BOOTSTRAP, parseToken, roleSatisfies, secretMatches, type Principal, type Role } from '../access/api-keys.ts';
import { ProblemError, unauthorized } from './errors.ts';
import { clientKey, tooManyRequests, TokenBuckets, type ClientLike } from './rate-limit.ts';
import { systemClock, type Clock } from '../util/time.ts';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

/**
 * Bearer-token check for admin APIs (RFC 6750 §2.1) with the bootstrap token only. Tokens are
 * compared as SHA-256 digests in constant time, so neither length nor prefix leaks through timing.
 */
export function requireAdmin(token: string): RequestHandler {
  return adminAccess({ token }).authenticate;
}

export interface AdminAccessOptions {
  /** The bootstrap token (`<SERVICE>_ADMIN_TOKEN`): an administrator of every scope. */
  token: string;
  /** The service's API keys (per office, relying party or registry operator). */
  keys?: ApiKeyStore;
  /** Failed authentications per minute per client address before `429` (RATE_LIMIT_AUTH_FAILURES; 0 = no limit). */
  failuresPerMinute?: number;
  clock?: Clock;
}

export interface AdminAccess {
  /** Sets `res.locals.principal` and `res.locals.actor` (the key id or `admin:bootstrap`), or answers 401/429. */
  authenticate: RequestHandler;
  /** The same check for any lane: the principal of an Authorization header, or the 401/429 to answer. */
  principal(authorization: string | undefined, client: ClientLike): Promise<Principal | ProblemError>;
}

/**
 * Authentication of admin calls: the bootstrap token or an API key (`<id>.<secret>`, core/access).
 *
 * The credential is checked first (constant time), and a correct one is always accepted: the
 * failure limit must not let anyone behind the same address (a shared NAT, the proxy of a city
 * network) lock administrators out by sending wrong tokens. Only wrong credentials count, and once a
 * client address has spent its failures, its further wrong ones get `429` with `Retry-After`
 * (RFC 6585 §4) instead of `401`. Guessing stays hopeless because the secrets are long random values
 * (256-bit API keys; production refuses weak bootstrap tokens, core/config/secret-strength.ts).
 */
export function adminAccess(opts: AdminAccessOptions): AdminAccess {
  const expected = createHash('sha256').update(opts.token).digest();
  const failures = opts.failuresPerMinute ? new TokenBuckets(opts.failuresPerMinute, opts.clock ?? systemClock) : undefined;

  const identify = async (token: string): Promise<Principal | undefined> => {
    if (timingSafeEqual(createHash('sha256').update(token).digest(), expected)) return BOOTSTRAP;
    const parsed = parseToken(token);
    if (!parsed || !opts.keys) return undefined;
    const key = await opts.keys.find(parsed.id);
    if (!key || key.revokedAt !== null || !secretMatches(parsed.secret, key.secretHash)) return undefined;
    return { actor: key.id, keyId: key.id, role: key.role, scopes: key.scopes };
  };

  const principal = async (header: string | undefined, req: ClientLike): Promise<Principal | ProblemError> => {
    // RFC 6750 §3.1: no credentials at all is a 401 without an error code, and not a guess.
    if (header === undefined) return unauthorized();
    const m = BEARER.exec(header);
    const found = m ? await identify(m[1]!) : undefined;
    if (found) return found;
    // A wrong or malformed credential: counted per client address; over the limit, 429.
    if (failures) {
      const client = clientKey(req);
      const blocked = failures.check(client);
      failures.spend(client);
      if (!blocked.ok) return tooManyRequests('problem', blocked.retryAfter) as ProblemError;
    }
    return m ? unauthorized('The bearer token is not valid.') : unauthorized();
  };

  const authenticate: RequestHandler = async (req, res, next) => {
    const p = await principal(req.get('authorization'), req);
    if (p instanceof ProblemError) return next(p);
    res.locals.principal = p;
    res.locals.actor = p.actor;
    next();
  };
  return { authenticate, principal };
}

/** RFC 6750 §3.1: a valid token without the rights for this request is `insufficient_scope`, status 403. */
const forbidden = (code: string, detail: string) =>
  new ProblemError({ status: 403, code, title: 'Forbidden', detail, headers: { 'WWW-Authenticate': 'Bearer realm="admin", error="insufficient_scope"' } });

/** What a route needs: `any` scope of the key's, `global` (`*`), or the scope the request names. */
export type ScopeRule = 'any' | 'global' | ((req: { params: unknown }) => string);

/** A scope named by a path parameter: `scopeParam('office')` -> `office:<req.params.slug>`. */
export const scopeParam =
  (prefix: string, param = 'slug') =>
  (req: { params: unknown }): string =>
    `${prefix}:${String((req.params as Record<string, unknown>)[param])}`;

/** Why a principal may not make this request (403), or undefined when it may. */
export function refusal(p: Principal | undefined, rule: { role: Role; scope: ScopeRule }, req: { params: unknown }): ProblemError | undefined {
  if (!p) return unauthorized();
  if (!roleSatisfies(p.role, rule.role)) return forbidden('insufficient-role', `This action needs the ${rule.role} role.`);
  if (p.scopes.includes(ALL_SCOPES) || rule.scope === 'any') return undefined;
  if (rule.scope === 'global') return forbidden('out-of-scope', 'This action needs a key for every scope ("*").');
  const needed = rule.scope(req);
  if (!p.scopes.includes(needed)) return forbidden('out-of-scope', `This key is not valid for ${needed}.`);
  return undefined;
}

/**
 * Route authorisation after `authenticate`, one line per route or router:
 * `authorize({ role: 'clerk', scope: scopeParam('office') })`. Answers `403` problem JSON when the
 * key's role or scopes do not cover the request.
 */
export function authorize(rule: { role: Role; scope: ScopeRule }): RequestHandler {
  return (req, res, next) => next(refusal(res.locals.principal as Principal | undefined, rule, req));
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** Who made an admin request on the fast lane (set by `adminHook`): the key id or `admin:bootstrap`. */
export function actorOf(req: FastifyRequest): string {
  const p = principals.get(req);
  if (!p) throw new Error('admin route without adminHook');
  return p.actor;
}

/**
 * `authenticate`, `authorize(rule)` and `Cache-Control: no-store` as one `onRequest` hook of an admin
 * route on the fast lane (core/http/fast-lane.ts): the same checks and answers as on the Express
 * routes, taken before the body is read.
 */
export function adminHook(access: AdminAccess, rule: { role: Role; scope: ScopeRule }) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.header('Cache-Control', 'no-store');
    const p = await access.principal(req.headers.authorization, req);
    if (p instanceof ProblemError) throw p;
    const refused = refusal(p, rule, req);
    if (refused) throw refused;
    principals.set(req, p);
  };
}
