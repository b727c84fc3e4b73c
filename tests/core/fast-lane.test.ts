import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBaseApp, finish, requireJson } from '../../core/http/app.ts';
import { ProtocolError } from '../../core/http/errors.ts';
import { createFastLane, requireJsonBody } from '../../core/http/fast-lane.ts';
import { limitMiddleware, rateLimiter } from '../../core/http/rate-limit.ts';
import { createLogger } from '../../core/log/logger.ts';
import { closeServer, listen } from '../../core/service/run.ts';

/**
 * The fast lane (core/http/fast-lane.ts, issue 16) must answer as the Express app does: the same
 * headers, the same body rules, the same error styles and limits, and every request it has no route
 * for handed to Express untouched. One service of each lane, real HTTP on loopback.
 */
const SECURITY_HEADERS = ['x-content-type-options', 'referrer-policy', 'x-frame-options', 'cross-origin-opener-policy', 'content-security-policy', 'permissions-policy'];

async function start(opts: { trustProxy?: string | number; perMinute?: number } = {}) {
  const logger = createLogger('test', 'silent');
  const oauthPath = /^\/oauth\//;
  const errorStyle = (path: string) => (oauthPath.test(path) ? 'oauth' : 'problem') as 'oauth' | 'problem';
  const limiter = rateLimiter({ perMinute: opts.perMinute ?? 0, match: (path) => path.startsWith('/oauth/') || path.startsWith('/slow/') });
  const app = createBaseApp({ logger, bodyLimit: '1kb', errorStyle, beforeBody: [limitMiddleware(limiter)], ...(opts.trustProxy !== undefined ? { trustProxy: opts.trustProxy } : {}) });
  app.post('/express/echo', (req, res) => res.json({ lane: 'express', body: req.body ?? null }));
  app.post('/express/json-only', requireJson, (req, res) => res.json({ lane: 'express', body: req.body }));
  app.post('/slow/express', (_req, res) => res.json({ lane: 'express' }));
  app.get('/express/ip', (req, res) => res.json({ ip: req.ip }));
  finish(app, logger);
  const lane = createFastLane({ logger, bodyLimit: '1kb', errorStyle, limiter, trustProxy: app.get('trust proxy fn'), fallback: app });
  lane.app.post('/fast/echo', async (req) => ({ lane: 'fast', body: req.body ?? null }));
  lane.app.post('/fast/json-only', { preValidation: requireJsonBody }, async (req) => ({ lane: 'fast', body: req.body }));
  lane.app.post('/oauth/token', async (req) => ({ lane: 'fast', body: req.body ?? null }));
  lane.app.post('/slow/fast', async () => ({ lane: 'fast' }));
  lane.app.get('/fast/ip', async (req) => ({ ip: req.ip }));
  lane.app.get('/fast/boom', async () => {
    throw new Error('secret detail of an internal failure');
  });
  lane.app.get('/fast/protocol', async (_req, reply) => {
    reply.header('DPoP-Nonce', 'nonce-set-before-the-error');
    throw new ProtocolError('invalid_grant', 'The code was used.');
  });
  const { server, port } = await listen(await lane.handler(), '127.0.0.1', 0);
  return { server, base: `http://127.0.0.1:${port}` };
}

const post = (url: string, body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', headers, body });
const json = { 'content-type': 'application/json' };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('fast lane: the same answers as the Express app', () => {
  let s: { server: Server; base: string };
  beforeAll(async () => {
    s = await start();
  });
  afterAll(async () => {
    await closeServer(s.server);
  });

  it('routes its own paths to Fastify and every other request, body and all, to Express', async () => {
    expect(await (await post(`${s.base}/fast/echo`, '{"a":1}', json)).json()).toEqual({ lane: 'fast', body: { a: 1 } });
    expect(await (await post(`${s.base}/express/echo`, '{"a":2}', json)).json()).toEqual({ lane: 'express', body: { a: 2 } });
    expect(await (await post(`${s.base}/express/echo`, 'x=1&y=2', form)).json()).toEqual({ lane: 'express', body: { x: '1', y: '2' } });
    // Express' routing rules: case-insensitive paths, a trailing slash ignored.
    expect(await (await post(`${s.base}/FAST/Echo/`, '{"b":1}', json)).json()).toEqual({ lane: 'fast', body: { b: 1 } });
    const missing = await fetch(`${s.base}/fast/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await missing.json()).toMatchObject({ status: 404, detail: 'No resource at GET /fast/nothing-here.' });
  });

  it('gives both lanes a request id (the caller\'s when well-formed) and the security headers', async () => {
    for (const path of ['/fast/echo', '/express/echo']) {
      const own = await post(`${s.base}${path}`, '{}', json);
      expect(own.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      for (const h of SECURITY_HEADERS) expect(own.headers.get(h), `${path} ${h}`).toBeTruthy();
      expect(own.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      const given = await post(`${s.base}${path}`, '{}', { ...json, 'x-request-id': 'counter-7-abcdef' });
      expect(given.headers.get('x-request-id')).toBe('counter-7-abcdef');
      const bad = await post(`${s.base}${path}`, '{}', { ...json, 'x-request-id': 'no spaces allowed here' });
      expect(bad.headers.get('x-request-id')).not.toBe('no spaces allowed here');
    }
  });

  it('reads JSON as the Express app does: objects and arrays, an empty body as {}, UTF-8 only', async () => {
    for (const lane of ['fast', 'express']) {
      expect((await (await post(`${s.base}/${lane}/echo`, '', json)).json()).body).toEqual({});
      expect((await (await post(`${s.base}/${lane}/echo`, '[1,2]', { 'content-type': 'application/merge-patch+json' })).json()).body).toEqual([1, 2]);
      for (const body of ['"text"', '42', 'null', '{"a":']) {
        const res = await post(`${s.base}/${lane}/echo`, body, json);
        expect(res.status, `${lane} ${body}`).toBe(400);
        expect(await res.json()).toMatchObject({ type: 'urn:id-ideal:problem:malformed-json' });
      }
      const latin = await post(`${s.base}/${lane}/echo`, '{}', { 'content-type': 'application/json; charset=iso-8859-1' });
      expect(latin.status, lane).toBe(415);
      expect(await latin.json()).toMatchObject({ type: 'urn:id-ideal:problem:unsupported-charset' });
      const big = await post(`${s.base}/${lane}/echo`, JSON.stringify({ a: 'x'.repeat(2000) }), json);
      expect(big.status, lane).toBe(413);
      expect(await big.json()).toMatchObject({ type: 'urn:id-ideal:problem:payload-too-large' });
      // Another media type: the body is not read, the route sees none.
      expect((await (await post(`${s.base}/${lane}/echo`, 'hello', { 'content-type': 'text/plain' })).json()).body).toBeNull();
    }
  });

  it('reads forms with at most 100 parameters and refuses a compressed body it would not inflate', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `p${i}=1`).join('&');
    const tooMany = await post(`${s.base}/fast/echo`, many, form);
    expect(tooMany.status).toBe(413);
    expect(await tooMany.json()).toMatchObject({ type: 'urn:id-ideal:problem:too-many-parameters' });
    expect((await (await post(`${s.base}/fast/echo`, 'a=1&a=2&b=%C3%BC', form)).json()).body).toEqual({ a: ['1', '2'], b: 'ü' });
    const gz = await post(`${s.base}/fast/echo`, '{}', { ...json, 'content-encoding': 'gzip' });
    expect(gz.status).toBe(415);
    expect(await gz.json()).toMatchObject({ type: 'urn:id-ideal:problem:unsupported-encoding' });
  });

  it('answers errors in the path\'s style: OAuth JSON on protocol paths, problem JSON elsewhere, no internals', async () => {
    const bad = await post(`${s.base}/oauth/token`, '{"a":', json);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(bad.headers.get('cache-control')).toBe('no-store');
    expect(await bad.json()).toEqual({ error: 'invalid_request', error_description: 'The request body is not valid JSON.' });
    const protocol = await fetch(`${s.base}/fast/protocol`);
    expect(protocol.status).toBe(400);
    expect(await protocol.json()).toEqual({ error: 'invalid_grant', error_description: 'The code was used.' });
    // A header the route set before it failed stays on the answer (every token endpoint answer carries DPoP-Nonce).
    expect(protocol.headers.get('dpop-nonce')).toBe('nonce-set-before-the-error');
    const boom = await fetch(`${s.base}/fast/boom`);
    expect(boom.status).toBe(500);
    const text = await boom.text();
    expect(text).not.toContain('secret detail');
    expect(JSON.parse(text)).toMatchObject({ type: 'urn:id-ideal:problem:server-error' });
  });

  it('refuses a body that is not JSON where a route requires JSON, as requireJson does', async () => {
    for (const lane of ['fast', 'express']) {
      expect((await post(`${s.base}/${lane}/json-only`, 'a=1', form)).status, lane).toBe(415);
      expect((await fetch(`${s.base}/${lane}/json-only`, { method: 'POST' })).status, lane).toBe(415);
      expect((await post(`${s.base}/${lane}/json-only`, '{"a":1}', json)).status, lane).toBe(200);
    }
  });
});

describe('fast lane: limits and client addresses shared with the Express app', () => {
  it('takes from the same bucket on both lanes, before the body is read', async () => {
    const s = await start({ perMinute: 3 });
    try {
      expect((await post(`${s.base}/slow/fast`, '{}', json)).status).toBe(200);
      expect((await post(`${s.base}/slow/express`, '{}', json)).status).toBe(200);
      expect((await post(`${s.base}/slow/fast`, '{}', json)).status).toBe(200);
      // The fourth, on either lane, is refused; an oversized body does not get a 413 first.
      const refused = await post(`${s.base}/slow/express`, '{}', json);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      const oauth = await post(`${s.base}/oauth/token`, '{'.repeat(5000), json);
      expect(oauth.status).toBe(429);
      expect(await oauth.json()).toMatchObject({ error: 'slow_down' });
    } finally {
      await closeServer(s.server);
    }
  });

  it('reads X-Forwarded-For under the same TRUST_PROXY rule as Express, a hop count included', async () => {
    for (const trustProxy of ['loopback', 1]) {
      const s = await start({ trustProxy });
      try {
        const headers = { 'x-forwarded-for': '203.0.113.9' };
        expect(await (await fetch(`${s.base}/fast/ip`, { headers })).json()).toEqual({ ip: '203.0.113.9' });
        expect(await (await fetch(`${s.base}/express/ip`, { headers })).json()).toEqual({ ip: '203.0.113.9' });
      } finally {
        await closeServer(s.server);
      }
    }
    const s = await start();
    try {
      // No TRUST_PROXY: the header is the client's word and is not taken.
      expect(await (await fetch(`${s.base}/fast/ip`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).json()).toEqual({ ip: '127.0.0.1' });
    } finally {
      await closeServer(s.server);
    }
  });
});
