/**
 * Errors that may leave the service. Everything else is rendered as a fixed
 * `500` without detail by the error exit (core/http/error-exit.ts).
 *
 * Two families:
 * - ProblemError: our own APIs, rendered as RFC 9457 `application/problem+json` with a stable `type`.
 * - ProtocolError: OAuth-family endpoints (OID4VCI, OID4VP), rendered as `{error, error_description}`
 *   with the protocol's own error code (RFC 6749 §5.2, OID4VCI 1.0 §8.3.1.2, OID4VP 1.0 §8.5).
 */

/** Problem types are URNs: stable, and not pretending to be dereferenceable pages (RFC 9457 §3.1.1). */
export const PROBLEM_BASE = 'urn:id-ideal:problem:';

export interface ProblemInit {
  status: number;
  /** Stable short code, used as the last segment of the `type` URI. */
  code: string;
  title: string;
  detail?: string;
  /** Extra members (e.g. `field`, `errors`). Never personal data. */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(init: ProblemInit, options?: { cause?: unknown }) {
    super(init.detail ?? init.title, options);
    this.name = 'ProblemError';
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.extra = init.extra ?? {};
    this.headers = init.headers ?? {};
  }

  toJSON(instance?: string): Record<string, unknown> {
    return {
      type: PROBLEM_BASE + this.code,
      title: this.title,
      status: this.status,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...this.extra,
    };
  }
}

export const badRequest = (detail: string, extra?: Record<string, unknown>) =>
  new ProblemError({ status: 400, code: 'invalid-request', title: 'Invalid request', detail, ...(extra ? { extra } : {}) });
export const unauthorized = (detail = 'A valid bearer token is required.') =>
  new ProblemError({
    status: 401,
    code: 'unauthorized',
    title: 'Unauthorized',
    detail,
    headers: { 'WWW-Authenticate': 'Bearer realm="admin"' },
  });
export const forbidden = (code: string, detail: string) =>
  new ProblemError({ status: 403, code, title: 'Forbidden', detail });
export const notFound = (code: string, detail: string) =>
  new ProblemError({ status: 404, code, title: 'Not found', detail });
export const conflict = (code: string, detail: string) =>
  new ProblemError({ status: 409, code, title: 'Conflict', detail });

/** OAuth 2.0 style error (RFC 6749 §5.2 and the OpenID4VC specs that extend its registry). */
export class ProtocolError extends Error {
  readonly status: number;
  readonly error: string;
  readonly description: string | undefined;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(
    error: string,
    description?: string,
    status = 400,
    opts: { headers?: Record<string, string>; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(description ?? error, { cause: opts.cause });
    this.name = 'ProtocolError';
    this.error = error;
    this.description = description;
    this.status = status;
    this.headers = opts.headers ?? {};
    this.extra = opts.extra ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      error: this.error,
      ...(this.description ? { error_description: this.description } : {}),
      ...this.extra,
    };
  }
}
