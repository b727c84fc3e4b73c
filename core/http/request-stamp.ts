import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;
const ids = new WeakMap<ServerResponse, string>();

/** The request id given to this response (the caller's X-Request-Id when well-formed, else a new one). */
export function requestIdOf(res: ServerResponse): string | undefined {
  return ids.get(res);
}

/** The path of a request target, without the query (which may carry codes or identifiers of citizens). */
export function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}

/** Security headers for API responses (pages set their own CSP). */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
}

/**
 * What every request of a service gets first, in either lane (Express, or Fastify on the hot
 * protocol routes, core/http/fast-lane.ts): a request id, an access log line without bodies or query
 * strings, and the security headers.
 */
export function stampRequest(req: IncomingMessage, res: ServerResponse, logger: Logger): void {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  ids.set(res, id);
  res.setHeader('X-Request-Id', id);
  const started = process.hrtime.bigint();
  const method = req.method;
  const path = pathOf(req.url);
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // Answered requests at `debug`, refused ones at `info`: the default level shows what needs a look.
    const entry = { reqId: id, method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 };
    if (res.statusCode >= 400) logger.info(entry, 'request');
    else logger.debug(entry, 'request');
  });
  setSecurityHeaders(res);
}
