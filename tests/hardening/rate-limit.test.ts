import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Request, Response as ExpressResponse } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyStore } from '../../core/access/api-key-store.ts';
import { formatToken, hashSecret } from '../../core/access/api-keys.ts';
import { ConfigError, loadCommonConfig, parseTrustProxy } from '../../core/config/env.ts';
import { adminAccess } from '../../core/http/admin-auth.ts';
import { createBaseApp } from '../../core/http/app.ts';
import { ProblemError } from '../../core/http/errors.ts';
import { clientKey, TokenBuckets } from '../../core/http/rate-limit.ts';
import { createLogger } from '../../core/log/logger.ts';
import { freePort } from '../helpers/net.ts';
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

/**
 * Issue 18: TRUST_PROXY decides whose X-Forwarded-For is believed, and with it every client's
 * bucket. Only narrow settings start; anything else is a one-line configuration error at start-up.
 */
describe('hardening: TRUST_PROXY is validated at start-up (issue 18)', () => {
  const refused = ['99', '0', '4', '0.0.0.0/0', '::/0', '10.0.0.0/4', '2001:db8::/16', '999.1.1.1', '1.2.3.4/33', '10.0.0.0/255.0.0.0', 'true', 'loopback,0.0.0.0/0', 'a'.repeat(60), Array(17).fill('10.0.0.1').join(',')];
  const accepted: [string, false | number | string][] = [
    ['', false],
    ['false', false],
    ['1', 1],
    ['3', 3],
    ['loopback', 'loopback'],
    ['loopback, 10.0.0.0/8', 'loopback,10.0.0.0/8'],
    ['192.168.10.2, 2001:db8::/48, uniquelocal', '192.168.10.2,2001:db8::/48,uniquelocal'],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0/104'],
  ];

  it('refuses hop counts beyond 3, "everything" and very wide subnets, malformed addresses, with a ConfigError naming TRUST_PROXY', () => {
    const env = { DATA_DIR: '/nonexistent-not-used', KEY_ENCRYPTION_SECRET: 'c'.repeat(64), ISSUER_ADMIN_TOKEN: TOKENS.issuer };
    for (const v of refused) {
      expect(() => parseTrustProxy(v), v).toThrow(ConfigError);
      expect(() => loadCommonConfig('issuer', { ...env, TRUST_PROXY: v }), v).toThrow(/^TRUST_PROXY/);
    }
  });

  it('accepts unset, 1-3 hops and narrow proxy lists, each of which Express takes without error', () => {
    const logger = createLogger('test', 'silent');
    for (const [raw, parsed] of accepted) {
      expect(parseTrustProxy(raw), raw).toEqual(parsed);
      expect(() => createBaseApp({ logger, trustProxy: parsed }), raw).not.toThrow();
    }
  });

  /** Starts the registry's main.ts with a bad TRUST_PROXY; resolves with its exit code and output. */
  const startWith = async (trustProxy: string) => {
    const port = await freePort();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'trust-registry/main.ts'], {
      cwd: join(dirname(fileURLToPath(import.meta.url)), '..', '..'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', DATA_DIR: mkdtempSync(join(tmpdir(), 'idideal-trustproxy-')), REGISTRY_PORT: String(port), REGISTRY_ADMIN_TOKEN: TOKENS.registry, KEY_ENCRYPTION_SECRET: 'c'.repeat(64), TRUST_PROXY: trustProxy },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    proc.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => {
      // A service that starts despite the setting never exits: stop it and report that.
      const timer = setTimeout(() => proc.kill('SIGKILL'), 45_000);
      proc.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    return { code, out };
  };

  it.each(['99', '0.0.0.0/0'])('a service started with TRUST_PROXY=%s exits non-zero with one line, no stack trace', async (value) => {
    const { code, out } = await startWith(value);
    expect(code, out).not.toBeNull();
    expect(code, out).not.toBe(0);
    const lines = out.trim().split('\n');
    expect(lines, out).toHaveLength(1);
    expect(lines[0]).toMatch(/^trust-registry: configuration error: TRUST_PROXY/);
    expect(out).not.toMatch(/\n\s+at |"stack"/);
  }, 60_000);
});

/**
 * Issue 18: the failed-login limit must not lock administrators out. The credential is checked
 * first; a correct bootstrap token or API key is accepted whatever the client address has sent
 * before, and only further wrong ones are refused with 429.
 */
describe('hardening: correct credentials pass the failure limit (issue 18)', () => {
  it('accepts the bootstrap token and a valid API key after 20 wrong tokens from one address, and keeps refusing wrong ones', async () => {
    const secret = randomBytes(32).toString('base64url');
    const keyId = 'issuer_0123456789abcdef';
    const keys = {
      find: async (id: string) => (id === keyId ? { id, role: 'clerk', scopes: ['office:buergerbuero'], label: null, secretHash: hashSecret(secret), createdAt: '', rotatedAt: null, revokedAt: null } : null),
    } as unknown as ApiKeyStore;
    const access = adminAccess({ token: TOKENS.issuer, keys, failuresPerMinute: 3, clock: () => 0 });
    const call = async (token: string) => {
      const req = { ip: '203.0.113.9', socket: {}, get: (h: string) => (h.toLowerCase() === 'authorization' ? `Bearer ${token}` : undefined) } as unknown as Request;
      const res = { locals: {} } as unknown as ExpressResponse;
      let passed: unknown = 'not called';
      await access.authenticate(req, res, (err?: unknown) => (passed = err));
      if (passed === undefined) return { status: 200, actor: res.locals.actor as string };
      return { status: (passed as ProblemError).status, retryAfter: (passed as ProblemError).headers['Retry-After'] };
    };
    const wrong = [];
    for (let i = 0; i < 20; i++) wrong.push((await call(`wrong-token-${i}-0123456789abcdef`)).status);
    expect(wrong.slice(0, 3)).toEqual([401, 401, 401]);
    expect(new Set(wrong.slice(3))).toEqual(new Set([429]));
    expect(await call(TOKENS.issuer)).toEqual({ status: 200, actor: 'admin:bootstrap' });
    expect(await call(formatToken(keyId, secret))).toEqual({ status: 200, actor: keyId });
    // A wrong secret for a real key id is a wrong credential like any other.
    expect((await call(formatToken(keyId, (secret[0] === 'x' ? 'y' : 'x') + secret.slice(1)))).status).toBe(429);
    expect((await call('wrong-token-again-0123456789abcdef')).status).toBe(429);
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

  it('refuses further wrong tokens from a client after failed authentications, never the right one, and not for missing tokens', async () => {
    const admin = (ip: string, token?: string) => fetch(`${stack.urls.issuer}/api/audit`, from(ip, token ? { headers: { authorization: `Bearer ${token}` } } : {}));
    for (let i = 0; i < 5; i++) expect((await admin('198.51.100.7')).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await admin('198.51.100.7', `wrong-token-${i}-0123456789abcdef`)).status).toBe(401);
    // Over the limit: wrong tokens get 429 with Retry-After, however many follow.
    for (let i = 0; i < 17; i++) {
      const locked = await admin('198.51.100.7', `wrong-token-more-${i}-0123456789abcdef`);
      expectRetryAfter(locked);
      expect(await locked.json()).toMatchObject({ type: 'urn:id-ideal:problem:rate-limited', status: 429 });
    }
    // Issue 18: the right token from the same address is accepted (others behind one NAT cannot lock administrators out).
    expect((await admin('198.51.100.7', TOKENS.issuer)).status).toBe(200);
    expect((await admin('198.51.100.7', 'wrong-token-after-0123456789abcdef')).status).toBe(429);
    expect((await admin('198.51.100.8', TOKENS.issuer)).status).toBe(200);
    // The verifier keeps its own count.
    expect((await fetch(`${stack.urls.verifier}/api/audit`, from('198.51.100.7', { headers: { authorization: `Bearer ${TOKENS.verifier}` } }))).status).toBe(200);
  });
});
