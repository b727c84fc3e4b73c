import type { Resolver } from 'did-resolver';
import { z } from 'zod';
import { peekHeader, verifyJws, JoseVerifyError } from '../crypto/jws.ts';
import { resolveAssertionKey } from '../did/resolver.ts';
import type { Clock } from '../util/time.ts';
import { systemClock } from '../util/time.ts';
import { fetchStatusListJwt, isAcceptableStatusListUri } from './fetch-status-list.ts';
import { VerifiedListCache } from './list-cache.ts';
import { decompressStatusList, statusAt, StatusListError, STATUS_LIST_MEDIA_TYPE, STATUS_LIST_TYP, type Bits } from './token-status-list.ts';

/**
 * Relying-party side of the Token Status List (draft-ietf-oauth-status-list §8): fetch the Status
 * List Token from the URI in the credential, verify it (signed by the credential's issuer, `typ`,
 * `sub` = URI, `exp`), cache it for `ttl` but never longer than the configured maximum age, and
 * read the index. Anything that goes wrong is a reason, never "valid" (§8.3: "SHOULD be rejected").
 */

export type StatusCheck =
  | { ok: true; status: number; stale?: boolean }
  | { ok: false; code: 'status_unavailable' | 'status_invalid'; message: string };

const zPayload = z.looseObject({
  sub: z.string(),
  iat: z.number(),
  exp: z.number().optional(),
  nbf: z.number().optional(),
  ttl: z.number().positive().optional(),
  status_list: z.looseObject({ bits: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]), lst: z.string().min(1) }),
});

interface Cached {
  issuer: string;
  bits: Bits;
  bytes: Uint8Array;
  until: number;
}

export interface StatusListClientOptions {
  resolver: Resolver;
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  clock?: Clock;
  /** Longest a fetched list is relied on, whatever its ttl (STATUS_LIST_MAX_AGE, ms). 0: always fetch. */
  maxAgeMs: number;
  /** Largest Status List Token accepted (bytes; default STATUS_LIST_MAX_BYTES). */
  maxBytes?: number;
  /** Deadline for fetching a list (ms; default SERVICE_FETCH_TIMEOUT_MS). */
  timeoutMs?: number;
}

export class StatusListClient {
  private readonly cache: VerifiedListCache<Cached>;
  private readonly clock: Clock;

  constructor(private readonly opts: StatusListClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.cache = new VerifiedListCache(this.clock);
  }

  /**
   * `graceMs` (optional, per credential type): when the list cannot be fetched (not when it is
   * invalid), a list verified earlier may still be used until this long after it went stale.
   */
  async check(ref: { uri: string; idx: number }, credentialIssuer: string, opts: { graceMs?: number } = {}): Promise<StatusCheck> {
    let list: Cached;
    let stale = false;
    try {
      list = await this.cache.get(ref.uri, (uri) => this.fetchList(uri));
    } catch (e) {
      const invalid = e instanceof StatusListError || e instanceof JoseVerifyError;
      const old = this.cache.last(ref.uri);
      if (!invalid && old && opts.graceMs && this.clock() < old.until + opts.graceMs) {
        list = old;
        stale = true;
      } else {
        return { ok: false, code: invalid ? 'status_invalid' : 'status_unavailable', message: `status list: ${(e as Error).message}` };
      }
    }
    // The list must come from the credential's own issuer (same DID as its `iss`).
    if (list.issuer !== credentialIssuer) return { ok: false, code: 'status_invalid', message: 'status list is not signed by the credential issuer' };
    try {
      return { ok: true, status: statusAt(list.bytes, list.bits, ref.idx), ...(stale ? { stale: true } : {}) };
    } catch (e) {
      return { ok: false, code: 'status_invalid', message: `status list: ${(e as Error).message}` };
    }
  }

  private async fetchList(uri: string): Promise<Cached> {
    if (!isAcceptableStatusListUri(uri)) throw new StatusListError('status list URI must be https');
    const { fetch, maxBytes, timeoutMs } = this.opts;
    const jwt = await fetchStatusListJwt(uri, STATUS_LIST_MEDIA_TYPE, { ...(fetch ? { fetch } : {}), ...(maxBytes ? { maxBytes } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
    const header = peekHeader(jwt);
    if (header.typ !== STATUS_LIST_TYP) throw new StatusListError(`typ must be ${STATUS_LIST_TYP}`);
    if (typeof header.kid !== 'string' || !header.kid.startsWith('did:')) throw new StatusListError('status list has no DID kid');
    const issuer = header.kid.split('#')[0]!;
    let key;
    try {
      key = await resolveAssertionKey(this.opts.resolver, header.kid, issuer);
    } catch (e) {
      throw new StatusListError(`signing key could not be resolved: ${(e as Error).message}`);
    }
    const { payload } = await verifyJws(jwt, key, STATUS_LIST_TYP);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      throw new StatusListError('status list token payload is not JSON');
    }
    const parsed = zPayload.safeParse(json);
    if (!parsed.success) throw new StatusListError('status list token is malformed');
    const p = parsed.data;
    const now = this.clock();
    if (p.sub !== uri) throw new StatusListError('status list sub does not match its URI');
    if (p.exp !== undefined && p.exp * 1000 <= now) throw new StatusListError('status list has expired');
    // RFC 7519 §4.1.5 (draft §8.3 step 3: valid "in all other respects per RFC 7519").
    if (p.nbf !== undefined && p.nbf * 1000 > now + 60_000) throw new StatusListError('status list is not yet valid');
    const bytes = decompressStatusList(p.status_list.lst);
    const ttlMs = p.ttl !== undefined ? p.ttl * 1000 : this.opts.maxAgeMs;
    const until = Math.min(now + Math.min(ttlMs, this.opts.maxAgeMs), p.exp !== undefined ? p.exp * 1000 : Infinity);
    return { issuer, bits: p.status_list.bits, bytes, until };
  }
}
