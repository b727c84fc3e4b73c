import { jcs, sha256Hex } from '../crypto/canonical.ts';

/**
 * The registry's audit trail: a hash chain (docs/contract.md, Trust registry). Each entry's `hash` is the
 * lowercase hex SHA-256 of the entry without `hash` in JSON canonical form (RFC 8785); `prev_hash`
 * is the previous entry's `hash`, 64 zeros for the first. Signed snapshots carry the head of the
 * chain, so removing entries from the end is caught too; the issuer's and the verifier's trails are
 * anchored the same way by signed checkpoints (core/audit/checkpoint.ts).
 */

export const GENESIS = '0'.repeat(64);

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(jcs(entry));
}

export function sealEntry(entry: Omit<AuditEntry, 'hash'>): AuditEntry {
  return { ...entry, hash: hashEntry(entry) };
}

export interface ChainProblem {
  seq: number;
  problem: 'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap' | 'head_mismatch';
  message: string;
}

/**
 * Checks the chain in order. `head` is the last (seq, hash) a signed snapshot vouched for:
 * entries up to it must exist and end in that hash. `from` checks a part of the chain that
 * continues after a known entry (seq 0 and 64 zeros: the whole chain).
 */
export function checkChain(entries: AuditEntry[], head?: { seq: number; hash: string }, from: { seq: number; hash: string } = { seq: 0, hash: GENESIS }): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let prev = from.hash;
  let expectedSeq = from.seq + 1;
  for (const e of entries) {
    if (e.seq !== expectedSeq) problems.push({ seq: e.seq, problem: 'sequence_gap', message: `expected entry ${expectedSeq}, found ${e.seq}` });
    if (e.prev_hash !== prev) problems.push({ seq: e.seq, problem: 'prev_hash_mismatch', message: `entry ${e.seq} does not point to the previous entry` });
    const { hash, ...rest } = e;
    if (hashEntry(rest) !== hash) problems.push({ seq: e.seq, problem: 'hash_mismatch', message: `entry ${e.seq} was changed after it was written` });
    prev = hash;
    expectedSeq = e.seq + 1;
  }
  if (head && head.seq > 0) {
    const at = entries.find((e) => e.seq === head.seq);
    if (!at) problems.push({ seq: head.seq, problem: 'head_mismatch', message: `entry ${head.seq}, vouched for by the latest snapshot, is missing` });
    else if (at.hash !== head.hash) problems.push({ seq: head.seq, problem: 'head_mismatch', message: `entry ${head.seq} differs from the one the latest snapshot vouched for` });
  }
  return problems;
}
