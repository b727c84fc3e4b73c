import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { SignJWT } from 'jose';
import { p256KeyFromPrivateHex, thumbprint } from '../../core/crypto/jwk.ts';
import { signJws, signJwt, type Signer } from '../../core/crypto/jws.ts';
import { buildDidDocument } from '../../core/did/did-web.ts';
import { createDidResolver } from '../../core/did/resolver.ts';
import { StatusListClient, type StatusCheck, type StatusListClientOptions } from '../../core/status-list/status-list-client.ts';
import { encodeStatusList, STATUS } from '../../core/status-list/token-status-list.ts';
import { freePort } from '../helpers/net.ts';

/**
 * StatusListClient (draft-ietf-oauth-status-list §8.3) against a real HTTP server on 127.0.0.1.
 * Status List Tokens are signed here with a did:web issuer key whose DID document is answered by
 * `createDidResolver({ local })`, so no DID document is fetched over HTTP.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

let server: Server;
let port: number;
let base: string;
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
const acceptHeaders: (string | undefined)[] = [];

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
let now = T0;
const clock = () => now;
const sec = (ms: number) => Math.floor(ms / 1000);

let issuerDid: string;
let otherDid: string;
let issuer: Signer;
let other: Signer;
const docs = new Map<string, Record<string, unknown>>();
const resolver = createDidResolver({ local: (did) => docs.get(did) });

async function makeSigner(privateHex: string, did: string): Promise<Signer> {
  const { privateKey, publicJwk } = p256KeyFromPrivateHex(privateHex);
  const fragment = await thumbprint(publicJwk);
  docs.set(did, buildDidDocument(did, [{ fragment, publicJwk }]));
  return { kid: `${did}#${fragment}`, alg: 'ES256', publicJwk, privateKey };
}

// 2-bit list of 1024 entries: index 0 VALID, 1 INVALID, 2 SUSPENDED, 7 INVALID, 1000 SUSPENDED, the rest VALID.
const ENTRIES: [number, number][] = [[1, STATUS.INVALID], [2, STATUS.SUSPENDED], [7, STATUS.INVALID], [1000, STATUS.SUSPENDED]];
const LIST = encodeStatusList(ENTRIES, 2, 1024);

const url = (path: string) => `${base}${path}`;

function payload(uri: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: uri, iat: sec(now), exp: sec(now) + 3600, ttl: 300, status_list: LIST, ...overrides };
}

function token(signer: Signer, body: Record<string, unknown>, typ = 'statuslist+jwt'): Promise<string> {
  return signJwt(signer, body, { typ });
}

function serve(path: string, body: string | (() => string | Promise<string>), status = 200): void {
  routes.set(path, async (_req, res) => {
    const text = typeof body === 'string' ? body : await body();
    res.writeHead(status, { 'content-type': 'application/statuslist+jwt' });
    res.end(text);
  });
}

/** Serves a fresh token, signed at request time with the test clock, at `path`. */
function serveList(path: string, overrides: Record<string, unknown> = {}, signer: () => Signer = () => issuer): void {
  serve(path, () => token(signer(), payload(url(path), overrides)));
}

function client(opts: Partial<StatusListClientOptions> = {}): StatusListClient {
  return new StatusListClient({ resolver, clock, maxAgeMs: 15 * 60_000, ...opts });
}

const hitCount = (path: string) => hits.get(path) ?? 0;

function expectInvalid(result: StatusCheck, message?: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code, result.message).toBe('status_invalid');
  if (message) expect(result.message).toMatch(message);
}

function expectUnavailable(result: StatusCheck): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code, result.message).toBe('status_unavailable');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    hits.set(path, hitCount(path) + 1);
    acceptHeaders.push(req.headers.accept);
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    Promise.resolve(handler(req, res)).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://localhost:${port}`;
  issuerDid = `did:web:localhost%3A${port}:offices:x`;
  otherDid = `did:web:localhost%3A${port}:offices:y`;
  issuer = await makeSigner('11'.repeat(32), issuerDid);
  other = await makeSigner('22'.repeat(32), otherDid);
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  now = T0;
  routes.clear();
  hits.clear();
  acceptHeaders.length = 0;
});

describe('StatusListClient: valid lists', () => {
  it('reads the correct status values (0 valid, 1 invalid, 2 suspended) at several indices of a 2-bit list', async () => {
    serveList('/lists/1');
    const c = client();
    const ref = (idx: number) => ({ uri: url('/lists/1'), idx });
    const expected: [number, number][] = [[0, 0], [1, 1], [2, 2], [3, 0], [6, 0], [7, 1], [8, 0], [999, 0], [1000, 2], [1023, 0]];
    for (const [idx, status] of expected) expect(await c.check(ref(idx), issuerDid), `index ${idx}`).toEqual({ ok: true, status });
    expect(hitCount('/lists/1')).toBe(1);
  });

  it('reads a 1-bit list (bits = 1)', async () => {
    const lst = encodeStatusList([[0, 1], [9, 1], [15, 1]], 1, 16);
    serveList('/lists/bits1', { status_list: lst });
    const c = client();
    const got = await Promise.all(Array.from({ length: 16 }, (_, idx) => c.check({ uri: url('/lists/bits1'), idx }, issuerDid)));
    expect(got.map((r) => (r.ok ? r.status : r.code))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  });

  it('asks for application/statuslist+jwt', async () => {
    serveList('/lists/1');
    await client().check({ uri: url('/lists/1'), idx: 0 }, issuerDid);
    expect(acceptHeaders).toEqual(['application/statuslist+jwt']);
  });

  it('accepts a list without exp and without ttl (both only RECOMMENDED)', async () => {
    serveList('/lists/1', { exp: undefined, ttl: undefined });
    expect(await client().check({ uri: url('/lists/1'), idx: 2 }, issuerDid)).toEqual({ ok: true, status: 2 });
  });
});

describe('StatusListClient: caching (ttl, maxAgeMs, exp)', () => {
  it('within ttl the cached list is used (no refetch)', async () => {
    serveList('/lists/1', { ttl: 60 });
    const c = client({ maxAgeMs: 300_000 });
    const ref = { uri: url('/lists/1'), idx: 1 };
    expect(await c.check(ref, issuerDid)).toEqual({ ok: true, status: 1 });
    now = T0 + 30_000;
    expect(await c.check(ref, issuerDid)).toEqual({ ok: true, status: 1 });
    now = T0 + 59_999;
    expect(await c.check(ref, issuerDid)).toEqual({ ok: true, status: 1 });
    expect(hitCount('/lists/1')).toBe(1);
  });

  it('after ttl the list is fetched again, and the new content is used', async () => {
    serveList('/lists/1', { ttl: 60 });
    const c = client({ maxAgeMs: 300_000 });
    const ref = { uri: url('/lists/1'), idx: 3 };
    expect(await c.check(ref, issuerDid)).toEqual({ ok: true, status: 0 });
    // The issuer revokes index 3 meanwhile.
    serveList('/lists/1', { ttl: 60, status_list: encodeStatusList([...ENTRIES, [3, STATUS.INVALID]], 2, 1024) });
    now = T0 + 60_000;
    expect(await c.check(ref, issuerDid)).toEqual({ ok: true, status: 1 });
    expect(hitCount('/lists/1')).toBe(2);
    now = T0 + 60_000 + 59_999;
    await c.check(ref, issuerDid);
    expect(hitCount('/lists/1')).toBe(2);
  });

  it('maxAgeMs: 0 fetches the list on every check', async () => {
    serveList('/lists/1', { ttl: 3600 });
    const c = client({ maxAgeMs: 0 });
    for (let i = 0; i < 3; i++) expect(await c.check({ uri: url('/lists/1'), idx: 1 }, issuerDid)).toEqual({ ok: true, status: 1 });
    expect(hitCount('/lists/1')).toBe(3);
  });

  it('a maxAgeMs shorter than ttl wins', async () => {
    serveList('/lists/1', { ttl: 3600 });
    const c = client({ maxAgeMs: 10_000 });
    const ref = { uri: url('/lists/1'), idx: 0 };
    await c.check(ref, issuerDid);
    now = T0 + 9_999;
    await c.check(ref, issuerDid);
    expect(hitCount('/lists/1')).toBe(1);
    now = T0 + 10_000;
    expect(await c.check(ref, issuerDid)).toEqual({ ok: true, status: 0 });
    expect(hitCount('/lists/1')).toBe(2);
  });

  it('without ttl the list is cached for maxAgeMs', async () => {
    serveList('/lists/1', { ttl: undefined });
    const c = client({ maxAgeMs: 120_000 });
    const ref = { uri: url('/lists/1'), idx: 0 };
    await c.check(ref, issuerDid);
    now = T0 + 119_999;
    await c.check(ref, issuerDid);
    expect(hitCount('/lists/1')).toBe(1);
    now = T0 + 120_000;
    await c.check(ref, issuerDid);
    expect(hitCount('/lists/1')).toBe(2);
  });

  it('a cached list is never used past its exp, even within ttl and maxAgeMs', async () => {
    // Each response is signed at request time: exp = now + 30 s, ttl 300 s.
    serve('/lists/1', () => token(issuer, payload(url('/lists/1'), { exp: sec(now) + 30, ttl: 300 })));
    const c = client({ maxAgeMs: 600_000 });
    const ref = { uri: url('/lists/1'), idx: 2 };
    await c.check(ref, issuerDid);
    now = T0 + 29_999;
    await c.check(ref, issuerDid);
    expect(hitCount('/lists/1')).toBe(1);
    now = T0 + 30_000;
    expect(await c.check(ref, issuerDid)).toEqual({ ok: true, status: 2 });
    expect(hitCount('/lists/1')).toBe(2);
  });

  it('lists are cached per URI', async () => {
    serveList('/lists/1');
    serveList('/lists/2', { status_list: encodeStatusList([[0, STATUS.SUSPENDED]], 2, 8) });
    const c = client();
    expect(await c.check({ uri: url('/lists/1'), idx: 0 }, issuerDid)).toEqual({ ok: true, status: 0 });
    expect(await c.check({ uri: url('/lists/2'), idx: 0 }, issuerDid)).toEqual({ ok: true, status: 2 });
    expect(await c.check({ uri: url('/lists/1'), idx: 1 }, issuerDid)).toEqual({ ok: true, status: 1 });
    expect([hitCount('/lists/1'), hitCount('/lists/2')]).toEqual([1, 1]);
  });

  it('concurrent checks of one URI share a single fetch (in-flight dedupe)', async () => {
    routes.set('/lists/slow', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 150));
      res.writeHead(200, { 'content-type': 'application/statuslist+jwt' }).end(await token(issuer, payload(url('/lists/slow'))));
    });
    const c = client();
    const idx = [0, 1, 2, 3, 7, 1000, 1023, 5, 6, 4];
    const results = await Promise.all(idx.map((i) => c.check({ uri: url('/lists/slow'), idx: i }, issuerDid)));
    expect(results.map((r) => (r.ok ? r.status : r.code))).toEqual([0, 1, 2, 0, 1, 2, 0, 0, 0, 0]);
    expect(hitCount('/lists/slow')).toBe(1);
    // … and the result is then cached.
    await c.check({ uri: url('/lists/slow'), idx: 0 }, issuerDid);
    expect(hitCount('/lists/slow')).toBe(1);
  });

  it('a failed fetch is shared by concurrent checks but not cached: the next check fetches again', async () => {
    let fail = true;
    routes.set('/lists/flaky', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 100));
      if (fail) res.writeHead(500).end('boom');
      else res.writeHead(200).end(await token(issuer, payload(url('/lists/flaky'))));
    });
    const c = client();
    const first = await Promise.all([0, 1, 2].map((idx) => c.check({ uri: url('/lists/flaky'), idx }, issuerDid)));
    first.forEach(expectUnavailable);
    expect(hitCount('/lists/flaky')).toBe(1);
    fail = false;
    expect(await c.check({ uri: url('/lists/flaky'), idx: 1 }, issuerDid)).toEqual({ ok: true, status: 1 });
    expect(hitCount('/lists/flaky')).toBe(2);
  });
});

describe('StatusListClient: lists that must be rejected (status_invalid)', () => {
  const check = (path: string, idx = 0, credentialIssuer = issuerDid) => client().check({ uri: url(path), idx }, credentialIssuer);

  it('bad signature: signed with another key under the issuer kid', async () => {
    const forged: Signer = { ...other, kid: issuer.kid };
    serve('/lists/1', () => token(forged, payload(url('/lists/1'))));
    expectInvalid(await check('/lists/1'), /signature/);
  });

  it('bad signature: payload swapped after signing', async () => {
    const good = await token(issuer, payload(url('/lists/1')));
    const [h, , s] = good.split('.');
    const swapped = Buffer.from(JSON.stringify(payload(url('/lists/1'), { status_list: encodeStatusList([], 2, 1024) }))).toString('base64url');
    serve('/lists/1', `${h}.${swapped}.${s}`);
    expectInvalid(await check('/lists/1', 1), /signature/);
  });

  it('wrong typ: JWT', async () => {
    serve('/lists/1', () => token(issuer, payload(url('/lists/1')), 'JWT'));
    expectInvalid(await check('/lists/1'), /typ/);
  });

  it('wrong typ: missing, and the full media type application/statuslist+jwt', async () => {
    serve('/lists/none', () => new SignJWT(payload(url('/lists/none'))).setProtectedHeader({ alg: 'ES256', kid: issuer.kid }).sign(issuer.privateKey));
    expectInvalid(await check('/lists/none'), /typ/);
    serve('/lists/media', () => token(issuer, payload(url('/lists/media')), 'application/statuslist+jwt'));
    expectInvalid(await check('/lists/media'), /typ/);
  });

  it('alg none is rejected', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    serve('/lists/1', `${b64({ alg: 'none', typ: 'statuslist+jwt', kid: issuer.kid })}.${b64(payload(url('/lists/1')))}.`);
    expectInvalid(await check('/lists/1'), /algorithm/);
  });

  it('HS256 (HMAC keyed with the public key bytes) is rejected', async () => {
    const secret = Buffer.from(JSON.stringify(issuer.publicJwk));
    serve('/lists/1', () => new SignJWT(payload(url('/lists/1'))).setProtectedHeader({ alg: 'HS256', typ: 'statuslist+jwt', kid: issuer.kid }).sign(secret));
    expectInvalid(await check('/lists/1'), /algorithm/);
  });

  it('sub not equal to the status list URI', async () => {
    serveList('/lists/1', { sub: url('/lists/2') });
    expectInvalid(await check('/lists/1'), /sub/);
    serveList('/lists/3', { sub: undefined });
    expectInvalid(await check('/lists/3'), /malformed/);
  });

  it('expired exp (in the past, and exactly now)', async () => {
    serveList('/lists/past', { exp: sec(T0) - 1 });
    expectInvalid(await check('/lists/past'), /expired/);
    serveList('/lists/now', { exp: sec(T0) });
    expectInvalid(await check('/lists/now'), /expired/);
  });

  it('index out of range (past the end, negative, not an integer)', async () => {
    serveList('/lists/1');
    const c = client();
    for (const idx of [1024, 5000, -1, 1.5]) expectInvalid(await c.check({ uri: url('/lists/1'), idx }, issuerDid), /out of range/);
    expect(await c.check({ uri: url('/lists/1'), idx: 1023 }, issuerDid)).toEqual({ ok: true, status: 0 });
  });

  it('truncated lst', async () => {
    serveList('/lists/1', { status_list: { bits: 2, lst: LIST.lst.slice(0, Math.floor(LIST.lst.length / 2)) } });
    expectInvalid(await check('/lists/1'), /ZLIB/);
  });

  it('garbage lst (not base64url, and base64url of random bytes)', async () => {
    serveList('/lists/a', { status_list: { bits: 2, lst: 'not*base64url!' } });
    expectInvalid(await check('/lists/a'), /base64url/);
    serveList('/lists/b', { status_list: { bits: 2, lst: Buffer.from('8f3a9c0d55e17b2a', 'hex').toString('base64url') } });
    expectInvalid(await check('/lists/b'), /ZLIB/);
  });

  it('non-compressed lst (the raw byte array, base64url)', async () => {
    serveList('/lists/1', { status_list: { bits: 1, lst: Buffer.from([0xb9, 0xa3]).toString('base64url') } });
    expectInvalid(await check('/lists/1'), /ZLIB/);
  });

  it('malformed status_list claim (bits 3, missing lst) and missing iat', async () => {
    serveList('/lists/a', { status_list: { bits: 3, lst: LIST.lst } });
    expectInvalid(await check('/lists/a'), /malformed/);
    serveList('/lists/b', { status_list: { bits: 2 } });
    expectInvalid(await check('/lists/b'), /malformed/);
    serveList('/lists/c', { iat: undefined });
    expectInvalid(await check('/lists/c'), /malformed/);
    serveList('/lists/d', { ttl: 0 });
    expectInvalid(await check('/lists/d'), /malformed/);
  });

  it('decompression bomb (64 MiB of zeros deflated) is refused without hanging', async () => {
    const lst = deflateSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }).toString('base64url');
    expect(lst.length).toBeLessThan(200_000);
    serveList('/lists/bomb', { status_list: { bits: 1, lst } });
    const started = Date.now();
    expectInvalid(await check('/lists/bomb'), /ZLIB/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a list signed by another DID than the credential issuer', async () => {
    serveList('/lists/1', {}, () => other);
    expectInvalid(await check('/lists/1', 0, issuerDid), /not signed by the credential issuer/);
    // The same list is fine for a credential whose issuer is that other DID.
    expect(await check('/lists/1', 1, otherDid)).toEqual({ ok: true, status: 1 });
  });

  it('a cached list signed by the issuer is still refused for a credential of another issuer', async () => {
    serveList('/lists/1');
    const c = client();
    expect(await c.check({ uri: url('/lists/1'), idx: 1 }, issuerDid)).toEqual({ ok: true, status: 1 });
    expectInvalid(await c.check({ uri: url('/lists/1'), idx: 1 }, otherDid), /not signed by the credential issuer/);
    expect(hitCount('/lists/1')).toBe(1);
  });

  it('kid that is not a DID URL, a DID that does not resolve, a key that is not an assertion method', async () => {
    serve('/lists/a', () => token({ ...issuer, kid: 'key-1' }, payload(url('/lists/a'))));
    expectInvalid(await check('/lists/a'), /DID kid/);
    const unknownDid = `did:web:localhost%3A${port}:offices:unknown`;
    serve('/lists/b', () => token({ ...issuer, kid: `${unknownDid}#k` }, payload(url('/lists/b'))));
    expectInvalid(await check('/lists/b', 0, unknownDid), /could not be resolved/);
    serve('/lists/c', () => token({ ...issuer, kid: `${issuerDid}#not-listed` }, payload(url('/lists/c'))));
    expectInvalid(await check('/lists/c'), /could not be resolved/);
  });

  it('a body that is not a JWS', async () => {
    serve('/lists/1', '<html>hello</html>');
    expectInvalid(await check('/lists/1'));
  });

  it('a status list URI that is neither https nor http://localhost|127.0.0.1 is refused without fetching', async () => {
    const c = client({ fetch: () => Promise.reject(new Error('must not fetch')) });
    for (const uri of ['http://example.com/lists/1', 'http://localhost.evil.example/lists/1', 'http://localhost@evil.example/lists/1', 'ftp://localhost/lists/1', 'file:///etc/passwd']) {
      expectInvalid(await c.check({ uri, idx: 0 }, issuerDid), /https/);
    }
  });

  it('http://127.0.0.1:<port>/ is accepted like localhost', async () => {
    const uri = `http://127.0.0.1:${port}/lists/ip`;
    serve('/lists/ip', () => token(issuer, payload(uri)));
    expect(await client().check({ uri, idx: 2 }, issuerDid)).toEqual({ ok: true, status: 2 });
  });
});

describe('StatusListClient: lists that cannot be had (status_unavailable)', () => {
  it('unreachable URL (closed port)', async () => {
    const closed = await freePort();
    expectUnavailable(await client().check({ uri: `http://localhost:${closed}/lists/1`, idx: 0 }, issuerDid));
  });

  it('HTTP 500', async () => {
    serve('/lists/1', 'oops', 500);
    const r = await client().check({ uri: url('/lists/1'), idx: 0 }, issuerDid);
    expectUnavailable(r);
    expect(!r.ok && r.message).toMatch(/HTTP 500/);
  });

  it('HTTP 404', async () => {
    expectUnavailable(await client().check({ uri: url('/lists/missing'), idx: 0 }, issuerDid));
    expect(hitCount('/lists/missing')).toBe(1);
  });

  it('a redirect (302) is not followed', async () => {
    serveList('/lists/1');
    routes.set('/lists/moved', (_req, res) => void res.writeHead(302, { location: url('/lists/1') }).end());
    expectUnavailable(await client().check({ uri: url('/lists/moved'), idx: 0 }, issuerDid));
    expect(hitCount('/lists/moved')).toBe(1);
    expect(hitCount('/lists/1')).toBe(0);
  });

  it('a body larger than maxBytes', async () => {
    serve('/lists/big', 'a'.repeat(10_001));
    expectUnavailable(await client({ maxBytes: 10_000 }).check({ uri: url('/lists/big'), idx: 0 }, issuerDid));
  });

  it('an endless body is cut just past maxBytes: the server sees the connection closed', async () => {
    let written = 0;
    let closed!: (n: number) => void;
    const closedAt = new Promise<number>((r) => (closed = r));
    routes.set('/lists/endless', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/statuslist+jwt' });
      res.on('close', () => closed(written));
      const pump = () => {
        if (res.destroyed || written > 100_000_000) return void res.end();
        written += 4096;
        if (res.write('a'.repeat(4096))) setTimeout(pump, 1);
        else res.once('drain', pump);
      };
      pump();
    });
    const r = await client({ maxBytes: 20_000 }).check({ uri: url('/lists/endless'), idx: 0 }, issuerDid);
    expectUnavailable(r);
    expect(!r.ok && r.message).toMatch(/too large/);
    expect(await closedAt).toBeLessThan(2 * 20_000);
  });

  it('a server that never answers is cut at timeoutMs', async () => {
    routes.set('/lists/silent', () => undefined);
    const started = Date.now();
    const r = await client({ timeoutMs: 300 }).check({ uri: url('/lists/silent'), idx: 0 }, issuerDid);
    expectUnavailable(r);
    expect(!r.ok && r.message).toMatch(/in time/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('StatusListClient: known defects (see the report; status-list-client.ts is not changed here)', () => {
  // RFC 7519 §4.1.5: a JWT MUST NOT be accepted before its nbf; draft-ietf-oauth-status-list §5.1 rule 3
  // ("Relying Parties MUST reject JWTs that are not valid in all other respects per RFC 7519").
  // The client verifies with jose `compactVerify` (no claim checks) and checks only `exp` itself.
  it('a list whose nbf is in the future is rejected', async () => {
    serveList('/lists/1', { nbf: sec(T0) + 3600 });
    expectInvalid(await client().check({ uri: url('/lists/1'), idx: 0 }, issuerDid));
  });

  // A correctly signed token whose payload is not JSON: `JSON.parse` throws a SyntaxError, which
  // `check` does not count as invalid, so a malformed list is reported as `status_unavailable`.
  it('a signed list whose payload is not JSON is status_invalid', async () => {
    serve('/lists/1', () => signJws(issuer, new TextEncoder().encode('not json'), { typ: 'statuslist+jwt' }));
    expectInvalid(await client().check({ uri: url('/lists/1'), idx: 0 }, issuerDid));
  });

  it('offline grace: a list verified earlier is used while the server is down, within the grace only', async () => {
    serveList('/lists/grace', { ttl: 60 });
    const c = client({ maxAgeMs: 60_000 });
    const ref = { uri: url('/lists/grace'), idx: 1 };
    expect(await c.check(ref, issuerDid)).toEqual({ ok: true, status: 1 });
    serve('/lists/grace', 'down', 503);
    now += 61_000;
    expectUnavailable(await c.check(ref, issuerDid));
    expect(await c.check(ref, issuerDid, { graceMs: 600_000 })).toEqual({ ok: true, status: 1, stale: true });
    now += 600_000;
    expectUnavailable(await c.check(ref, issuerDid, { graceMs: 600_000 }));
  });

  it('offline grace never covers an invalid list', async () => {
    serveList('/lists/grace2', { ttl: 60 });
    const c = client({ maxAgeMs: 60_000 });
    const ref = { uri: url('/lists/grace2'), idx: 1 };
    expect((await c.check(ref, issuerDid)).ok).toBe(true);
    serveList('/lists/grace2', {}, () => other);
    now += 61_000;
    expectInvalid(await c.check(ref, issuerDid, { graceMs: 600_000 }));
  });
});
