import { z } from 'zod';
import { sha256Hex } from '../crypto/canonical.ts';
import { peekHeader, signJws, verifyJws, type Signer } from '../crypto/jws.ts';
import type { DocumentKey } from '../did/did-web.ts';

/**
 * Signed checkpoints of a service's audit chain (issuer, verifier): the registry's pattern (signed,
 * sequence-numbered snapshots that vouch for the audit head, core/trust/snapshot.ts) for services
 * that publish no snapshots. A checkpoint is a compact JWS (ES256, RFC 7515) by the service's audit
 * key over which entry was the head, how many entries there were, when, and the hash of the
 * checkpoint before it, so the checkpoints form a chain of their own.
 */
export const CHECKPOINT_TYP = 'audit-checkpoint+jwt';

export interface CheckpointPayload {
  /** The DID whose assertion key signs the checkpoints (`did:web:<host>:audit`). */
  iss: string;
  /** Which trail: `issuer` or `verifier`. */
  service: string;
  /** 1, 2, 3, … without gaps. */
  seq: number;
  /** NumericDate (RFC 7519 §2) of the checkpoint. */
  iat: number;
  /** Lowercase hex SHA-256 of the previous checkpoint's compact JWS; 64 zeros for the first. */
  prev: string;
  /** The last entry of the chain at that time (seq 0 and 64 zeros while the trail is empty). */
  audit_head: { seq: number; hash: string };
  /** Entries in the trail at that time. */
  count: number;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const zPayload = z.looseObject({
  iss: z.string().min(1),
  service: z.string().min(1),
  seq: z.number().int().positive(),
  iat: z.number().int().min(0),
  prev: hex64,
  audit_head: z.object({ seq: z.number().int().min(0), hash: hex64 }),
  count: z.number().int().min(0),
});

/** Hash that links checkpoints: SHA-256 over the ASCII compact serialization (as snapshots do). */
export const checkpointHash = (jws: string): string => sha256Hex(jws);

export function signCheckpoint(signer: Signer, payload: CheckpointPayload): Promise<string> {
  return signJws(signer, new TextEncoder().encode(JSON.stringify(payload)), { typ: CHECKPOINT_TYP });
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Reads a checkpoint's payload without checking the signature (for checkpoints vouched for by a later, verified one). */
export function decodeCheckpoint(jws: string): CheckpointPayload {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new CheckpointError('checkpoint is not a compact JWS');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new CheckpointError('checkpoint payload is not JSON');
  }
  const parsed = zPayload.safeParse(payload);
  if (!parsed.success) throw new CheckpointError('checkpoint payload is malformed');
  return parsed.data as CheckpointPayload;
}

/**
 * Verifies a checkpoint against the audit identity's keys: the `kid` must name one of them
 * (RFC 7515 §4.1.4), `alg` is on the allow-list and `typ` is exact (RFC 8725 §3.1, §3.11), the
 * signature holds, and `iss` and `service` are the expected ones.
 */
export async function verifyCheckpoint(jws: string, expected: { iss: string; service: string; keys: DocumentKey[] }): Promise<CheckpointPayload> {
  let kid: unknown;
  try {
    kid = peekHeader(jws).kid;
  } catch (e) {
    throw new CheckpointError(`checkpoint header: ${(e as Error).message}`);
  }
  const key = expected.keys.find((k) => kid === `${expected.iss}#${k.fragment}`);
  if (!key) throw new CheckpointError('checkpoint is not signed with the audit key of this service');
  try {
    await verifyJws(jws, key.publicJwk, CHECKPOINT_TYP);
  } catch (e) {
    throw new CheckpointError(`checkpoint does not verify: ${(e as Error).message}`);
  }
  const payload = decodeCheckpoint(jws);
  if (payload.iss !== expected.iss || payload.service !== expected.service) throw new CheckpointError('checkpoint belongs to another service');
  return payload;
}
