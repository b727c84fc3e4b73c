import { checkChain, GENESIS, hashEntry, type AuditEntry, type ChainProblem } from './audit-chain.ts';
import { checkpointHash, decodeCheckpoint, verifyCheckpoint, type CheckpointPayload } from './checkpoint.ts';
import type { CheckpointRow } from './checkpoint-table.ts';
import type { DocumentKey } from '../did/did-web.ts';

/**
 * The checks that anchor an audit trail in its signed checkpoints (core/audit/checkpoint.ts), as
 * pure functions over what was read from the database. Failures are data (a closed set of codes).
 */
export interface CheckpointProblem {
  /** The checkpoint concerned. */
  checkpoint: number;
  /** The audit entry concerned, where there is one. */
  seq?: number;
  problem: 'checkpoint_signature' | 'checkpoint_chain' | 'checkpoint_missing' | 'truncated' | 'head_mismatch';
  message: string;
}

export type AuditProblem = ChainProblem | CheckpointProblem;

export interface Head {
  seq: number;
  hash: string;
}

export interface Expected {
  iss: string;
  service: string;
  keys: DocumentKey[];
}

/**
 * Checks the stored checkpoints: the latest one's signature (RFC 7515 §5.2), and that every earlier
 * one is linked to it by `prev` hashes (so each is vouched for by the signature after it), with
 * `seq` 1, 2, 3, … and heads and counts that never go back. `seen` is the newest checkpoint this
 * process wrote or verified: checkpoints deleted since are caught while it runs.
 * Returns the latest payload when its signature holds.
 */
export async function checkCheckpoints(rows: CheckpointRow[], expected: Expected, seen?: Head): Promise<{ problems: CheckpointProblem[]; latest?: CheckpointPayload; latestHash?: string }> {
  const problems: CheckpointProblem[] = [];
  const payloads: (CheckpointPayload | undefined)[] = rows.map((r) => {
    try {
      return decodeCheckpoint(r.jws);
    } catch (e) {
      problems.push({ checkpoint: r.seq, problem: 'checkpoint_chain', message: `checkpoint ${r.seq}: ${(e as Error).message}` });
      return undefined;
    }
  });
  rows.forEach((r, i) => {
    const p = payloads[i];
    if (r.seq !== i + 1) problems.push({ checkpoint: i + 1, problem: 'checkpoint_chain', message: `checkpoint ${i + 1} is missing (found ${r.seq})` });
    if (!p) return;
    if (p.seq !== r.seq) problems.push({ checkpoint: r.seq, problem: 'checkpoint_chain', message: `checkpoint ${r.seq} was stored under another number (signed as ${p.seq})` });
    const prev = i === 0 ? GENESIS : checkpointHash(rows[i - 1]!.jws);
    if (p.prev !== prev) problems.push({ checkpoint: r.seq, problem: 'checkpoint_chain', message: `checkpoint ${r.seq} does not link to the checkpoint before it` });
    const before = i === 0 ? undefined : payloads[i - 1];
    if (before && (p.audit_head.seq < before.audit_head.seq || p.count < before.count)) problems.push({ checkpoint: r.seq, problem: 'checkpoint_chain', message: `checkpoint ${r.seq} vouches for fewer entries than the checkpoint before it` });
  });

  if (seen) {
    const row = rows.find((r) => r.seq === seen.seq);
    if (!row) problems.push({ checkpoint: seen.seq, problem: 'checkpoint_missing', message: `checkpoint ${seen.seq}, written or verified by this process, is gone` });
    else if (checkpointHash(row.jws) !== seen.hash) problems.push({ checkpoint: seen.seq, problem: 'checkpoint_missing', message: `checkpoint ${seen.seq} was replaced after this process wrote or verified it` });
  }

  const last = rows.at(-1);
  if (!last) return { problems };
  try {
    const latest = await verifyCheckpoint(last.jws, expected);
    return { problems, latest, latestHash: checkpointHash(last.jws) };
  } catch (e) {
    problems.push({ checkpoint: last.seq, problem: 'checkpoint_signature', message: `checkpoint ${last.seq}: ${(e as Error).message}` });
    return { problems };
  }
}

/** The trail against a verified checkpoint: the entry it vouched for is still there with that hash, and no fewer entries than it counted. */
export function checkAgainstCheckpoint(entries: AuditEntry[], cp: CheckpointPayload): CheckpointProblem[] {
  const problems: CheckpointProblem[] = [];
  if (entries.length < cp.count) problems.push({ checkpoint: cp.seq, problem: 'truncated', message: `the trail has ${entries.length} entries; checkpoint ${cp.seq} counted ${cp.count}` });
  if (cp.audit_head.seq === 0) return problems;
  const at = entries.find((e) => e.seq === cp.audit_head.seq);
  if (!at) problems.push({ checkpoint: cp.seq, seq: cp.audit_head.seq, problem: 'truncated', message: `entry ${cp.audit_head.seq}, vouched for by checkpoint ${cp.seq}, is missing` });
  else if (at.hash !== cp.audit_head.hash) problems.push({ checkpoint: cp.seq, seq: at.seq, problem: 'head_mismatch', message: `entry ${at.seq} differs from the one checkpoint ${cp.seq} vouched for` });
  return problems;
}

/**
 * Before a new checkpoint is signed: the entries from the last checkpoint's head on (`fromHead`,
 * starting with that head entry) must continue it, and `count` (all rows) must match the new head,
 * so nothing was removed before it. A checkpoint never vouches for a trail that was tampered with.
 */
export function checkExtension(cp: CheckpointPayload | undefined, fromHead: AuditEntry[], count: number): AuditProblem[] {
  const head: Head = cp?.audit_head ?? { seq: 0, hash: GENESIS };
  const problems: AuditProblem[] = [];
  let rest = fromHead;
  if (cp && head.seq > 0) {
    const first = fromHead[0];
    if (!first || first.seq !== head.seq) return [{ checkpoint: cp.seq, seq: head.seq, problem: 'truncated', message: `entry ${head.seq}, vouched for by checkpoint ${cp.seq}, is missing` }];
    const { hash, ...body } = first;
    if (hash !== head.hash || hashEntry(body) !== hash) return [{ checkpoint: cp.seq, seq: head.seq, problem: 'head_mismatch', message: `entry ${head.seq} differs from the one checkpoint ${cp.seq} vouched for` }];
    rest = fromHead.slice(1);
  }
  problems.push(...checkChain(rest, undefined, head));
  const newHead = fromHead.at(-1)?.seq ?? head.seq;
  if (cp && count < cp.count) problems.push({ checkpoint: cp.seq, problem: 'truncated', message: `the trail has ${count} entries; checkpoint ${cp.seq} counted ${cp.count}` });
  else if (count !== newHead) problems.push({ seq: newHead, problem: 'sequence_gap', message: `the trail has ${count} entries but its last is entry ${newHead}` });
  return problems;
}
