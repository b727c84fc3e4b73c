/**
 * The one way production code fetches over the network: an overall deadline (headers and body), no
 * redirect followed, and a byte limit enforced while the body streams in. A `Content-Length` over
 * the limit is refused before the body is read; a body that grows past it is cancelled at once,
 * which aborts the request and closes the connection. A peer cannot make us buffer more than
 * `maxBytes` (plus one chunk) or hold us longer than `timeoutMs`.
 *
 * Errors are `OutboundFetchError`s with a stable `code`; callers translate them into their own
 * messages and never branch on message text.
 */

/** The fetch a caller may inject (tests); the global fetch fits it. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export type OutboundFetchErrorCode = 'too_large' | 'timeout' | 'http_status' | 'redirect' | 'network';

export class OutboundFetchError extends Error {
  override name = 'OutboundFetchError';
  constructor(
    readonly code: OutboundFetchErrorCode,
    message: string,
    /** The HTTP status, for `http_status` and `redirect`. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface BoundedFetchOptions {
  /** Largest body accepted, in bytes (after content decoding). */
  maxBytes: number;
  /** Deadline for the whole exchange, from the request until the last body byte (ms). */
  timeoutMs: number;
  /**
   * 'error' (default): a 3xx answer is an `OutboundFetchError('redirect')`. 'manual': the 3xx answer
   * is returned as it is. Redirects are never followed either way.
   */
  redirect?: 'error' | 'manual';
  /** Default true: a status outside 200-299 (other than a 3xx under 'manual') is an `OutboundFetchError('http_status')` and its body is not read. */
  requireOk?: boolean;
  method?: string;
  headers?: RequestInit['headers'];
  body?: RequestInit['body'];
  /** The caller's own abort signal, honoured besides the deadline. */
  signal?: AbortSignal;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: FetchLike;
}

export interface BoundedResponse {
  status: number;
  statusText: string;
  headers: Headers;
  bytes: Uint8Array;
  /** The body as UTF-8 text. */
  text(): string;
}

/** Bytes from a `Content-Length` header, or undefined when absent or not a plain number. */
function declaredLength(headers: Headers): number | undefined {
  const v = headers.get('content-length');
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
}

/** Reads a body, cancelling it (and with it the request) as soon as it passes `maxBytes`. */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number, abort: () => void): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      abort();
      await reader.cancel().catch(() => undefined);
      throw new OutboundFetchError('too_large', `response body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export async function boundedFetch(url: string | URL, opts: BoundedFetchOptions): Promise<BoundedResponse> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const onCallerAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (opts.signal?.aborted) controller.abort();
  const fail = (e: unknown): never => {
    if (e instanceof OutboundFetchError) throw e;
    if (timedOut) throw new OutboundFetchError('timeout', `no complete answer within ${opts.timeoutMs} ms`);
    throw new OutboundFetchError('network', 'the request failed');
  };
  try {
    let res: Response;
    try {
      res = await (opts.fetch ?? fetch)(String(url), {
        ...(opts.method ? { method: opts.method } : {}),
        ...(opts.headers ? { headers: opts.headers } : {}),
        ...(opts.body !== undefined ? { body: opts.body } : {}),
        // Redirects are never followed: the answer itself is looked at (or refused) below.
        redirect: 'manual',
        signal: controller.signal,
      });
    } catch (e) {
      return fail(e);
    }
    const drop = () => {
      controller.abort();
      void res.body?.cancel().catch(() => undefined);
    };
    const isRedirect = res.status >= 300 && res.status < 400;
    if (isRedirect && opts.redirect !== 'manual') {
      drop();
      throw new OutboundFetchError('redirect', `answered with a redirect (HTTP ${res.status}), not followed`, res.status);
    }
    if ((opts.requireOk ?? true) && !res.ok && !isRedirect) {
      drop();
      throw new OutboundFetchError('http_status', `answered HTTP ${res.status}`, res.status);
    }
    const declared = declaredLength(res.headers);
    if (declared !== undefined && declared > opts.maxBytes) {
      drop();
      throw new OutboundFetchError('too_large', `declared body of ${declared} bytes exceeds ${opts.maxBytes}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await readCapped(res.body, opts.maxBytes, () => controller.abort());
    } catch (e) {
      return fail(e);
    }
    return { status: res.status, statusText: res.statusText, headers: res.headers, bytes, text: () => new TextDecoder().decode(bytes) };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** Statuses whose Response may not carry a body (Fetch standard, "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch`-shaped function for libraries that take a fetch callback (@openid4vc/*): every call goes
 * through `boundedFetch` and the library gets a Response over the already-read, bounded body.
 * Non-2xx answers are handed back (the library reports them); limit, deadline and network failures
 * reject with the `OutboundFetchError`.
 */
export function boundedFetchFunction(limits: { maxBytes: number; timeoutMs: number; redirect?: 'error' | 'manual'; fetch?: FetchLike }): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    // A Request would bring its own method, headers and body: the libraries pass URLs, so refuse it.
    if (typeof input !== 'string' && !(input instanceof URL)) throw new TypeError('boundedFetchFunction takes a URL, not a Request');
    const r = await boundedFetch(input, {
      maxBytes: limits.maxBytes,
      timeoutMs: limits.timeoutMs,
      redirect: limits.redirect ?? 'error',
      requireOk: false,
      ...(init?.method ? { method: init.method } : {}),
      ...(init?.headers ? { headers: init.headers } : {}),
      ...(init?.body !== undefined && init.body !== null ? { body: init.body } : {}),
      ...(init?.signal ? { signal: init.signal } : {}),
      ...(limits.fetch ? { fetch: limits.fetch } : {}),
    });
    // The body is decoded already and may differ in length from what the server declared.
    const headers = new Headers(r.headers);
    headers.delete('content-encoding');
    headers.delete('content-length');
    return new Response(NULL_BODY.has(r.status) ? null : r.bytes, { status: r.status, statusText: r.statusText, headers });
  }) as typeof fetch;
}
