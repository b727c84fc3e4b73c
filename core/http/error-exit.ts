import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../log/logger.ts';
import { ProblemError, ProtocolError } from './errors.ts';

/** How a route family reports errors that were not raised as one of our error classes (body parser, 404). */
export type ErrorStyle = 'problem' | 'oauth';

export function setErrorStyle(res: Response, style: ErrorStyle): void {
  res.locals.errorStyle = style;
}

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/** Translate errors raised by Express' own middleware (body parser) into our error classes. */
function fromFramework(err: unknown, style: ErrorStyle): ProblemError | ProtocolError | undefined {
  const e = err as HttpLikeError;
  const status = e?.status ?? e?.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const map: Record<string, [string, string]> = {
    'entity.too.large': ['payload-too-large', 'The request body exceeds the size limit.'],
    'entity.parse.failed': ['malformed-json', 'The request body is not valid JSON.'],
    'encoding.unsupported': ['unsupported-encoding', 'The request body encoding is not supported.'],
    'charset.unsupported': ['unsupported-charset', 'The request body charset is not supported.'],
    'entity.verify.failed': ['malformed-body', 'The request body could not be read.'],
    'request.aborted': ['request-aborted', 'The request was aborted.'],
    'parameters.too.many': ['too-many-parameters', 'The request has too many parameters.'],
  };
  const [code, detail] = map[e.type ?? ''] ?? ['invalid-request', 'The request could not be processed.'];
  if (style === 'oauth') return new ProtocolError('invalid_request', detail, status);
  return new ProblemError({ status, code, title: status === 413 ? 'Payload too large' : 'Invalid request', detail });
}

/**
 * The one error exit of a service. Exposed errors are rendered as they are; anything else is a
 * `500` with a fixed text, and only its class and message go to the log (never the request).
 */
export function errorExit(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const style: ErrorStyle = res.locals.errorStyle ?? 'problem';
    const known = err instanceof ProblemError || err instanceof ProtocolError ? err : fromFramework(err, style);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    if (known instanceof ProtocolError) {
      for (const [k, v] of Object.entries(known.headers)) res.setHeader(k, v);
      res.status(known.status).json(known.toJSON());
      return;
    }
    if (known instanceof ProblemError) {
      for (const [k, v] of Object.entries(known.headers)) res.setHeader(k, v);
      res.status(known.status).type('application/problem+json').send(JSON.stringify(known.toJSON()));
      return;
    }
    logger.error(
      { reqId: res.locals.requestId, route: req.route?.path, err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } },
      'unhandled error',
    );
    if (style === 'oauth') {
      res.status(500).json({ error: 'server_error', error_description: 'An internal error occurred.' });
      return;
    }
    res
      .status(500)
      .type('application/problem+json')
      .send(JSON.stringify(new ProblemError({ status: 500, code: 'server-error', title: 'Internal server error', detail: 'An internal error occurred.' }).toJSON()));
  };
}
