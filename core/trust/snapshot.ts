import type { Resolver } from 'did-resolver';
import { z } from 'zod';
import { sha256Hex } from '../crypto/canonical.ts';
import { peekHeader, verifyJws } from '../crypto/jws.ts';
import { resolveAssertionKey } from '../did/resolver.ts';
import { boundedFetch, OutboundFetchError } from '../net/bounded-fetch.ts';
import { REGISTRY_SNAPSHOT_MAX_BYTES, SERVICE_FETCH_TIMEOUT_MS } from '../net/limits.ts';
import type { Clock } from '../util/time.ts';
import { systemClock } from '../util/time.ts';
import { TrustIndex } from './evaluate.ts';
import type { RegistryState } from './model.ts';

/**
 * Signed registry snapshots (docs/contract.md, Trust registry): the whole registry as a compact JWS with
 * `seq`, `iat`, `next_update`, `prev` (hash of the previous snapshot's JWS), the audit chain head,
 * entities, grants with their signed statements, and credential types.
 */
export const SNAPSHOT_TYP = 'trust-registry-snapshot+jwt';

export interface SnapshotPayload extends RegistryState {
  iss: string;
  seq: number;
  iat: number;
  next_update: number;
  /** Lowercase hex SHA-256 of the previous snapshot's compact JWS; 64 zeros for the first. */
  prev: string;
  audit_head: { seq: number; hash: string };
}

/** Hash that links snapshots: SHA-256 over the ASCII compact serialization. */
export const snapshotHash = (jws: string): string => sha256Hex(jws);

const zSnapshotPayload = z.looseObject({
  iss: z.string(),
  seq: z.number().int().positive(),
  iat: z.number().int().positive(),
  next_update: z.number().int().positive(),
  prev: z.string().regex(/^[0-9a-f]{64}$/),
  authority_id: z.string(),
  audit_head: z.object({ seq: z.number().int().min(0), hash: z.string() }),
  entities: z.array(z.looseObject({ id: z.string(), kind: z.string(), name: z.object({ de: z.string(), en: z.string() }) })),
  grants: z.array(z.looseObject({ id: z.string(), authority_id: z.string(), entity_id: z.string(), action: z.string(), resource: z.string(), history: z.array(z.any()) })),
  credential_types: z.array(z.looseObject({ vct: z.string() })),
});

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** Verifies a snapshot's signature against the registry DID's assertion key and parses it. */
export async function verifySnapshot(jws: string, registryDid: string, resolver: Resolver): Promise<SnapshotPayload> {
  let header;
  try {
    header = peekHeader(jws);
  } catch (e) {
    throw new SnapshotError(`snapshot header: ${(e as Error).message}`);
  }
  if (typeof header.kid !== 'string') throw new SnapshotError('snapshot has no kid');
  let payload: unknown;
  try {
    const key = await resolveAssertionKey(resolver, header.kid, registryDid);
    const v = await verifyJws(jws, key, SNAPSHOT_TYP);
    payload = JSON.parse(new TextDecoder().decode(v.payload));
  } catch (e) {
    throw new SnapshotError(`snapshot does not verify: ${(e as Error).message}`);
  }
  const parsed = zSnapshotPayload.safeParse(payload);
  if (!parsed.success) throw new SnapshotError('snapshot payload is malformed');
  if (parsed.data.iss !== registryDid) throw new SnapshotError('snapshot iss is not the registry');
  return parsed.data as unknown as SnapshotPayload;
}

export interface SnapshotClientOptions {
  registryUrl: string;
  registryDid: string;
  resolver: Resolver;
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  clock?: Clock;
  /** Longest the client relies on a snapshot past its `next_update` when the registry is unreachable (ms). */
  graceMs?: number;
  /** Re-fetch after this long even before `next_update` (ms), so suspensions show within it. Default: 60 s. */
  maxAgeMs?: number;
  /** Largest snapshot accepted (bytes; default REGISTRY_SNAPSHOT_MAX_BYTES). */
  maxBytes?: number;
  /** Deadline for fetching a snapshot (ms; default SERVICE_FETCH_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * Offline trust for verifiers and wallets: fetches the latest snapshot, verifies it, refuses a
 * `seq` lower than one already seen, and answers from memory until `next_update`.
 */
export class SnapshotClient {
  private current: { payload: SnapshotPayload; index: TrustIndex; hash: string; fetchedAt: number } | undefined;
  private inflight: Promise<TrustIndex> | undefined;
  private readonly clock: Clock;

  constructor(private readonly opts: SnapshotClientOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  get payload(): SnapshotPayload | undefined {
    return this.current?.payload;
  }

  /** The trust index from a fresh snapshot, refreshed when `next_update` has passed. */
  async index(): Promise<TrustIndex> {
    const now = this.clock();
    const maxAge = this.opts.maxAgeMs ?? 60_000;
    if (this.current && now < this.current.payload.next_update * 1000 && now - this.current.fetchedAt < maxAge) return this.current.index;
    this.inflight ??= this.refresh().finally(() => (this.inflight = undefined));
    try {
      return await this.inflight;
    } catch (e) {
      const grace = this.opts.graceMs ?? 0;
      if (this.current && now < this.current.payload.next_update * 1000 + grace) return this.current.index;
      throw e;
    }
  }

  async refresh(): Promise<TrustIndex> {
    let jws: string;
    try {
      const res = await boundedFetch(`${this.opts.registryUrl}/snapshots/latest`, {
        maxBytes: this.opts.maxBytes ?? REGISTRY_SNAPSHOT_MAX_BYTES,
        timeoutMs: this.opts.timeoutMs ?? SERVICE_FETCH_TIMEOUT_MS,
        headers: { accept: 'application/jwt' },
        redirect: 'error',
        ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
      });
      jws = res.text().trim();
    } catch (e) {
      if (e instanceof OutboundFetchError && e.code === 'http_status') throw new SnapshotError(`registry answered HTTP ${e.status}`);
      if (e instanceof OutboundFetchError && e.code === 'too_large') throw new SnapshotError('registry snapshot too large');
      throw new SnapshotError('registry snapshot could not be fetched');
    }
    const payload = await verifySnapshot(jws, this.opts.registryDid, this.opts.resolver);
    if (this.current && payload.seq < this.current.payload.seq) throw new SnapshotError(`snapshot seq went backwards (${payload.seq} < ${this.current.payload.seq})`);
    if (this.current && payload.seq === this.current.payload.seq + 1 && payload.prev !== this.current.hash) throw new SnapshotError('snapshot does not link to the previous one');
    this.current = { payload, index: new TrustIndex(payload), hash: snapshotHash(jws), fetchedAt: this.clock() };
    return this.current.index;
  }
}
