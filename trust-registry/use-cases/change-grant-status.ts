import { z } from 'zod';
import { conflict, notFound } from '../../core/http/errors.ts';
import { parseOrThrow, zUtcDateTime } from '../../core/http/validate.ts';
import { statusAt } from '../../core/trust/evaluate.ts';
import { GRANT_STATUSES, type Grant, type StatusEvent } from '../../core/trust/model.ts';
import { toIso } from '../../core/util/time.ts';
import type { Registry } from '../registry.ts';

export const zChangeGrantStatus = z.strictObject({
  status: z.enum(GRANT_STATUSES),
  /** Why, in words a clerk can audit later. Organisational reasons only, no personal data. */
  reason: z.string().trim().min(3).max(500),
  /** When the change takes effect; defaults to now. A past time records a change known late (e.g. a key compromise). */
  effective_at: zUtcDateTime.optional(),
});

/**
 * Suspend, revoke or reinstate a grant. The change is appended with its reason and effective time;
 * nothing is overwritten (issue: "status changes are appended … never overwritten").
 * Revocation is final.
 */
export async function changeGrantStatus(registry: Registry, actor: string, grantId: string, body: unknown): Promise<Grant> {
  const input = parseOrThrow(zChangeGrantStatus, body);
  const now = registry.clock();
  const recordedAt = toIso(now);
  const effectiveAt = input.effective_at ?? recordedAt;
  return registry.write(
    () => ({ actor, action: 'grant.status', target: grantId, details: { status: input.status, reason: input.reason, effective_at: effectiveAt } }),
    async (m, index) => {
      const grant = index.state.grants.find((g) => g.id === grantId);
      if (!grant) throw notFound('unknown-grant', `Grant ${grantId} does not exist.`);
      if (grant.history.some((e) => e.status === 'revoked')) throw conflict('grant-revoked', 'The grant is revoked; revocation is final.');
      const current = statusAt(grant, Math.max(now, Date.parse(effectiveAt))).status;
      if (current === input.status) throw conflict('status-unchanged', `The grant is already ${current} at that time.`);
      const event: StatusEvent = { status: input.status, reason: input.reason, effective_at: effectiveAt, recorded_at: recordedAt };
      await registry.deps.store.appendStatus(m, { grant_id: grant.id, ...event, actor });
      return { ...grant, history: [...grant.history, event] };
    },
  );
}
