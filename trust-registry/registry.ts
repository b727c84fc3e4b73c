import type { Resolver } from 'did-resolver';
import type { EntityManager } from 'typeorm';
import { signJws } from '../core/crypto/jws.ts';
import type { DidIdentity } from '../core/keys/did-identity.ts';
import type { Logger } from '../core/log/logger.ts';
import { TrustIndex } from '../core/trust/evaluate.ts';
import type { RegistryState } from '../core/trust/model.ts';
import { SNAPSHOT_TYP, snapshotHash, type SnapshotPayload } from '../core/trust/snapshot.ts';
import { Mutex } from '../core/util/mutex.ts';
import { toIso, toSeconds, type Clock } from '../core/util/time.ts';
import { GENESIS, type AuditEntry } from '../core/audit/audit-chain.ts';
import type { GrantRecord, RegistryStore } from './store/registry-store.ts';
import type { SnapshotRow } from './store/schema.ts';

export interface RegistryDeps {
  store: RegistryStore;
  /** The registry's own identity: signs snapshots and TRQP answers. */
  identity: DidIdentity;
  /** The ecosystem root authority (the city). */
  rootAuthority: string;
  /** Authorities whose keys this registry holds (root, departments): it signs their statements. */
  hosted: Map<string, DidIdentity>;
  resolver: Resolver;
  clock: Clock;
  logger: Logger;
  /** Seconds from a snapshot's `iat` to its `next_update`. */
  snapshotTtl: number;
}

export interface WriteEvent {
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

/** The state as evaluated, with when each grant and status change was recorded (and which were corrections). */
export interface RegistryView {
  index: TrustIndex;
  records: Map<string, GrantRecord>;
}

/**
 * The registry's state and its one write path. Every write runs in one transaction that also
 * appends the audit entry and publishes the next signed snapshot, so the audit chain, the
 * snapshot sequence and the data can never disagree.
 */
export class Registry {
  private cached: { state: RegistryState; index: TrustIndex; records: Map<string, GrantRecord> } | undefined;
  private readonly mutex = new Mutex();

  constructor(readonly deps: RegistryDeps) {}

  get clock(): Clock {
    return this.deps.clock;
  }

  async index(): Promise<TrustIndex> {
    return (await this.view()).index;
  }

  async view(): Promise<RegistryView> {
    if (!this.cached) {
      const state = await this.deps.store.loadState(this.deps.rootAuthority);
      const records = await this.deps.store.loadRecords();
      this.cached = { state, index: new TrustIndex(state), records };
    }
    return this.cached;
  }

  async write<T>(event: (result: T) => WriteEvent, mutate: (m: EntityManager, index: TrustIndex) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      const value = await this.deps.store.transaction(async (m) => {
        const before = new TrustIndex(await this.deps.store.loadState(this.deps.rootAuthority, m));
        const result = await mutate(m, before);
        const ev = event(result);
        const entry = await this.deps.store.appendAudit(m, { at: toIso(this.clock()), actor: ev.actor, action: ev.action, target: ev.target, details: ev.details });
        await this.publish(m, { seq: entry.seq, hash: entry.hash });
        return result;
      });
      this.cached = undefined;
      return value;
    });
  }

  /** Signs and stores the next snapshot of the state as seen by `m`. */
  private async publish(m: EntityManager, auditHead: { seq: number; hash: string }): Promise<SnapshotRow> {
    const state = await this.deps.store.loadState(this.deps.rootAuthority, m);
    const prev = await this.deps.store.latestSnapshot(m);
    const iat = toSeconds(this.clock());
    const payload: SnapshotPayload = {
      iss: this.deps.identity.did,
      seq: (prev?.seq ?? 0) + 1,
      iat,
      next_update: iat + this.deps.snapshotTtl,
      prev: prev?.hash ?? GENESIS,
      audit_head: auditHead,
      ...state,
    };
    const jws = await signJws(this.deps.identity.signer, new TextEncoder().encode(JSON.stringify(payload)), { typ: SNAPSHOT_TYP });
    const row: SnapshotRow = { seq: payload.seq, iat, next_update: payload.next_update, prev_hash: payload.prev, hash: snapshotHash(jws), jws };
    await this.deps.store.insertSnapshot(m, row);
    return row;
  }

  /**
   * The latest snapshot, re-published (same content, next seq) once a quarter of its lifetime is
   * left, so a verifier never receives one past its `next_update`.
   */
  async latestSnapshot(): Promise<SnapshotRow> {
    const now = toSeconds(this.clock());
    const current = await this.deps.store.latestSnapshot();
    if (current && now < current.next_update - this.deps.snapshotTtl / 4) return current;
    return this.mutex.run(() =>
      this.deps.store.transaction(async (m) => {
        const again = await this.deps.store.latestSnapshot(m);
        if (again && now < again.next_update - this.deps.snapshotTtl / 4) return again;
        const last = await this.deps.store.lastAudit(m);
        return this.publish(m, { seq: last?.seq ?? 0, hash: last?.hash ?? GENESIS });
      }),
    );
  }

  auditEntries(): Promise<AuditEntry[]> {
    return this.deps.store.auditEntries();
  }
}
