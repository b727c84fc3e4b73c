import type { RequestHandler } from 'express';
import { hostRefusedPage } from './pages.ts';

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The `Host` values the wallet answers to: its public URL's host (with and without the default port),
 * the loopback aliases of a loopback public URL (localhost:3004, 127.0.0.1:3004, [::1]:3004), and
 * any extra names configured (WALLET_ALLOWED_HOSTS). Lower case, as compared.
 */
export function allowedHosts(publicUrl: string, extra: readonly string[] = []): Set<string> {
  const url = new URL(publicUrl);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const names = LOOPBACK.includes(url.hostname) ? LOOPBACK : [url.hostname];
  const hosts = new Set<string>();
  for (const name of names) {
    hosts.add(`${name}:${port}`);
    if (!url.port) hosts.add(name);
  }
  for (const h of extra) if (h.trim()) hosts.add(h.trim().toLowerCase());
  return hosts;
}

/**
 * DNS rebinding defence (RFC 9110 §7.2, §15.5.20): a request whose `Host` is not one of the wallet's
 * own names is answered `421 Misdirected Request` before any route runs. After rebinding, a
 * website's name points at 127.0.0.1 and the browser calls it same-origin; its `Host` header still
 * carries the website's name, and that is what this refuses.
 */
export function hostCheck(hosts: ReadonlySet<string>): RequestHandler {
  return (req, res, next) => {
    const host = req.headers.host?.toLowerCase();
    if (host !== undefined && hosts.has(host)) return next();
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
    res.status(421).type('html').send(hostRefusedPage());
  };
}
