import type { Resolver } from 'did-resolver';
import { decodeJwt } from 'jose';
import { peekHeader, verifyJwt, JoseVerifyError } from '../crypto/jws.ts';
import { resolveAssertionKey } from '../did/resolver.ts';
import type { Clock } from '../util/time.ts';
import { systemClock } from '../util/time.ts';
import { fetchStatusListJwt, isAcceptableStatusListUri } from './fetch-status-list.ts';
import { bitAt, BitstringStatusListError, decodeBitstring, parseStatusListIndex } from './bitstring-status-list.ts';
import type { StatusCheck } from './status-list-client.ts';

/**
 * Relying-party side of the W3C Bitstring Status List (REC 2025 §3.2 validate algorithm) for
 * VC-JWT credentials: fetch the status list credential, verify it was signed by the credential's
 * issuer, check its purpose matches the entry's, read the bit. Cached no longer than maxAgeMs or
 * the list's own ttl/exp. Failures are reasons, never "valid".
 */
interface Cached {
  issuer: string;
  purpose: string;
  bytes: Uint8Array;
  until: number;
}

export interface BitstringEntryRef {
  statusPurpose: string;
  statusListIndex: string;
  statusListCredential: string;
}

export class BitstringStatusClient {
  private readonly cache = new Map<string, Cached>();
  private readonly clock: Clock;

  constructor(private readonly opts: { resolver: Resolver; maxAgeMs: number; clock?: Clock; fetch?: typeof fetch }) {
    this.clock = opts.clock ?? systemClock;
  }

  /** `status` 1 = the bit is set for the entry's purpose (revoked or suspended), 0 = not set. */
  async check(entry: BitstringEntryRef, credentialIssuer: string): Promise<StatusCheck> {
    let list: Cached;
    let index: number;
    try {
      index = parseStatusListIndex(entry.statusListIndex);
      list = await this.load(entry.statusListCredential);
    } catch (e) {
      const invalid = e instanceof BitstringStatusListError || e instanceof JoseVerifyError;
      return { ok: false, code: invalid ? 'status_invalid' : 'status_unavailable', message: `status list: ${(e as Error).message}` };
    }
    if (list.issuer !== credentialIssuer) return { ok: false, code: 'status_invalid', message: 'status list is not signed by the credential issuer' };
    if (list.purpose !== entry.statusPurpose) return { ok: false, code: 'status_invalid', message: 'status list purpose does not match the entry' };
    try {
      return { ok: true, status: bitAt(list.bytes, index) };
    } catch (e) {
      return { ok: false, code: 'status_invalid', message: `status list: ${(e as Error).message}` };
    }
  }

  private async load(uri: string): Promise<Cached> {
    const now = this.clock();
    const hit = this.cache.get(uri);
    if (hit && now < hit.until) return hit;
    if (!isAcceptableStatusListUri(uri)) throw new BitstringStatusListError('status list URI must be https');
    const jwt = await fetchStatusListJwt(uri, 'application/jwt, application/vc+jwt', this.opts.fetch ? { fetch: this.opts.fetch } : {});
    const header = peekHeader(jwt);
    const iss = decodeJwt(jwt).iss;
    if (typeof header.kid !== 'string' || typeof iss !== 'string' || !header.kid.startsWith(`${iss}#`)) throw new BitstringStatusListError('status list has no issuer key id');
    let key;
    try {
      key = await resolveAssertionKey(this.opts.resolver, header.kid, iss);
    } catch (e) {
      throw new BitstringStatusListError(`signing key could not be resolved: ${(e as Error).message}`);
    }
    const { payload } = await verifyJwt(jwt, key, { typ: (header.typ as string) ?? 'JWT', issuer: iss, currentDate: new Date(now), clockTolerance: 60 });
    const vc = payload.vc as { type?: string[]; id?: string; ttl?: number; credentialSubject?: { type?: string; statusPurpose?: string; encodedList?: string } } | undefined;
    const subject = vc?.credentialSubject;
    if (!vc?.type?.includes('BitstringStatusListCredential') || subject?.type !== 'BitstringStatusList' || typeof subject.encodedList !== 'string' || typeof subject.statusPurpose !== 'string') {
      throw new BitstringStatusListError('not a BitstringStatusListCredential');
    }
    if (vc.id !== undefined && vc.id !== uri) throw new BitstringStatusListError('status list id does not match its URI');
    const bytes = decodeBitstring(subject.encodedList);
    const ttl = typeof vc.ttl === 'number' && vc.ttl > 0 ? vc.ttl : this.opts.maxAgeMs;
    const until = Math.min(now + Math.min(ttl, this.opts.maxAgeMs), typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity);
    const entry: Cached = { issuer: iss, purpose: subject.statusPurpose, bytes, until };
    this.cache.set(uri, entry);
    return entry;
  }
}
