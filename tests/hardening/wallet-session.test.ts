import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBaseApp, finish } from '../../core/http/app.ts';
import { createLogger } from '../../core/log/logger.ts';
import { closeServer, listen } from '../../core/service/run.ts';
import { WalletStore } from '../../wallet-demo/core/store.ts';
import { walletRoutes } from '../../wallet-demo/web/app.ts';
import { freePort } from '../helpers/net.ts';
import { spawnService } from '../helpers/spawn-service.ts';

/**
 * The web wallet's session boundary (docs/threat-model.md, "Web wallet"): unlocking opens a session
 * for one browser only; other host names (DNS rebinding) are refused before any route; passphrase
 * guessing meets a back-off; the key derivation does not stall the process; idle sessions lock; a
 * link only pre-fills a request, and the wallet fetches https (or demo loopback) URLs only after the
 * citizen acts, never showing what the other side answered.
 */
const PASS = 'korrekt-pferd-batterie';
const SECRET = 'Mustermann-Geheimnis';
const VERLAUF = 'Stadtbibliothek-Verlauf';
const GROUP = 'gruppe-eins';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request with full control over Host, cookies and the local address (node:http). */
function call(base: string, method: string, path: string, o: { host?: string; cookie?: string; form?: Record<string, string>; localAddress?: string } = {}): Promise<Answer> {
  const u = new URL(base);
  const body = o.form ? new URLSearchParams(o.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: u.port,
        method,
        path,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        headers: {
          host: o.host ?? u.host,
          'sec-fetch-site': 'same-origin',
          ...(o.cookie ? { cookie: o.cookie } : {}),
          ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sessionCookie = (a: Answer): string => {
  const set = ([] as string[]).concat(a.headers['set-cookie'] ?? []).find((c) => c.startsWith('wallet_session='));
  expect(set, `no session cookie (status ${a.status})`).toBeDefined();
  return set!.split(';')[0]!;
};

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
});

/** A wallet holding one credential and one history entry, served like main.ts serves it, on loopback. */
async function startWallet(o: { clock?: () => number; idleTimeoutMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'idideal-wallet-session-'));
  const store = await WalletStore.open(dir, PASS);
  store.update((d) => {
    d.credentials.push({ id: 'c1', format: 'dc+sd-jwt', raw: 'x~', keyId: 'k1', type: 'urn:test:meldebescheinigung', issuer: 'did:web:localhost', claims: { familienname: SECRET }, receivedAt: '2026-01-01T00:00:00Z', group: GROUP });
    d.history.push({ at: '2026-01-02T00:00:00Z', verifier: 'did:web:bibliothek', verifierName: { de: VERLAUF, en: VERLAUF }, outcome: 'shared', shared: [] });
  });
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const logger = createLogger('wallet-demo', 'silent');
  const app = createBaseApp({ logger });
  app.use(walletRoutes({ dir, registryUrl: 'http://127.0.0.1:9', allowLocalHttp: true, publicUrl: url, logger, ...(o.clock ? { clock: o.clock } : {}), ...(o.idleTimeoutMs ? { idleTimeoutMs: o.idleTimeoutMs } : {}) }));
  finish(app, logger);
  const { server } = await listen(app, '127.0.0.1', port);
  closers.push(() => closeServer(server));
  const unlock = async (passphrase = PASS, extra: { localAddress?: string } = {}) => call(url, 'POST', '/unlock', { form: { passphrase }, ...extra });
  return { url, unlock };
}

/** A loopback server that counts every request it gets and answers 500 with a text of its own. */
async function countingServer() {
  let hits = 0;
  const srv = createServer((_req, res) => {
    hits++;
    res.writeHead(500, { 'content-type': 'text/plain' }).end('INNERE-FEHLERSEITE des Zielservers');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => srv.close(() => r())));
  return { port: (srv.address() as AddressInfo).port, hits: () => hits };
}

describe('web wallet sessions', () => {
  it('a second client without the session cookie sees nothing personal after the first unlocked', async () => {
    const w = await startWallet();
    const a = await w.unlock();
    expect(a.status).toBe(303);
    const cookie = sessionCookie(a);
    // RFC 6265bis: HttpOnly, SameSite=Strict, Path=/; 256-bit id. Plain http on loopback: no Secure (it would not come back).
    const set = ([] as string[]).concat(a.headers['set-cookie'] ?? []).find((c) => c.startsWith('wallet_session='))!;
    expect(set).toMatch(/^wallet_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect((await call(w.url, 'GET', '/', { cookie })).body).toContain(SECRET);

    for (const other of [undefined, `wallet_session=${'ab'.repeat(32)}`]) {
      const opts = other ? { cookie: other } : {};
      const home = await call(w.url, 'GET', '/', opts);
      expect(home.body).not.toContain(SECRET);
      expect(home.body).toContain('action="/unlock"');
      for (const [method, path] of [['GET', '/history'], ['GET', '/history.json'], ['POST', `/credentials/${GROUP}/delete`], ['POST', '/present'], ['POST', '/present/00000000-0000-4000-8000-000000000000/share'], ['POST', '/receive'], ['POST', '/collect'], ['POST', '/lock']] as const) {
        const r = await call(w.url, method, path, { ...opts, form: { request: 'openid4vp://?x', offer: 'openid-credential-offer://?x' } });
        expect(r.status, `${method} ${path}`).toBe(401);
        expect(r.body, `${method} ${path}`).not.toContain(SECRET);
        expect(r.body, `${method} ${path}`).not.toContain(VERLAUF);
      }
    }
    // The first client's wallet is untouched and still open for it.
    const still = await call(w.url, 'GET', '/', { cookie });
    expect(still.body).toContain(SECRET);
    expect((await call(w.url, 'GET', '/history.json', { cookie })).body).toContain(VERLAUF);
  });

  it('refuses another Host name (DNS rebinding) before any route, also for /history.json, present and delete', async () => {
    const w = await startWallet();
    const cookie = sessionCookie(await w.unlock());
    for (const host of ['evil.example', `evil.example:${new URL(w.url).port}`, 'localhost.evil.example']) {
      for (const [method, path] of [['GET', '/'], ['GET', '/history.json'], ['GET', '/history'], ['POST', '/present'], ['POST', '/present/00000000-0000-4000-8000-000000000000/share'], ['POST', `/credentials/${GROUP}/delete`], ['POST', '/unlock'], ['GET', '/static/wallet.css']] as const) {
        const r = await call(w.url, method, path, { host, cookie, form: { passphrase: PASS, request: 'openid4vp://?x' } });
        expect(r.status, `${host} ${method} ${path}`).toBe(421);
        expect(r.body).toContain('Falsche Adresse');
        expect(r.body).toContain('Wrong address');
        expect(r.body).not.toContain(SECRET);
        expect(r.body).not.toContain(VERLAUF);
      }
    }
    // The wallet's own names still work (localhost and 127.0.0.1 on its port), and nothing was deleted.
    const port = new URL(w.url).port;
    expect((await call(w.url, 'GET', '/', { cookie, host: `127.0.0.1:${port}` })).body).toContain(SECRET);
    expect((await call(w.url, 'GET', '/', { cookie })).body).toContain(SECRET);
  });

  it('refuses the 6th wrong passphrase with back-off (429, Retry-After), per client and for all clients; the right one works after the wait', async () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    const w = await startWallet({ clock: () => now });
    for (let i = 0; i < 5; i++) expect((await w.unlock(`falsch-nummer-${i}`)).status).toBe(401);
    const sixth = await w.unlock('falsch-nummer-6');
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(sixth.body).toContain('Zu viele Versuche');
    // During the wait even the right passphrase is refused (no oracle).
    expect((await w.unlock()).status).toBe(429);
    now += Number(sixth.headers['retry-after']) * 1000;
    const ok = await w.unlock();
    expect(ok.status).toBe(303);
    expect((await call(w.url, 'GET', '/', { cookie: sessionCookie(ok) })).body).toContain(SECRET);

    // Other loopback addresses are other clients; the global count still binds them.
    const g = await startWallet({ clock: () => now });
    for (const localAddress of ['127.0.0.2', '127.0.0.3']) for (let i = 0; i < 5; i++) expect((await g.unlock(`falsch-${localAddress}-${i}`, { localAddress })).status).toBe(401);
    const fresh = await g.unlock(PASS, { localAddress: '127.0.0.4' });
    expect(fresh.status).toBe(429);
    expect(fresh.headers['retry-after']).toBeDefined();
  }, 90_000);

  it('derives the key off the event loop: /health answers while an unlock is deriving', async () => {
    const w = await startWallet();
    const order: string[] = [];
    const unlocking = w.unlock().then((r) => (order.push('unlock'), r));
    // scrypt with N=2^15, r=8 takes far longer than this pause; the unlock is deriving by now.
    await new Promise((r) => setTimeout(r, 20));
    const health = call(w.url, 'GET', '/health').then((r) => (order.push('health'), r));
    await Promise.all([unlocking, health]);
    expect(order).toEqual(['health', 'unlock']);
    expect((await unlocking).status).toBe(303);
    expect((await health).status).toBe(200);
  });

  it('locks an idle session (injected clock) and on request', async () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    const w = await startWallet({ clock: () => now, idleTimeoutMs: 60_000 });
    const cookie = sessionCookie(await w.unlock());
    now += 59_000;
    expect((await call(w.url, 'GET', '/', { cookie })).body).toContain(SECRET);
    now += 59_000;
    expect((await call(w.url, 'GET', '/history.json', { cookie })).status).toBe(200);
    now += 60_000;
    const idle = await call(w.url, 'GET', '/history.json', { cookie });
    expect(idle.status).toBe(401);
    expect(idle.body).not.toContain(VERLAUF);
    expect((await call(w.url, 'GET', '/', { cookie })).body).not.toContain(SECRET);

    // Explicit lock: the session ends at once and the cookie is cleared.
    const again = sessionCookie(await w.unlock());
    expect((await call(w.url, 'GET', '/', { cookie: again })).body).toContain(SECRET);
    const locked = await call(w.url, 'POST', '/lock', { cookie: again });
    expect(locked.status).toBe(200);
    expect(String(locked.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await call(w.url, 'GET', '/history.json', { cookie: again })).status).toBe(401);
  });
});

describe('web wallet: links to presentation requests', () => {
  it('GET /?request= only pre-fills: no outbound request, whatever the link names', async () => {
    const target = await countingServer();
    const w = await startWallet();
    const cookie = sessionCookie(await w.unlock());
    const t = `http://127.0.0.1:${target.port}/x`;
    const links = [t, `openid4vp://?client_id=${encodeURIComponent('decentralized_identifier:did:web:127.0.0.1')}&request_uri=${encodeURIComponent(t)}`, `${t}?client_id=${encodeURIComponent('decentralized_identifier:did:web:127.0.0.1')}&request_uri=${encodeURIComponent(t)}`];
    for (const link of links) {
      const r = await call(w.url, 'GET', `/?request=${encodeURIComponent(link)}`, { cookie });
      expect(r.status).toBe(200);
      expect(r.body).toContain(`value="${link.replaceAll('&', '&amp;')}"`);
      // Without a session the link is carried through the unlock form, still not fetched.
      const anon = await call(w.url, 'GET', `/?request=${encodeURIComponent(link)}`);
      expect(anon.body).toContain('action="/unlock"');
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(target.hits()).toBe(0);
  });

  it('after the citizen acts: refuses a non-https non-loopback URL unfetched, and never shows a target status or body', async () => {
    const target = await countingServer();
    const w = await startWallet();
    const cookie = sessionCookie(await w.unlock());
    const client = encodeURIComponent('decentralized_identifier:did:web:verifier.example');
    for (const request of [`openid4vp://?client_id=${client}&request_uri=${encodeURIComponent('http://verifier.example/x')}`, `http://verifier.example/x?client_id=${client}&request_uri=${encodeURIComponent('https://verifier.example/x')}`]) {
      const r = await call(w.url, 'POST', '/present', { cookie, form: { request } });
      expect(r.status).toBe(400);
      expect(r.body).toContain('nur über eine sichere Verbindung (https://)');
    }
    // Demo mode: loopback http is allowed, so the wallet fetches, and the answer's 500 and text stay out of the page.
    const local = `openid4vp://?client_id=${encodeURIComponent('decentralized_identifier:did:web:127.0.0.1')}&request_uri=${encodeURIComponent(`http://127.0.0.1:${target.port}/x`)}`;
    const r = await call(w.url, 'POST', '/present', { cookie, form: { request: local } });
    expect(target.hits()).toBe(1);
    expect(r.status).toBe(400);
    expect(r.body).toContain('Die Anfrage ließ sich nicht abrufen');
    expect(r.body).not.toContain('INNERE-FEHLERSEITE');
    expect(r.body).not.toMatch(/\b500\b/);
    expect(r.body).not.toContain(String(target.port));
  });
});

describe('web wallet process (main.ts)', () => {
  it('refuses another Host before any route, /health included', async () => {
    const port = await freePort();
    const svc = await spawnService('wallet-demo/main.ts', { WALLET_PORT: String(port), DATA_DIR: mkdtempSync(join(tmpdir(), 'idideal-wallet-main-')) }, `http://localhost:${port}`);
    closers.push(async () => void (await svc.stop()));
    const base = `http://localhost:${port}`;
    expect((await call(base, 'GET', '/health')).status).toBe(200);
    expect((await call(base, 'GET', '/health', { host: `127.0.0.1:${port}` })).status).toBe(200);
    const evil = await call(base, 'GET', '/health', { host: 'evil.example' });
    expect(evil.status).toBe(421);
    expect(evil.body).toContain('Falsche Adresse');
    expect((await call(base, 'POST', '/unlock', { host: 'evil.example', form: { passphrase: PASS } })).status).toBe(421);
  }, 60_000);
});
