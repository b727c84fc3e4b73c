import { boundedFetch, OutboundFetchError, type FetchLike } from '../net/bounded-fetch.ts';
import { SERVICE_FETCH_TIMEOUT_MS, STATUS_LIST_MAX_BYTES } from '../net/limits.ts';

/**
 * Fetching a status list for a relying party, the same for both mechanisms: https only (plain http
 * only for localhost, docs/contract.md), no redirects followed (draft-ietf-oauth-status-list "Redirection
 * 3xx"), bounded in time and size while the body streams in (core/net/bounded-fetch.ts). Returns
 * the compact JWT.
 */
export const isAcceptableStatusListUri = (uri: string): boolean => /^https:\/\//.test(uri) || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(uri);

export interface StatusListFetchOptions {
  fetch?: FetchLike;
  /** Largest list accepted (bytes; default STATUS_LIST_MAX_BYTES). */
  maxBytes?: number;
  /** Deadline for the whole fetch (ms; default SERVICE_FETCH_TIMEOUT_MS). */
  timeoutMs?: number;
}

export async function fetchStatusListJwt(uri: string, accept: string, opts: StatusListFetchOptions = {}): Promise<string> {
  try {
    const res = await boundedFetch(uri, {
      maxBytes: opts.maxBytes ?? STATUS_LIST_MAX_BYTES,
      timeoutMs: opts.timeoutMs ?? SERVICE_FETCH_TIMEOUT_MS,
      headers: { accept },
      redirect: 'error',
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
    return res.text().trim();
  } catch (e) {
    const code = e instanceof OutboundFetchError ? e.code : 'network';
    if (code === 'http_status') throw new Error(`status list answered HTTP ${(e as OutboundFetchError).status}`, { cause: e });
    if (code === 'too_large') throw new Error('status list too large', { cause: e });
    if (code === 'timeout') throw new Error('status list could not be fetched in time', { cause: e });
    throw new Error('status list could not be fetched', { cause: e });
  }
}
