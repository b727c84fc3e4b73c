import type { Clock } from '../../core/util/time.ts';
import type { Take } from '../../core/http/rate-limit.ts';

/**
 * Guessing the passphrase through `POST /unlock` is slowed down twice over:
 * - exponential back-off on failures, per client address and for the whole wallet (a local attacker
 *   can use many loopback addresses, so the global count is what binds them): after `free` failures
 *   within the quiet window each further failure doubles the wait, from `baseMs` up to `maxMs`;
 *   an attempt during the wait is refused with 429 and Retry-After (RFC 6585 §4, RFC 9110 §10.2.3);
 * - one derivation at a time (scrypt with N=2^15, r=8 takes 32 MiB and a core's worth of time), with a
 *   short queue; beyond it, 429 too. Serial attempts also mean no burst can slip past the count.
 * A success clears both counts.
 */

export interface BackoffPolicy {
  /** Failures allowed before the first wait. */
  free: number;
  baseMs: number;
  maxMs: number;
  /** A count is forgotten after this long without a failure (and once its wait is over). */
  quietMs: number;
}

export const CLIENT_POLICY: BackoffPolicy = { free: 5, baseMs: 30_000, maxMs: 60 * 60_000, quietMs: 15 * 60_000 };
export const GLOBAL_POLICY: BackoffPolicy = { free: 10, baseMs: 30_000, maxMs: 60 * 60_000, quietMs: 15 * 60_000 };
const MAX_WAITING = 4;
const MAX_CLIENTS = 10_000;
const GLOBAL = '\u0000all';

interface Count {
  failures: number;
  last: number;
  until: number;
}

export type Attempt<T> = { ok: true; value: T } | { ok: false; retryAfter: number };

export class UnlockLimiter {
  private readonly counts = new Map<string, Count>();
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(
    private readonly clock: Clock,
    private readonly client: BackoffPolicy = CLIENT_POLICY,
    private readonly global: BackoffPolicy = GLOBAL_POLICY,
  ) {}

  /** Whether this client may try now; otherwise the seconds to wait. */
  check(clientKey: string): Take {
    const wait = Math.max(this.waitMs(clientKey, this.client), this.waitMs(GLOBAL, this.global));
    return wait > 0 ? { ok: false, retryAfter: Math.max(1, Math.ceil(wait / 1000)) } : { ok: true };
  }

  fail(clientKey: string): void {
    this.count(clientKey, this.client);
    this.count(GLOBAL, this.global);
  }

  succeed(clientKey: string): void {
    this.counts.delete(clientKey);
    this.counts.delete(GLOBAL);
  }

  /**
   * Runs one attempt after the ones before it, checking the back-off again when its turn comes.
   * `attempt` says whether it failed (a wrong passphrase counts, an error of ours does not).
   */
  async run<T>(clientKey: string, attempt: () => Promise<{ failed: boolean; value: T }>): Promise<Attempt<T>> {
    if (this.waiting >= MAX_WAITING) return { ok: false, retryAfter: 1 };
    this.waiting++;
    const turn = this.queue.then(async (): Promise<Attempt<T>> => {
      const now = this.check(clientKey);
      if (!now.ok) return now;
      const out = await attempt();
      if (out.failed) this.fail(clientKey);
      else this.succeed(clientKey);
      return { ok: true, value: out.value };
    });
    this.queue = turn.catch(() => undefined);
    try {
      return await turn;
    } finally {
      this.waiting--;
    }
  }

  private waitMs(key: string, policy: BackoffPolicy): number {
    const c = this.counts.get(key);
    if (!c) return 0;
    const now = this.clock();
    if (now >= c.until && now - c.last >= policy.quietMs) {
      this.counts.delete(key);
      return 0;
    }
    return Math.max(0, c.until - now);
  }

  private count(key: string, policy: BackoffPolicy): void {
    this.waitMs(key, policy);
    const now = this.clock();
    const c = this.counts.get(key) ?? { failures: 0, last: now, until: 0 };
    c.failures++;
    c.last = now;
    if (c.failures >= policy.free) c.until = now + Math.min(policy.maxMs, policy.baseMs * 2 ** (c.failures - policy.free));
    this.counts.delete(key);
    this.counts.set(key, c);
    if (this.counts.size > MAX_CLIENTS) this.counts.delete([...this.counts.keys()].find((k) => k !== GLOBAL)!);
  }
}
