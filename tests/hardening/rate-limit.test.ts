import type { Request } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadCommonConfig, parseTrustProxy } from '../../core/config/env.ts';
import { clientKey, TokenBuckets } from '../../core/http/rate-limit.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';

/**
 * Rate limits (issue 9): per client address token buckets on the public protocol endpoints and on
 * failed admin authentication, answering 429 with Retry-After (RFC 6585 §4) in the endpoint's error
 * style: `{error: "slow_down"}` on OAuth-family endpoints, problem JSON on ours.
 */
describe('hardening: token buckets', () => {
  it('allows a burst of the per-minute limit, then refuses with the seconds until the next token', () => {
    let now = 1_000_000;
    const b = new TokenBuckets(3, () => now);
    expect([b.take('a'), b.take('a'), b.take('a')].every((t) => t.ok)).toBe(true);
    expect(b.take('a')).toEqual({ ok: false, retryAfter: 20 });
    expect(b.take('b').ok).toBe(true);
    now += 19_000;
    expect(b.take('a')).toEqual({ ok: false, retryAfter: 1 });
    now += 1_000;
    expect(b.take('a').ok).toBe(true);
    expect(b.take('a').ok).toBe(false);
    now += 10 * 60_000;
    expect([b.take('a'), b.take('a'), b.take('a')].every((t) => t.ok)).toBe(true);
  });

  it('counts failures without consuming on success (check/spend)', () => {
    let now = 0;
    const b = new TokenBuckets(2, () => now);
    expect(b.check('x').ok).toBe(true);
    b.spend('x');
    b.spend('x');
    b.spend('x');
    expect(b.check('x')).toEqual({ ok: false, retryAfter: 30 });
    now += 30_000;
    expect(b.check('x').ok).toBe(true);
  });

  it('forgets the least recently seen clients beyond its bound', () => {
    const b = new TokenBuckets(1, () => 0, 2);
    b.take('a');
    b.take('b');
    b.take('c');
    expect(b.take('a').ok).toBe(true);
    expect(b.take('c').ok).toBe(false);
  });

  it('keys clients by IPv4 address and IPv6 /64', () => {
    const key = (ip: string) => clientKey({ ip, socket: {} } as unknown as Request);
    expect(key('203.0.113.7')).toBe('203.0.113.7');
    expect(key('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(key('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(key('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(key('2001:db8::1')).toBe('2001:db8:0:0::/64');
  });

  it('reads the limits and TRUST_PROXY from the environment', () => {
    const env = { DATA_DIR: '/nonexistent-not-used', KEY_ENCRYPTION_SECRET: 'c'.repeat(64), ISSUER_ADMIN_TOKEN: TOKENS.issuer };
    expect(loadCommonConfig('issuer', env)).toMatchObject({ trustProxy: false, rateLimits: { public: 1200, trqp: 6000, authFailures: 10 } });
    expect(loadCommonConfig('issuer', { ...env, RATE_LIMIT_PUBLIC: '0', TRUST_PROXY: '1' })).toMatchObject({ trustProxy: 1, rateLimits: { public: 0 } });
    expect(loadCommonConfig('issuer', { ...env, RATE_LIMIT_PUBLIC: '' })).toMatchObject({ rateLimits: { public: 1200 } });
    expect(() => loadCommonConfig('issuer', { ...env, RATE_LIMIT_AUTH_FAILURES: '-1' })).toThrow(ConfigError);
    expect(parseTrustProxy('loopback, 10.0.0.0/8')).toBe('loopback,10.0.0.0/8');
    expect(() => parseTrustProxy('true')).toThrow(ConfigError);
    expect(() => parseTrustProxy('everyone')).toThrow(ConfigError);
  });
});

describe('hardening: 429 on the services', () => {
  let stack: Stack;
  // Behind a (loopback) reverse proxy: X-Forwarded-For names the client, so one test can be many clients.
  beforeAll(async () => {
    stack = await startStack({ env: { TRUST_PROXY: 'loopback', RATE_LIMIT_PUBLIC: '60', RATE_LIMIT_TRQP: '3', RATE_LIMIT_AUTH_FAILURES: '3' } });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });
  const from = (ip: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), 'x-forwarded-for': ip } });
  const expectRetryAfter = (res: Response) => {
    expect(res.status).toBe(429);
    const s = Number(res.headers.get('retry-after'));
    expect(Number.isInteger(s) && s >= 1 && s <= 60).toBe(true);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return s;
  };
  /**
   * Sends until the first 429 and returns it with the number of answers before it. The bucket holds
   * 60 and earns one back per second while the loop runs, so a little more than 60 get through.
   */
  const drain = async (send: () => Promise<Response>, ok: (status: number) => boolean) => {
    for (let n = 0; n < 200; n++) {
      const res = await send();
      if (res.status === 429) return { n, res };
      expect(ok(res.status)).toBe(true);
    }
    throw new Error('never limited');
  };

  it('limits the issuer nonce endpoint per client, in OAuth error style, and leaves other clients alone', async () => {
    const url = `${stack.urls.issuer}/offices/buergerbuero/nonce`;
    const { n, res: limited } = await drain(() => fetch(url, from('198.51.100.1', { method: 'POST' })), (s) => s === 200);
    expect(n).toBeGreaterThanOrEqual(60);
    expect(expectRetryAfter(limited)).toBe(1);
    expect(limited.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await limited.json()).toMatchObject({ error: 'slow_down' });
    // The token endpoint shares the budget; metadata and health do not count.
    expect((await fetch(`${stack.urls.issuer}/offices/buergerbuero/token`, from('198.51.100.1', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=x' }))).status).toBe(429);
    // Refused before its body is read: an over-limit, unparsable body still gets 429, not 413 or 400.
    expect((await fetch(`${stack.urls.issuer}/offices/buergerbuero/credential`, from('198.51.100.1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{'.repeat(70_000) }))).status).toBe(429);
    expect((await fetch(`${stack.urls.issuer}/.well-known/openid-credential-issuer/offices/buergerbuero`, from('198.51.100.1'))).status).toBe(200);
    expect((await fetch(`${stack.urls.issuer}/health`, from('198.51.100.1'))).status).toBe(200);
    expect((await fetch(url, from('198.51.100.2', { method: 'POST' }))).status).toBe(200);
  });

  it('refills the bucket over time (60 per minute: one per second)', async () => {
    const url = `${stack.urls.verifier}/verifiers/bibliothek/requests/00000000-0000-4000-8000-000000000000/request.jwt`;
    const { n, res: limited } = await drain(() => fetch(url, from('198.51.100.3')), (s) => s === 404);
    expect(n).toBeGreaterThanOrEqual(60);
    expect(expectRetryAfter(limited)).toBe(1);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await limited.json()).toMatchObject({ type: 'urn:id-ideal:problem:rate-limited', status: 429, retry_after: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await fetch(url, from('198.51.100.3'))).status).toBe(404);
    expect((await fetch(url, from('198.51.100.3'))).status).toBe(429);
  });

  it('limits the verifier response endpoint in OAuth error style', async () => {
    const url = `${stack.urls.verifier}/verifiers/bibliothek/response`;
    const post = () => fetch(url, from('198.51.100.4', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'state=nothing' }));
    const { n, res: limited } = await drain(post, (s) => s >= 400 && s < 429);
    expect(n).toBeGreaterThanOrEqual(60);
    expectRetryAfter(limited);
    expect(await limited.json()).toMatchObject({ error: 'slow_down' });
  });

  it('limits TRQP queries with problem JSON', async () => {
    const q = (ip: string) => fetch(`${stack.urls.registry}/trqp/authorization`, from(ip, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entity_id: stack.officeDid('buergerbuero'), authority_id: 'did:web:nowhere', action: 'issue', resource: 'urn:x' }) }));
    for (let i = 0; i < 3; i++) expect((await q('198.51.100.5')).status).toBeLessThan(429);
    const limited = await q('198.51.100.5');
    expectRetryAfter(limited);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await limited.json()).toMatchObject({ type: 'urn:id-ideal:problem:rate-limited' });
    expect((await q('198.51.100.6')).status).toBeLessThan(429);
  });

  it('locks a client out of the admin API after failed authentications, not others, and not for missing tokens', async () => {
    const admin = (ip: string, token?: string) => fetch(`${stack.urls.issuer}/api/audit`, from(ip, token ? { headers: { authorization: `Bearer ${token}` } } : {}));
    for (let i = 0; i < 5; i++) expect((await admin('198.51.100.7')).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await admin('198.51.100.7', `wrong-token-${i}-0123456789abcdef`)).status).toBe(401);
    // Locked out: even the right token is not looked at until the bucket refills.
    const locked = await admin('198.51.100.7', TOKENS.issuer);
    expect(expectRetryAfter(locked)).toBe(20);
    expect(await locked.json()).toMatchObject({ type: 'urn:id-ideal:problem:rate-limited', status: 429 });
    expect((await admin('198.51.100.8', TOKENS.issuer)).status).toBe(200);
    // The verifier keeps its own count.
    expect((await fetch(`${stack.urls.verifier}/api/audit`, from('198.51.100.7', { headers: { authorization: `Bearer ${TOKENS.verifier}` } }))).status).toBe(200);
  });
});
