import { isIPv4, isIPv6 } from 'node:net';
import type { RequestHandler } from 'express';
import { systemClock, type Clock } from '../util/time.ts';
import { errorStyleOf, type ErrorStyle } from './error-exit.ts';
import { ProblemError, ProtocolError } from './errors.ts';

/**
 * In-process token buckets per client address. Each process (each ISSUER_WORKERS worker, each
 * instance behind a load balancer) keeps its own buckets, so the limit a client meets is per process:
 * with n instances a client may get up to n times the configured rate. Behind a reverse proxy set
 * TRUST_PROXY, or every client shares the proxy's bucket.
 */

export interface Limit {
  /** Bucket size: the burst a client may send at once, and what it earns back per minute. */
  perMinute: number;
}

/** A decision: allowed, or refused with the seconds until one more request would be allowed. */
export type Take = { ok: true } | { ok: false; retryAfter: number };

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    readonly capacity: number,
    private readonly clock: Clock = systemClock,
    /** Most clients tracked; beyond it the least recently seen are forgotten (memory stays bounded). */
    private readonly maxClients = 100_000,
  ) {
    this.perMs = capacity / 60_000;
  }

  private current(key: string): { tokens: number; at: number } {
    const now = this.clock();
    const b = this.buckets.get(key);
    if (!b) return { tokens: this.capacity, at: now };
    return { tokens: Math.min(this.capacity, b.tokens + Math.max(0, now - b.at) * this.perMs), at: now };
  }

  private store(key: string, b: { tokens: number; at: number }): void {
    this.buckets.delete(key);
    // A full bucket is the same as none.
    if (b.tokens >= this.capacity) return;
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
  }

  private refusal(tokens: number): Take {
    return { ok: false, retryAfter: Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000)) };
  }

  /** Takes one token if there is one. */
  take(key: string): Take {
    const b = this.current(key);
    if (b.tokens < 1) {
      this.store(key, b);
      return this.refusal(b.tokens);
    }
    this.store(key, { tokens: b.tokens - 1, at: b.at });
    return { ok: true };
  }

  /** Whether a token is there, without taking it (failed-login limits: only failures take). */
  check(key: string): Take {
    const b = this.current(key);
    return b.tokens < 1 ? this.refusal(b.tokens) : { ok: true };
  }

  /** Takes one token even when the bucket is empty (a failure always counts). */
  spend(key: string): void {
    const b = this.current(key);
    this.store(key, { tokens: Math.max(0, b.tokens - 1), at: b.at });
  }
}

/** What a client key is read from: Express' `req` and Fastify's `request` both carry `ip` (with the same proxy-addr trust rules). */
export interface ClientLike {
  ip?: string;
  socket: { remoteAddress?: string | undefined };
}

/**
 * The client a bucket belongs to: `req.ip` (the socket peer, or the address Express takes from
 * X-Forwarded-For when TRUST_PROXY trusts the proxy). IPv6 clients count per /64, the block a
 * single subscriber usually holds; IPv4-mapped IPv6 addresses count as IPv4.
 */
export function clientKey(req: ClientLike): string {
  const ip = (req.ip ?? req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  return ipv6Prefix64(ip);
}

function ipv6Prefix64(ip: string): string {
  const [head = '', tail = ''] = ip.split('%')[0]!.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':') + '::/64';
}

/**
 * RFC 6585 §4: `429 Too Many Requests` with `Retry-After` (RFC 9110 §10.2.3, seconds). OAuth-family
 * endpoints answer in their error style with `slow_down` (the RFC 8628 §3.5 code for a client that
 * polls too fast); our own APIs answer problem JSON.
 */
export function tooManyRequests(style: ErrorStyle, retryAfter: number): ProblemError | ProtocolError {
  const headers = { 'Retry-After': String(retryAfter) };
  const detail = `Too many requests from this client; retry after ${retryAfter} seconds.`;
  if (style === 'oauth') return new ProtocolError('slow_down', detail, 429, { headers });
  return new ProblemError({ status: 429, code: 'rate-limited', title: 'Too many requests', detail, headers, extra: { retry_after: retryAfter } });
}

/** A per-client limit: the refusal to answer, or undefined when the request may go on. Shared by both lanes of a service (core/http/fast-lane.ts). */
export type Limiter = (req: ClientLike, path: string, style: ErrorStyle) => ProblemError | ProtocolError | undefined;

/**
 * A per-client limit on the paths `match` selects (all when omitted); `perMinute: 0` turns it off.
 * Runs before any body is read, after the error style is set.
 */
export function rateLimiter(opts: Limit & { match?: (path: string) => boolean; clock?: Clock }): Limiter {
  if (opts.perMinute <= 0) return () => undefined;
  const buckets = new TokenBuckets(opts.perMinute, opts.clock);
  return (req, path, style) => {
    if (opts.match && !opts.match(path)) return undefined;
    const t = buckets.take(clientKey(req));
    return t.ok ? undefined : tooManyRequests(style, t.retryAfter);
  };
}

/** A limiter as Express middleware: mount it after the base app (which sets the error style) and before the routes. */
export function limitMiddleware(limiter: Limiter): RequestHandler {
  return (req, res, next) => next(limiter(req, req.path, errorStyleOf(res)));
}

/** `rateLimiter` as Express middleware. */
export function rateLimit(opts: Limit & { match?: (path: string) => boolean; clock?: Clock }): RequestHandler {
  return limitMiddleware(rateLimiter(opts));
}
