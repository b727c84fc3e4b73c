import { z } from 'zod';
import { ProblemError } from '../../core/http/errors.ts';
import { toIso } from '../../core/util/time.ts';

/**
 * "Changes are effective no earlier than they are recorded" (issue 18): a grant's validity and a
 * status change start at the earliest when the registry records them, so an answer the registry
 * gave about a past moment (TRQP `context.time`) cannot be changed afterwards by an ordinary write.
 * A change known late (a key compromise found today that happened last week) is still possible,
 * but only as an explicit correction: `"correction": {"reason": "…"}` in the request, made by the
 * administrator role (routes/admin.ts), stored with the row, written into the audit entry, shown in
 * the grant's history and marked in TRQP answers it alters (trust-registry/corrections.ts).
 */

/** Clock difference tolerated between the registry and an administrator or authority (a request in flight, an NTP step). */
export const MAX_CLOCK_SKEW_MS = 60_000;

/** An administrator's correction: why the change takes effect before it is recorded. Organisational reasons only, no personal data. */
export const zCorrection = z.strictObject({ reason: z.string().trim().min(3).max(500) });
export type Correction = z.infer<typeof zCorrection>;

/** Whole seconds: effective times are RFC 3339 without fractions, like every time the registry stores. */
export const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;

const backdated = (field: string, what: string, recordedAt: number) =>
  new ProblemError({
    status: 400,
    code: 'backdated-change',
    title: 'Change effective before it is recorded',
    detail: `${field}: ${what} lies before ${toIso(recordedAt)}, when this change is recorded. A change known late must be sent as a correction ("correction": {"reason": "…"}).`,
    extra: { field },
  });

const notACorrection = () =>
  new ProblemError({
    status: 400,
    code: 'invalid-request',
    title: 'Invalid request',
    detail: 'correction: only a change that takes effect before it is recorded is a correction; send this one without it.',
    extra: { field: 'correction' },
  });

/**
 * The effective time to store for a change requested at `requested` (epoch ms) and recorded at
 * `recordedAt`: within the clock skew it is moved to the recording time; earlier is refused with a
 * `400` naming `field` unless the request is a correction. A correction must be one (effective
 * before it is recorded), so the audit trail's corrections are exactly the backdated changes.
 *
 * `fixed`: the time is signed by someone else (a grant statement's `nbf`) and cannot be moved.
 */
export function effectiveTime(opts: { field: string; what: string; requested: number; recordedAt: number; correction: Correction | undefined; fixed?: boolean }): number {
  const { requested, recordedAt } = opts;
  if (opts.correction) {
    if (requested >= recordedAt) throw notACorrection();
    return requested;
  }
  if (requested < recordedAt - MAX_CLOCK_SKEW_MS) throw backdated(opts.field, opts.what, recordedAt);
  return opts.fixed ? requested : Math.max(requested, recordedAt);
}
