import { decodeJwt } from 'jose';
import { peekHeader } from '../core/crypto/jws.ts';
import type { Logger } from '../core/log/logger.ts';
import { boundedFetch, OutboundFetchError, type FetchLike } from '../core/net/bounded-fetch.ts';
import { PROTOCOL_MESSAGE_MAX_BYTES } from '../core/net/limits.ts';
import { systemClock, type Clock } from '../core/util/time.ts';

/** `typ` of the registry's registration attestation (trust-registry/verifier-attestation.ts, docs/contract.md). */
export const VERIFIER_REGISTRATION_TYP = 'verifier-registration+jwt';

/** OID4VP 1.0 §5.1 `verifier_info` entry: `format` identifies the attestation's encoding, `data` carries it. */
export interface VerifierInfoEntry {
  format: 'jwt';
  data: string;
}

export interface VerifierInfoOptions {
  registryUrl: string;
  logger: Logger;
  clock?: Clock;
  fetch?: FetchLike;
  /** Deadline of one fetch from the registry (ms). Short: a wallet is waiting for the Request Object. */
  timeoutMs?: number;
  /** First wait after a failed fetch (ms); doubled after each further failure up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

interface Entry {
  jwt?: string;
  /** `exp` of the cached attestation, epoch ms. */
  exp?: number;
  /** `iat` of the cached attestation, epoch ms. */
  iat?: number;
  failures: number;
  /** No new fetch before this moment (epoch ms) after a failure. */
  retryAt: number;
}

/** Attestations with less than this left are not sent: the wallet may check the request a little later. */
const MIN_LEFT_MS = 60_000;

/**
 * The verifier's copy of each relying party's registration attestation from the trust registry
 * (`GET /verifier-attestations?entity_id=<did>`), sent in its Request Objects as OID4VP 1.0 §5.1
 * `verifier_info` so a wallet can check the request against the registration offline (issue 17).
 *
 * - cached until shortly before `exp` (the last tenth of its lifetime, at most five minutes before);
 * - a failed fetch (registry down, 404/409, malformed answer) is retried with exponential backoff,
 *   and meanwhile a cached attestation is sent while it has more than a minute left;
 * - without one the request goes out without `verifier_info`: wallets then ask the registry online,
 *   as before. A warning is logged naming the relying party's DID (an organisation, no personal data).
 *
 * The verifier checks only the shape, `typ`, `sub` and `exp` of what it caches; the wallet verifies
 * the signature against the registry key it trusts (wallet-demo/core/verifier-info.ts).
 */
export class VerifierInfoClient {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly clock: Clock;

  constructor(private readonly opts: VerifierInfoOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** The `verifier_info` array for a Request Object of relying party `did`, or undefined without a usable attestation. */
  async verifierInfo(did: string): Promise<VerifierInfoEntry[] | undefined> {
    const jwt = await this.attestation(did);
    return jwt ? [{ format: 'jwt', data: jwt }] : undefined;
  }

  /** The cached or freshly fetched attestation of `did`. Never throws. */
  async attestation(did: string): Promise<string | undefined> {
    const now = this.clock();
    const e = this.entries.get(did);
    if (e?.jwt && e.exp !== undefined && e.iat !== undefined && now < e.exp - Math.min(300_000, (e.exp - e.iat) / 10)) return e.jwt;
    if (!e || now >= e.retryAt) {
      let p = this.inflight.get(did);
      if (!p) {
        p = this.refresh(did).finally(() => this.inflight.delete(did));
        this.inflight.set(did, p);
      }
      await p;
    }
    const cur = this.entries.get(did);
    return cur?.jwt && cur.exp !== undefined && this.clock() < cur.exp - MIN_LEFT_MS ? cur.jwt : undefined;
  }

  /** Fetches ahead of the first request (start-up, catalogue load); failures only start the backoff. */
  prefetch(did: string): void {
    void this.attestation(did);
  }

  private async refresh(did: string): Promise<void> {
    const prev = this.entries.get(did) ?? { failures: 0, retryAt: 0 };
    try {
      const res = await boundedFetch(`${this.opts.registryUrl}/verifier-attestations?entity_id=${encodeURIComponent(did)}`, {
        maxBytes: PROTOCOL_MESSAGE_MAX_BYTES,
        timeoutMs: this.opts.timeoutMs ?? 3_000,
        headers: { accept: 'application/jwt' },
        redirect: 'error',
        ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
      });
      const jwt = res.text().trim();
      const { iat, exp } = this.check(jwt, did);
      this.entries.set(did, { jwt, iat, exp, failures: 0, retryAt: 0 });
    } catch (e) {
      const failures = prev.failures + 1;
      const wait = Math.min(this.opts.maxBackoffMs ?? 300_000, (this.opts.backoffMs ?? 5_000) * 2 ** (failures - 1));
      // The registry's own word that there is no registration in force (404/409): the old copy goes too.
      const refused = e instanceof OutboundFetchError && e.code === 'http_status' && (e.status === 404 || e.status === 409);
      this.entries.set(did, refused ? { failures, retryAt: this.clock() + wait } : { ...prev, failures, retryAt: this.clock() + wait });
      const reason = e instanceof OutboundFetchError ? (e.code === 'http_status' ? `registry answered HTTP ${e.status}` : `fetch ${e.code}`) : (e as Error).message;
      // The relying party is an organisation; nothing about a citizen is known here.
      this.opts.logger.warn({ relying_party: did, reason, retry_in_s: Math.round(wait / 1000) }, 'registration attestation unavailable; requests go out without verifier_info');
    }
  }

  /** Shape, `typ`, `sub` and lifetime of an attestation (the signature is the wallet's to check). */
  private check(jwt: string, did: string): { iat: number; exp: number } {
    let payload;
    try {
      if (peekHeader(jwt).typ !== VERIFIER_REGISTRATION_TYP) throw new Error();
      payload = decodeJwt(jwt);
    } catch {
      throw new Error('registry answer is not a registration attestation');
    }
    if (payload.sub !== did) throw new Error('attestation names another relying party');
    if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') throw new Error('attestation without iat or exp');
    const exp = payload.exp * 1000;
    if (exp - MIN_LEFT_MS <= this.clock()) throw new Error('attestation expired on arrival');
    return { iat: Math.min(payload.iat * 1000, this.clock()), exp };
  }
}
