import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from '../log/logger.ts';
import { hasJsonBody, notJson } from './app.ts';
import { errorStyleOf, sendError, setErrorStyle, type ErrorStyle } from './error-exit.ts';
import type { Limiter } from './rate-limit.ts';
import { pathOf, stampRequest } from './request-stamp.ts';

/**
 * The fast lane of a service (issue 16): its hot protocol routes (OID4VCI, OID4VP) on Fastify, every
 * other request handed unchanged to the service's Express app.
 *
 * Why: in the bench, Express answering four trivial requests cost 0.91–0.96 ms of server CPU, Fastify
 * 0.26 ms and bare node:http 0.22 ms (tests/bench, same load, same machine); in the issuer's CPU
 * profile Express, its router and body parsers were about 12 % of the busy time. Fastify is a
 * well-kept framework with a compiled router; bare node:http would mean writing our own routing and
 * body reading.
 *
 * The lanes answer alike: the same request id, access log and security headers
 * (core/http/request-stamp.ts), the same per-client limiter before any body is read, the same error
 * style per path and the same error exit (core/http/error-exit.ts). Routing follows Express' rules
 * (paths case-insensitive, a trailing slash ignored), and the body parsers take what the Express app's
 * take: JSON (`application/json`, `application/*+json`, objects and arrays only, UTF-8) and forms
 * (UTF-8, at most 100 parameters), up to the same size; another media type leaves the body
 * undefined, as in Express, so the route's own validation refuses it. Unlike body-parser the lane
 * does not inflate compressed bodies: a `Content-Encoding` other than `identity` is refused with 415.
 */
export interface FastLaneOptions {
  logger: Logger;
  /** Largest request body, in body-parser syntax (`64kb`): the Express app's limit. */
  bodyLimit: string;
  /** The error style of a path, decided before the body is parsed. */
  errorStyle?: (path: string) => ErrorStyle;
  /** Per-client limit, checked before the body is read (the Express app's limiter, the same buckets). */
  limiter?: Limiter;
  /** Which proxies are trusted for the client address: the Express app's compiled TRUST_PROXY (`app.get('trust proxy fn')`), so both lanes read X-Forwarded-For alike. */
  trustProxy?: (address: string, hop: number) => boolean;
  /** Where every request without a route in this lane goes: the service's Express app. */
  fallback: RequestListener;
}

export interface FastLane {
  /** Mount the hot routes here, then call `handler()`. */
  app: FastifyInstance;
  /** The request listener of the service's server (after the routes are mounted). */
  handler(): Promise<RequestListener>;
}

interface BodyError extends Error {
  status: number;
  type: string;
}
const bodyError = (status: number, type: string, message: string): BodyError => Object.assign(new Error(message), { status, type });

/** The `charset` parameter of the Content-Type, lower-cased, or undefined. */
function charsetOf(req: IncomingMessage): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.headers['content-type'] ?? '');
  return m?.[1]?.toLowerCase();
}

function encodingRefusal(req: FastifyRequest): BodyError | undefined {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  return encoding === 'identity' ? undefined : bodyError(415, 'encoding.unsupported', `content encoding "${encoding}" unsupported`);
}

// RFC 8259 §8.1: JSON is UTF-8; body-parser's rule (any utf-*) is kept, the body is read as UTF-8.
function parseJsonBody(req: FastifyRequest, body: string): unknown {
  const refused = encodingRefusal(req);
  if (refused) throw refused;
  const charset = charsetOf(req.raw);
  if (charset !== undefined && !charset.startsWith('utf-')) throw bodyError(415, 'charset.unsupported', `unsupported charset "${charset.toUpperCase()}"`);
  const text = body.trim();
  if (text.length === 0) return {};
  // Strict as the Express app's parser: objects and arrays only.
  if (text[0] !== '{' && text[0] !== '[') throw bodyError(400, 'entity.parse.failed', 'JSON body must be an object or array');
  try {
    return JSON.parse(text);
  } catch {
    throw bodyError(400, 'entity.parse.failed', 'malformed JSON');
  }
}

const FORM_PARAMETER_LIMIT = 100;

function parseFormBody(req: FastifyRequest, body: string): unknown {
  const refused = encodingRefusal(req);
  if (refused) throw refused;
  const charset = charsetOf(req.raw);
  if (charset !== undefined && charset !== 'utf-8') throw bodyError(415, 'charset.unsupported', `unsupported charset "${charset.toUpperCase()}"`);
  if (body.length === 0) return {};
  let count = 1;
  for (let i = body.indexOf('&'); i !== -1; i = body.indexOf('&', i + 1)) if (++count > FORM_PARAMETER_LIMIT) throw bodyError(413, 'parameters.too.many', 'too many parameters');
  return parseForm(body, '&', '=', { maxKeys: FORM_PARAMETER_LIMIT });
}

export function createFastLane(opts: FastLaneOptions): FastLane {
  let listener: RequestListener | undefined;
  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: bodyLimitBytes(opts.bodyLimit),
    // Express' own compiled trust function: Fastify reads a bare hop count differently (it trusts none).
    ...(opts.trustProxy ? { trustProxy: opts.trustProxy } : {}),
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    return503OnClosing: false,
    // The service's own server (core/service/run.ts) calls the listener; this one never listens.
    serverFactory: (handler) => {
      listener = handler as RequestListener;
      return createServer();
    },
  });

  app.removeAllContentTypeParsers();
  for (const type of ['application/json', /^application\/[^;\s]+\+json(\s*;|$)/i]) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (req, body, done) => {
      try {
        done(null, parseJsonBody(req, body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
  }
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (req, body, done) => {
    try {
      done(null, parseFormBody(req, body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  // Any other media type: the body stays unread and undefined, as in the Express app.
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  app.addHook('onRequest', (req, reply, done) => {
    if (req.is404) {
      // Not a route of this lane: the Express app answers it, from the first byte of the body on.
      reply.hijack();
      opts.fallback(req.raw, reply.raw);
      return;
    }
    const res = reply.raw as ServerResponse;
    stampRequest(req.raw, res, opts.logger);
    const path = pathOf(req.url);
    if (opts.errorStyle) setErrorStyle(res, opts.errorStyle(path));
    const refused = opts.limiter?.(req, path, errorStyleOf(res));
    if (refused) done(refused);
    else done();
  });

  app.setErrorHandler((err, req, reply) => {
    reply.hijack();
    // Headers a route set before it failed (DPoP-Nonce, CORS) stay on the error answer, as in Express;
    // Fastify keeps them on the reply until it sends, which a hijacked reply never does.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string | number | string[]);
    sendError(err, reply.raw, opts.logger, req.routeOptions.url);
  });

  return {
    app,
    handler: async () => {
      await app.ready();
      if (!listener) throw new Error('fast lane: no request listener');
      return listener;
    },
  };
}

/** `requireJson` of the Express app for a fast-lane route (as a `preValidation` hook): `415` unless the body is JSON. */
export async function requireJsonBody(req: FastifyRequest): Promise<void> {
  if (!hasJsonBody(req.headers)) throw notJson();
}

/** Body limits in body-parser syntax (`64kb`, `512kb`) as bytes. */
function bodyLimitBytes(limit: string): number {
  const m = /^(\d+)(b|kb|mb)?$/i.exec(limit.trim());
  if (!m) throw new Error(`body limit: cannot read "${limit}"`);
  return Number(m[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[(m[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb'];
}
