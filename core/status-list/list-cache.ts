import type { Clock } from '../util/time.ts';

/**
 * Verified status lists by URI, for the relying-party clients of both formats (Token Status List,
 * Bitstring Status List): a list is served from here until its own `until` (ttl, exp and the
 * operator's maximum age, as its loader computed them); concurrent checks of one list share one
 * fetch; the number of lists kept is bounded (the oldest entry goes first).
 */
export class VerifiedListCache<T extends { until: number }> {
  private readonly entries = new Map<string, T>();
  private readonly inflight = new Map<string, Promise<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = 1000,
  ) {}

  /** The cached list while fresh, else the one `fetchList` brings (one fetch per URI at a time). */
  get(uri: string, fetchList: (uri: string) => Promise<T>): Promise<T> {
    const hit = this.entries.get(uri);
    if (hit && this.clock() < hit.until) return Promise.resolve(hit);
    let p = this.inflight.get(uri);
    if (!p) {
      p = fetchList(uri)
        .then((list) => {
          this.entries.delete(uri);
          if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
          this.entries.set(uri, list);
          return list;
        })
        .finally(() => this.inflight.delete(uri));
      this.inflight.set(uri, p);
    }
    return p;
  }

  /** The last list verified for `uri`, fresh or not (for an operator-granted offline grace). */
  last(uri: string): T | undefined {
    return this.entries.get(uri);
  }
}
