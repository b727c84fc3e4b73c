import type { DataSource, EntitySchema } from 'typeorm';
import type { DidIdentity } from '../keys/did-identity.ts';
import type { Logger } from '../log/logger.ts';
import { inTransaction, withDb } from '../store/data-source.ts';
import { toSeconds, type Clock } from '../util/time.ts';
import { checkChain, GENESIS } from './audit-chain.ts';
import { readAudit, type AuditRow } from './audit-table.ts';
import { checkAgainstCheckpoint, checkCheckpoints, checkExtension, type AuditProblem, type Head } from './anchor-check.ts';
import { checkpointHash, signCheckpoint, verifyCheckpoint, type CheckpointPayload } from './checkpoint.ts';
import { auditEntriesFrom, lastCheckpoint, readCheckpoints, type CheckpointRow } from './checkpoint-table.ts';

/** How often the head is checkpointed while the service runs (besides start, shutdown and every check). */
export const CHECKPOINT_INTERVAL_MS = 60_000;

export interface AuditAnchorOptions {
  ds: DataSource;
  audit: EntitySchema<AuditRow>;
  checkpoints: EntitySchema<CheckpointRow>;
  /** The service's audit identity (`did:web:<host>:audit`), its key encrypted at rest like every other. */
  identity: DidIdentity;
  service: string;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
}

export interface AuditCheckReport {
  valid: boolean;
  problems: AuditProblem[];
  /** The latest checkpoint whose signature holds, or null. */
  checkpoint: Omit<CheckpointPayload, 'iss' | 'service' | 'prev'> | null;
}

/**
 * Anchors a service's hash-chained audit trail in signed checkpoints, off the request path: an
 * append stays one insert; a checkpoint is written at start, every `intervalMs`, on shutdown and on
 * every check, each only after the entries since the previous checkpoint were found to continue it.
 * Entries after the latest checkpoint are not yet anchored (at most one interval's worth).
 */
export class AuditAnchor {
  private seen: Head | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: AuditAnchorOptions) {}

  /** The audit key's did:web identity (its document is public). */
  get identity(): DidIdentity {
    return this.opts.identity;
  }

  private get expected() {
    return { iss: this.opts.identity.did, service: this.opts.service, keys: this.opts.identity.keys };
  }

  private remember(seq: number, jws: string): void {
    if (!this.seen || seq >= this.seen.seq) this.seen = { seq, hash: checkpointHash(jws) };
  }

  /** Checkpoints the head now, then every interval. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? CHECKPOINT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the timer and writes a last checkpoint (shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.tick();
  }

  private async tick(): Promise<void> {
    try {
      const { problems } = await this.checkpoint();
      // Counts and codes only: entries name actors and targets, never citizens, but logs stay lean.
      if (problems.length > 0) this.opts.logger.error({ service: this.opts.service, problems: problems.length, first: problems[0]!.problem }, 'audit trail does not continue its last checkpoint; no checkpoint written');
    } catch (e) {
      this.opts.logger.error({ err: { name: (e as Error).name } }, 'audit checkpoint failed');
    }
  }

  /**
   * Signs a checkpoint over the current head if it moved, after checking that the entries since
   * the last checkpoint continue it. Writers in several processes take turns (SQLite: BEGIN
   * IMMEDIATE; PostgreSQL: a table lock), so the checkpoints form one chain.
   */
  async checkpoint(): Promise<{ problems: AuditProblem[]; latest?: CheckpointPayload }> {
    const { ds, audit, checkpoints, identity, service, clock } = this.opts;
    const seen = this.seen;
    const outcome = await inTransaction(ds, async (m): Promise<{ problems: AuditProblem[]; latest?: CheckpointPayload; mark?: CheckpointRow }> => {
      if (ds.options.type === 'postgres') await m.query(`LOCK TABLE ${checkpoints.options.tableName} IN SHARE ROW EXCLUSIVE MODE`);
      const last = await lastCheckpoint(m, checkpoints);
      let cp: CheckpointPayload | undefined;
      if (last) {
        try {
          cp = await verifyCheckpoint(last.jws, this.expected);
        } catch (e) {
          return { problems: [{ checkpoint: last.seq, problem: 'checkpoint_signature', message: `checkpoint ${last.seq}: ${(e as Error).message}` }] };
        }
        if (cp.seq !== last.seq) return { problems: [{ checkpoint: last.seq, problem: 'checkpoint_chain', message: `checkpoint ${last.seq} was stored under another number (signed as ${cp.seq})` }] };
      }
      if (seen && (!last || last.seq < seen.seq)) return { problems: [{ checkpoint: seen.seq, problem: 'checkpoint_missing', message: `checkpoint ${seen.seq}, written or verified by this process, is gone` }] };
      if (seen && last && last.seq === seen.seq && checkpointHash(last.jws) !== seen.hash) return { problems: [{ checkpoint: seen.seq, problem: 'checkpoint_missing', message: `checkpoint ${seen.seq} was replaced after this process wrote or verified it` }] };
      const fromHead = await auditEntriesFrom(m, audit, cp?.audit_head.seq ?? 0);
      const count = await m.count(audit);
      const problems = checkExtension(cp, fromHead, count);
      if (problems.length > 0) return { problems };
      const tail = fromHead.at(-1);
      const head: Head = tail ? { seq: tail.seq, hash: tail.hash } : { seq: 0, hash: GENESIS };
      if (last && cp && cp.audit_head.seq === head.seq && cp.audit_head.hash === head.hash) return { problems: [], latest: cp, mark: last };
      const payload: CheckpointPayload = { iss: identity.did, service, seq: (last?.seq ?? 0) + 1, iat: toSeconds(clock()), prev: last ? checkpointHash(last.jws) : GENESIS, audit_head: head, count };
      const jws = await signCheckpoint(identity.signer, payload);
      await m.insert(checkpoints, { seq: payload.seq, jws });
      return { problems: [], latest: payload, mark: { seq: payload.seq, jws } };
    });
    // Remembered once committed, so a check reading the table never expects one that is not there yet.
    if (outcome.mark) this.remember(outcome.mark.seq, outcome.mark.jws);
    return { problems: outcome.problems, ...(outcome.latest ? { latest: outcome.latest } : {}) };
  }

  /**
   * `GET /api/audit/check`: the chain is intact, the latest checkpoint's signature holds, the
   * checkpoints form a chain, the entry it vouched for is there with its hash, and the trail has no
   * fewer entries than it counted. When all holds, the current head is checkpointed.
   */
  async check(): Promise<AuditCheckReport> {
    // What this process saw before reading; checkpoints before entries: any head one vouches for was committed before the entries are read.
    const seen = this.seen;
    const rows = await withDb(this.opts.ds, (m) => readCheckpoints(m, this.opts.checkpoints));
    const entries = await withDb(this.opts.ds, (m) => readAudit(m, this.opts.audit));
    const problems: AuditProblem[] = checkChain(entries);
    const anchored = await checkCheckpoints(rows, this.expected, seen);
    problems.push(...anchored.problems);
    let latest = anchored.latest;
    if (latest) problems.push(...checkAgainstCheckpoint(entries, latest));
    if (problems.length === 0) {
      if (latest) this.remember(latest.seq, rows.at(-1)!.jws);
      const next = await this.checkpoint();
      problems.push(...next.problems);
      latest = next.latest ?? latest;
    }
    return { valid: problems.length === 0, problems, checkpoint: latest ? { seq: latest.seq, iat: latest.iat, audit_head: latest.audit_head, count: latest.count } : null };
  }

  /** The latest checkpoint as stored (compact JWS), for outside parties to keep; undefined before the first. */
  async latest(): Promise<string | undefined> {
    return (await withDb(this.opts.ds, (m) => lastCheckpoint(m, this.opts.checkpoints)))?.jws;
  }

  /** Verifies a checkpoint against this service's audit key (for tests and the check command). */
  verify(jws: string): Promise<CheckpointPayload> {
    return verifyCheckpoint(jws, this.expected);
  }
}
