import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../log/logger.ts';
import { ProblemError, ProtocolError } from './errors.ts';
import { requestIdOf } from './request-stamp.ts';

/** How a route family reports errors that were not raised as one of our error classes (body parser, 404). */
export type ErrorStyle = 'problem' | 'oauth';

// Kept per response object, which Express and Fastify (reply.raw) share: both lanes of a service
// (core/http/fast-lane.ts) answer errors through the same exit.
const styles = new WeakMap<ServerResponse, ErrorStyle>();

export function setErrorStyle(res: ServerResponse, style: ErrorStyle): void {
  styles.set(res, style);
}

export function errorStyleOf(res: ServerResponse): ErrorStyle {
  return styles.get(res) ?? 'problem';
}

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  code?: string;
  expose?: boolean;
}

/** The body parsers' error kinds (body-parser's `type`, Fastify's `code`), as our codes and texts. */
const FRAMEWORK_ERRORS: Record<string, [string, string]> = {
  'entity.too.large': ['payload-too-large', 'The request body exceeds the size limit.'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload-too-large', 'The request body exceeds the size limit.'],
  'entity.parse.failed': ['malformed-json', 'The request body is not valid JSON.'],
  'encoding.unsupported': ['unsupported-encoding', 'The request body encoding is not supported.'],
  'charset.unsupported': ['unsupported-charset', 'The request body charset is not supported.'],
  'entity.verify.failed': ['malformed-body', 'The request body could not be read.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['malformed-body', 'The request body could not be read.'],
  'request.aborted': ['request-aborted', 'The request was aborted.'],
  'parameters.too.many': ['too-many-parameters', 'The request has too many parameters.'],
};

/** Translate errors raised by the frameworks' own parts (body parsers) into our error classes. */
function fromFramework(err: unknown, style: ErrorStyle): ProblemError | ProtocolError | undefined {
  const e = err as HttpLikeError;
  const status = e?.status ?? e?.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const [code, detail] = FRAMEWORK_ERRORS[e.type ?? e.code ?? ''] ?? ['invalid-request', 'The request could not be processed.'];
  if (style === 'oauth') return new ProtocolError('invalid_request', detail, status);
  return new ProblemError({ status, code, title: status === 413 ? 'Payload too large' : 'Invalid request', detail });
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', `${type}; charset=utf-8`);
  res.end(body);
}

/**
 * Answers an error on a plain response object. Exposed errors are rendered as they are; anything
 * else is a `500` with a fixed text, and only its class and message go to the log (never the request).
 */
export function sendError(err: unknown, res: ServerResponse, logger: Logger, route?: string): void {
  const style = errorStyleOf(res);
  const known = err instanceof ProblemError || err instanceof ProtocolError ? err : fromFramework(err, style);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader('Cache-Control', 'no-store');
  if (known) {
    for (const [k, v] of Object.entries(known.headers)) res.setHeader(k, v);
    if (known instanceof ProtocolError) send(res, known.status, 'application/json', JSON.stringify(known.toJSON()));
    else send(res, known.status, 'application/problem+json', JSON.stringify(known.toJSON()));
    return;
  }
  logger.error({ reqId: requestIdOf(res), route, err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'unhandled error');
  if (style === 'oauth') {
    send(res, 500, 'application/json', JSON.stringify({ error: 'server_error', error_description: 'An internal error occurred.' }));
    return;
  }
  send(res, 500, 'application/problem+json', JSON.stringify(new ProblemError({ status: 500, code: 'server-error', title: 'Internal server error', detail: 'An internal error occurred.' }).toJSON()));
}

/** The one error exit of an Express app (the same rendering as the fast lane's). */
export function errorExit(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => sendError(err, res, logger, req.route?.path);
}
