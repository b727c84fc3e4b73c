import { z } from 'zod';
import { conflict, notFound, ProblemError } from '../../core/http/errors.ts';
import { parseOrThrow, zUtcDateTime } from '../../core/http/validate.ts';
import { statusAt } from '../../core/trust/evaluate.ts';
import { GRANT_STATUSES, type Grant, type StatusEvent } from '../../core/trust/model.ts';
import { toIso } from '../../core/util/time.ts';
import type { Registry } from '../registry.ts';
import { effectiveTime, wholeSeconds, zCorrection } from './recording-time.ts';

export const zChangeGrantStatus = z.strictObject({
  status: z.enum(GRANT_STATUSES),
  /** Why, in words a clerk can audit later. Organisational reasons only, no personal data. */
  reason: z.string().trim().min(3).max(500),
  /** When the change takes effect; defaults to now. Not before now, unless the request is a correction. */
  effective_at: zUtcDateTime.optional(),
  /** A change known late (e.g. a key compromise found after the fact): effective before it is recorded (recording-time.ts). */
  correction: zCorrection.optional(),
});

const simultaneous = (at: string) =>
  new ProblemError({
    status: 409,
    code: 'simultaneous-status-change',
    title: 'Conflict',
    detail: `Another status change of this grant takes effect at ${at}. A change must take effect after the one it follows (a reinstatement after the suspension it lifts); send it again a second later or with a later effective_at.`,
    extra: { field: 'effective_at' },
  });

/**
 * Suspend, revoke or reinstate a grant. The change is appended with its reason and effective time;
 * nothing is overwritten (issue: "status changes are appended … never overwritten").
 * Revocation is final. Issue 18: the change takes effect no earlier than it is recorded (unless it
 * is a correction), and never at the same instant as another change of the grant: the trust
 * evaluation (statusAt) lets the later-recorded of two simultaneous changes win, so a reinstatement
 * at the instant of its suspension would erase the suspension from every answer about that moment.
 */
export async function changeGrantStatus(registry: Registry, actor: string, grantId: string, body: unknown): Promise<Grant> {
  const input = parseOrThrow(zChangeGrantStatus, body);
  const now = registry.clock();
  const recordedAt = toIso(now);
  const effective = effectiveTime({
    field: 'effective_at',
    what: `effective_at (${input.effective_at})`,
    requested: input.effective_at ? wholeSeconds(Date.parse(input.effective_at)) : wholeSeconds(now),
    recordedAt: wholeSeconds(now),
    correction: input.correction,
  });
  const effectiveAt = toIso(effective);
  const correction = input.correction;
  return registry.write(
    () => ({
      actor,
      action: 'grant.status',
      target: grantId,
      details: { status: input.status, reason: input.reason, effective_at: effectiveAt, ...(correction ? { correction: { reason: correction.reason } } : {}) },
    }),
    async (m, index) => {
      const grant = index.state.grants.find((g) => g.id === grantId);
      if (!grant) throw notFound('unknown-grant', `Grant ${grantId} does not exist.`);
      if (grant.history.some((e) => e.status === 'revoked')) throw conflict('grant-revoked', 'The grant is revoked; revocation is final.');
      const same = grant.history.find((e) => Date.parse(e.effective_at) === effective);
      if (same) throw simultaneous(same.effective_at);
      const current = statusAt(grant, effective).status;
      if (current === input.status) throw conflict('status-unchanged', `The grant is already ${current} at that time.`);
      const event: StatusEvent = { status: input.status, reason: input.reason, effective_at: effectiveAt, recorded_at: recordedAt };
      await registry.deps.store.appendStatus(m, { grant_id: grant.id, ...event, actor, correction: correction?.reason ?? null });
      return { ...grant, history: [...grant.history, event] };
    },
  );
}
