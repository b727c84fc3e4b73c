import { randomInt } from 'node:crypto';
import { toIso } from '../core/util/time.ts';
import type { IssuerDeps, Office } from './deps.ts';
import type { StatusListStore } from './store/status-list-store.ts';
import type { StatusListFamily, StatusListRow } from './store/schema.ts';
import { StatusSlotPool } from './status-slot-pool.ts';

/**
 * Status list slots for credentials about to be signed.
 *
 * - Random index within a list (draft-ietf-oauth-status-list §12.4, §12.5.1: "non-sequential,
 *   pseudo-random or random indices"), so an index does not reveal issuance order.
 * - An office fills its newest list; when that is full, the next list is opened
 *   (§13.4: "divide its Referenced Tokens up into multiple Status Lists"). There is no "all full".
 * - A slot is reserved before signing (two requests never draw the same index, §13.3 "MUST prevent
 *   any unintended double allocation"), becomes the credential's in the transaction that records
 *   it, and is given back when the issuance fails before the credential leaves: a lost race for the
 *   offer, a signing error, a database error.
 */

/** No slot could be reserved (the database failed, or lists could not be opened). Callers answer their protocol's error, never a 500. */
export class StatusListUnavailable extends Error {
  override name = 'StatusListUnavailable';
}

export interface ReservedSlot {
  statusList: string;
  number: number;
  idx: number;
}

/** Lists up to this size are allocated from their free set at once (cheap to read whole). */
const READ_WHOLE_BELOW = 4096;
/** Random rounds before a large list is read whole: one direct claim, then look-ups of many candidates. */
const RANDOM_ROUNDS = 4;
const CANDIDATES_PER_SLOT = 32;
const MAX_CANDIDATES = 1024;

type Deps = Pick<IssuerDeps, 'store' | 'settings' | 'clock' | 'logger'>;

/**
 * Runs `issue` with `count` reserved slots of the office's lists of `family`. `issue` signs and
 * records the credentials (IssuerStore.completeIssuance marks the slots); if it throws, the
 * reservations are given back. A reservation left behind by a crash is swept later
 * (StatusListStore.purgeStaleReservations).
 */
export async function withStatusSlots<T>(deps: Deps, office: Office, family: StatusListFamily, count: number, issue: (slots: ReservedSlot[]) => Promise<T>): Promise<T> {
  const slots = await takeStatusSlots(deps, office, family, count);
  let done = false;
  try {
    const result = await issue(slots);
    done = true;
    return result;
  } finally {
    if (!done) await giveBack(deps, slots);
  }
}

/**
 * Pools of slots reserved ahead, one per store (that is, per process), for large lists only: in a
 * small list (tests, a town with few documents) reservations held ahead would fill it early.
 */
const pools = new WeakMap<StatusListStore, StatusSlotPool>();

function takeStatusSlots(deps: Deps, office: Office, family: StatusListFamily, count: number): Promise<ReservedSlot[]> {
  if (deps.settings.statusListSize <= READ_WHOLE_BELOW) return reserveStatusSlots(deps, office, family, count);
  const lists = deps.store.statusLists;
  let pool = pools.get(lists);
  if (!pool) pools.set(lists, (pool = new StatusSlotPool()));
  return pool.take(
    `${family}:${office.slug}`,
    count,
    deps.clock(),
    (n) => reserveStatusSlots(deps, office, family, n),
    (old) => void giveBack(deps, old),
  );
}

/** Gives back the slots reserved ahead in this process (the service stops). */
export async function releasePooledSlots(deps: Deps): Promise<void> {
  const slots = pools.get(deps.store.statusLists)?.drain() ?? [];
  await giveBack(deps, slots);
}

async function giveBack(deps: Deps, slots: ReservedSlot[]): Promise<void> {
  try {
    await deps.store.statusLists.release(slots);
  } catch (e) {
    // Left for the sweep; no index or list name in the log line is needed to act on it.
    deps.logger.warn({ err: { name: (e as Error).name } }, 'status slot reservations not released');
  }
}

export async function reserveStatusSlots(deps: Deps, office: Office, family: StatusListFamily, count: number): Promise<ReservedSlot[]> {
  const lists = deps.store.statusLists;
  const at = toIso(deps.clock());
  const size = deps.settings.statusListSize;
  const out: ReservedSlot[] = [];
  try {
    let list = (await lists.newestList(office.slug, family)) ?? (await lists.openList(office.slug, family, 1, size, at));
    // Every list this loop opens is new or filled by racing requests; count + 2 bounds it either way.
    for (let opened = 0; ; opened++) {
      const got = await claimInList(lists, list, count - out.length, at);
      for (const idx of got) out.push({ statusList: list.status_list, number: list.number, idx });
      if (out.length === count) return out;
      if (opened > count + 2) throw new Error('status lists keep filling up');
      list = await lists.openList(office.slug, family, list.number + 1, size, at);
    }
  } catch (e) {
    await giveBack(deps, out);
    throw new StatusListUnavailable('No status list entry could be reserved.', { cause: e });
  }
}

/** Claims up to `need` random free slots of one list; fewer only when the list is full. */
async function claimInList(lists: StatusListStore, list: StatusListRow, need: number, at: string): Promise<number[]> {
  const got: number[] = [];
  if (list.size > READ_WHOLE_BELOW) {
    for (let round = 0; round < RANDOM_ROUNDS && got.length < need; round++) {
      const missing = need - got.length;
      // Round 0 claims its draws directly (a list far from full: one statement); later rounds first ask which of many draws are free.
      let candidates = drawDistinct(list.size, round === 0 ? missing : Math.min(MAX_CANDIDATES, missing * CANDIDATES_PER_SLOT), got);
      if (round > 0) {
        const taken = await lists.taken(list.status_list, candidates);
        candidates = candidates.filter((c) => !taken.has(c)).slice(0, missing);
      }
      got.push(...(await lists.claim(list.status_list, candidates, at)));
    }
  }
  // A small or nearly full list: choose at random among its free slots. Racing claims can take
  // some of them; the free set shrinks each time, so this ends.
  for (let tries = 0; got.length < need && tries < 16; tries++) {
    const taken = await lists.taken(list.status_list);
    for (const g of got) taken.add(g);
    const free: number[] = [];
    for (let i = 0; i < list.size; i++) if (!taken.has(i)) free.push(i);
    if (free.length === 0) break;
    got.push(...(await lists.claim(list.status_list, sample(free, need - got.length), at)));
  }
  return got;
}

/** `n` distinct random indices in [0, size) not in `exclude` (fewer if the range has fewer). */
function drawDistinct(size: number, n: number, exclude: number[]): number[] {
  const seen = new Set(exclude);
  const out: number[] = [];
  const want = Math.min(n, size - seen.size);
  while (out.length < want) {
    const i = randomInt(0, size);
    if (!seen.has(i)) {
      seen.add(i);
      out.push(i);
    }
  }
  return out;
}

/** `n` elements of `from` chosen uniformly at random (partial Fisher–Yates; `from` is reordered). */
function sample(from: number[], n: number): number[] {
  const k = Math.min(n, from.length);
  for (let i = 0; i < k; i++) {
    const j = randomInt(i, from.length);
    [from[i], from[j]] = [from[j]!, from[i]!];
  }
  return from.slice(0, k);
}
