import type { Resolver } from 'did-resolver';
import { decodeJwt } from 'jose';
import { peekHeader, verifyJwt, JoseVerifyError } from '../crypto/jws.ts';
import { resolveAssertionKey } from '../did/resolver.ts';
import type { Clock } from '../util/time.ts';
import { systemClock } from '../util/time.ts';
import { fetchStatusListJwt, isAcceptableStatusListUri, type StatusListFetchOptions } from './fetch-status-list.ts';
import { bitAt, BitstringStatusListError, decodeBitstring, parseStatusListIndex } from './bitstring-status-list.ts';
import { VerifiedListCache } from './list-cache.ts';
import type { StatusCheck } from './status-list-client.ts';

/**
 * Relying-party side of the W3C Bitstring Status List (REC 2025 §3.2 validate algorithm): fetch the
 * status list credential, verify it was signed by the credential's issuer, check its purpose
 * matches the entry's, read the bit. One client for both securing formats; a loader fetches and
 * verifies a list in its format (VC-JWT here, VC-JOSE-COSE in core/formats/vc-jose-cose/). Cached
 * no longer than the operator's maximum age or the list's own ttl/validity. Failures are reasons,
 * never "valid": a loader throws BitstringStatusListError (or JoseVerifyError) for a list that is
 * wrong (status_invalid); anything else is taken as the list being unavailable.
 */
export interface BitstringList {
  /** The DID that signed the status list credential. */
  issuer: string;
  purpose: string;
  bytes: Uint8Array;
  until: number;
}

export type BitstringListLoader = (uri: string, now: number) => Promise<BitstringList>;

export interface BitstringEntryRef {
  statusPurpose: string;
  statusListIndex: string;
  statusListCredential: string;
}

export class BitstringStatusClient {
  private readonly cache: VerifiedListCache<BitstringList>;
  private readonly clock: Clock;

  constructor(private readonly opts: { load: BitstringListLoader; clock?: Clock }) {
    this.clock = opts.clock ?? systemClock;
    this.cache = new VerifiedListCache(this.clock);
  }

  /** `status` 1 = the bit is set for the entry's purpose (revoked or suspended), 0 = not set. */
  async check(entry: BitstringEntryRef, credentialIssuer: string): Promise<StatusCheck> {
    let list: BitstringList;
    let index: number;
    try {
      index = parseStatusListIndex(entry.statusListIndex);
      if (!isAcceptableStatusListUri(entry.statusListCredential)) throw new BitstringStatusListError('status list URI must be https');
      list = await this.cache.get(entry.statusListCredential, (uri) => this.opts.load(uri, this.clock()));
    } catch (e) {
      const invalid = e instanceof BitstringStatusListError || e instanceof JoseVerifyError;
      return { ok: false, code: invalid ? 'status_invalid' : 'status_unavailable', message: `status list: ${(e as Error).message}` };
    }
    // §3.2: the list is the credential issuer's (our policy; the spec leaves it to the verifier).
    if (list.issuer !== credentialIssuer) return { ok: false, code: 'status_invalid', message: 'status list is not signed by the credential issuer' };
    // §3.2: STATUS_VERIFICATION_ERROR when the purposes differ.
    if (list.purpose !== entry.statusPurpose) return { ok: false, code: 'status_invalid', message: 'status list purpose does not match the entry' };
    try {
      return { ok: true, status: bitAt(list.bytes, index) };
    } catch (e) {
      return { ok: false, code: 'status_invalid', message: `status list: ${(e as Error).message}` };
    }
  }
}

/** Loader for VCDM 1.1 status list credentials secured as VC-JWT (the lists of our jwt_vc_json credentials). */
export function vcJwtBitstringLoader(opts: { resolver: Resolver; maxAgeMs: number } & StatusListFetchOptions): BitstringListLoader {
  const { fetch, maxBytes, timeoutMs } = opts;
  return async (uri, now) => {
    const jwt = await fetchStatusListJwt(uri, 'application/jwt, application/vc+jwt', { ...(fetch ? { fetch } : {}), ...(maxBytes ? { maxBytes } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
    const header = peekHeader(jwt);
    const iss = decodeJwt(jwt).iss;
    if (typeof header.kid !== 'string' || typeof iss !== 'string' || !header.kid.startsWith(`${iss}#`)) throw new BitstringStatusListError('status list has no issuer key id');
    let key;
    try {
      key = await resolveAssertionKey(opts.resolver, header.kid, iss);
    } catch (e) {
      throw new BitstringStatusListError(`signing key could not be resolved: ${(e as Error).message}`);
    }
    // VC-JWT (VCDM 1.1 §6.3.1, RFC 7519 §5.1): `typ` absent or "JWT"; anything else is another kind of token.
    if (header.typ !== undefined && header.typ !== 'JWT') throw new BitstringStatusListError('status list credential has the wrong typ');
    const { payload } = await verifyJwt(jwt, key, { typ: header.typ as string, issuer: iss, currentDate: new Date(now), clockTolerance: 60 });
    const vc = payload.vc as { type?: string[]; id?: string; ttl?: number; credentialSubject?: { type?: string; statusPurpose?: string; encodedList?: string } } | undefined;
    const subject = vc?.credentialSubject;
    if (!vc?.type?.includes('BitstringStatusListCredential') || subject?.type !== 'BitstringStatusList' || typeof subject.encodedList !== 'string' || typeof subject.statusPurpose !== 'string') {
      throw new BitstringStatusListError('not a BitstringStatusListCredential');
    }
    if (vc.id !== undefined && vc.id !== uri) throw new BitstringStatusListError('status list id does not match its URI');
    const bytes = decodeBitstring(subject.encodedList);
    const ttl = typeof vc.ttl === 'number' && vc.ttl > 0 ? vc.ttl : opts.maxAgeMs;
    const until = Math.min(now + Math.min(ttl, opts.maxAgeMs), typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity);
    return { issuer: iss, purpose: subject.statusPurpose, bytes, until };
  };
}
