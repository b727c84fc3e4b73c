import { TrustIndex, type Evaluation } from '../core/trust/evaluate.ts';
import type { Grant, RegistryState } from '../core/trust/model.ts';
import type { GrantRecord } from './store/registry-store.ts';

/**
 * What the registry said about a past moment (issue 18). Ordinary writes take effect no earlier
 * than they are recorded (use-cases/recording-time.ts), so only corrections can change the answer
 * to a question about time t after t has passed. This module finds the corrections recorded after t
 * and rebuilds the state without them: the state as the registry knew it at t.
 */

const MAX_LISTED = 10;

export interface CorrectionRef {
  grant_id: string;
  /** `grant`: the grant itself was recorded as valid from before it was recorded; `status`: a status change. */
  kind: 'grant' | 'status';
  effective_at: string;
  recorded_at: string;
}

/** The corrections recorded after `t` (epoch ms) that take effect at or before it. */
export function correctionsAfter(state: RegistryState, records: Map<string, GrantRecord>, t: number): CorrectionRef[] {
  const found: CorrectionRef[] = [];
  for (const g of state.grants) {
    const r = records.get(g.id);
    if (!r) continue;
    if (r.correction !== null && Date.parse(r.recorded_at) > t && Date.parse(g.valid_from) <= t) {
      found.push({ grant_id: g.id, kind: 'grant', effective_at: g.valid_from, recorded_at: r.recorded_at });
    }
    g.history.forEach((e, i) => {
      if (r.history[i]?.correction != null && Date.parse(e.recorded_at) > t && Date.parse(e.effective_at) <= t) {
        found.push({ grant_id: g.id, kind: 'status', effective_at: e.effective_at, recorded_at: e.recorded_at });
      }
    });
  }
  return found;
}

/** The state without the given corrections: grants recorded by correction dropped, corrected status changes dropped. */
export function withoutCorrections(state: RegistryState, records: Map<string, GrantRecord>, t: number): RegistryState {
  const grants: Grant[] = [];
  for (const g of state.grants) {
    const r = records.get(g.id);
    if (r && r.correction !== null && Date.parse(r.recorded_at) > t) continue;
    const history = g.history.filter((e, i) => !(r?.history[i]?.correction != null && Date.parse(e.recorded_at) > t));
    grants.push(history.length === g.history.length ? g : { ...g, history });
  }
  return { ...state, grants };
}

/**
 * The TRQP marking of an answer about time `t` that corrections recorded since have changed:
 * undefined when none did (the answer is what the registry said at t), otherwise what it said then
 * and which corrections changed it.
 */
export function correctionMark(
  state: RegistryState,
  records: Map<string, GrantRecord>,
  t: number,
  now: number,
  current: Evaluation,
  evaluate: (index: TrustIndex) => Evaluation,
): { recorded: Evaluation; corrections: CorrectionRef[] } | undefined {
  if (t >= now) return undefined;
  const corrections = correctionsAfter(state, records, t);
  if (corrections.length === 0) return undefined;
  const recorded = evaluate(new TrustIndex(withoutCorrections(state, records, t)));
  if (recorded.authorized === current.authorized && recorded.reason === current.reason) return undefined;
  // The corrections on the grants either answer rests on; when neither rests on one (a failure
  // reason changed), the first of all corrections since t, so an answer stays bounded.
  const involved = new Set([...current.chain, ...recorded.chain].map((g) => g.id));
  const relevant = corrections.filter((c) => involved.has(c.grant_id));
  return { recorded, corrections: (relevant.length > 0 ? relevant : corrections).slice(0, MAX_LISTED) };
}
