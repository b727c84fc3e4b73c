import type { Action, CredentialType, DelegableAction, Entity, Grant, GrantStatus, RegistryState } from './model.ts';
import { covers, coversPattern } from './resource.ts';

/**
 * The one trust evaluation. The registry's TRQP endpoints, the registry's write checks, the
 * verifier and the wallet all call these functions over the same state (the registry's live state
 * or a signed snapshot of it), so online and offline answers cannot differ.
 *
 * Pure: time is a parameter, nothing is fetched.
 */

const MAX_CHAIN = 8;

export type TrustReason =
  | 'authorized'
  | 'unknown_entity'
  | 'unknown_authority'
  | 'unknown_action'
  | 'unknown_resource'
  | 'no_grant'
  | 'not_yet_valid'
  | 'expired'
  | 'suspended'
  | 'revoked'
  | 'chain_broken';

export interface Evaluation {
  authorized: boolean;
  reason: TrustReason;
  message: string;
  /** The grants from the entity up to the authority, leaf first, when authorized. */
  chain: Grant[];
}

const ms = (iso: string) => Date.parse(iso);

/** Status of a grant at time t: the last recorded event whose effective time is not after t. */
export function statusAt(grant: Grant, t: number): { status: GrantStatus; since?: string; reason?: string } {
  let current: { status: GrantStatus; since?: string; reason?: string } = { status: 'active' };
  let best = -Infinity;
  for (const e of grant.history) {
    const at = ms(e.effective_at);
    if (at <= t && at >= best) {
      best = at;
      current = { status: e.status, since: e.effective_at, reason: e.reason };
    }
  }
  return current;
}

type GrantState = 'ok' | 'not_yet_valid' | 'expired' | 'suspended' | 'revoked';

export function grantStateAt(grant: Grant, t: number): GrantState {
  if (ms(grant.valid_from) > t) return 'not_yet_valid';
  if (grant.valid_until !== null && ms(grant.valid_until) <= t) return 'expired';
  const s = statusAt(grant, t).status;
  return s === 'active' ? 'ok' : s;
}

export class TrustIndex {
  readonly entities = new Map<string, Entity>();
  readonly types = new Map<string, CredentialType>();
  private readonly byEntity = new Map<string, Grant[]>();

  constructor(readonly state: RegistryState) {
    for (const e of state.entities) this.entities.set(e.id, e);
    for (const t of state.credential_types) this.types.set(t.vct, t);
    for (const g of state.grants) {
      const list = this.byEntity.get(g.entity_id) ?? [];
      list.push(g);
      this.byEntity.set(g.entity_id, list);
    }
  }

  get root(): string {
    return this.state.authority_id;
  }

  grantsOf(entityId: string): Grant[] {
    return this.byEntity.get(entityId) ?? [];
  }

  isKnownAuthority(id: string): boolean {
    return id === this.root || this.entities.get(id)?.kind === 'authority';
  }
}

interface WalkGoal {
  /** The authority the chain must reach. */
  authority: string;
  /** The concrete resource, or the pattern, the leaf grant is about. */
  resource: string | undefined;
  /** Leaf actions every accreditation on the way must allow. */
  actions: DelegableAction[];
  t: number;
}

/**
 * Walks from a leaf grant up through `accredit` grants to the goal authority. Each accreditation on
 * the way must cover the resource, allow the actions, allow as many levels below it as there are
 * accreditations below it, and be in force at t.
 */
function chainUp(index: TrustIndex, leaf: Grant, goal: WalkGoal): { chain: Grant[] } | { failure: Exclude<GrantState, 'ok'> | 'chain_broken' } {
  let worst: Exclude<GrantState, 'ok'> | 'chain_broken' = 'chain_broken';
  const visit = (grant: Grant, below: number, path: Grant[]): Grant[] | undefined => {
    if (grant.authority_id === goal.authority) return path;
    if (path.length >= MAX_CHAIN) return undefined;
    for (const parent of index.grantsOf(grant.authority_id)) {
      if (parent.action !== 'accredit' || path.includes(parent)) continue;
      if (goal.resource !== undefined && !coversPattern(parent.resource, goal.resource)) continue;
      const allowed = parent.constraints.actions ?? ['issue', 'verify'];
      if (!goal.actions.every((a) => allowed.includes(a))) continue;
      if ((parent.constraints.max_depth ?? 0) < below) continue;
      const state = grantStateAt(parent, goal.t);
      if (state !== 'ok') {
        worst = state;
        continue;
      }
      const found = visit(parent, below + 1, [...path, parent]);
      if (found) return found;
    }
    return undefined;
  };
  const chain = visit(leaf, leaf.action === 'accredit' ? 1 : 0, [leaf]);
  return chain ? { chain } : { failure: worst };
}

const REASON_TEXT: Record<TrustReason, string> = {
  authorized: 'authorized',
  unknown_entity: 'entity is not registered',
  unknown_authority: 'authority is not registered',
  unknown_action: 'action is not known',
  unknown_resource: 'resource is not a registered credential type',
  no_grant: 'no grant for this action and resource',
  not_yet_valid: 'grant is not yet valid at that time',
  expired: 'grant had expired at that time',
  suspended: 'grant is suspended at that time',
  revoked: 'grant is revoked at that time',
  chain_broken: 'no valid chain of accreditations to the authority',
};

const result = (reason: TrustReason, chain: Grant[] = []): Evaluation => ({ authorized: reason === 'authorized', reason, message: REASON_TEXT[reason], chain });

export interface AuthorizationQuery {
  entity_id: string;
  authority_id: string;
  action: string;
  resource: string;
  /** Epoch milliseconds. */
  time: number;
}

/** TRQP authorization: does `authority_id` (directly or through accreditations) let `entity_id` do `action` on `resource` at `time`? */
export function evaluateAuthorization(index: TrustIndex, q: AuthorizationQuery): Evaluation {
  if (!(['issue', 'verify', 'accredit'] as string[]).includes(q.action)) return result('unknown_action');
  if (!index.isKnownAuthority(q.authority_id)) return result('unknown_authority');
  if (!index.entities.has(q.entity_id)) return result('unknown_entity');
  if (q.action !== 'accredit' && !index.types.has(q.resource)) return result('unknown_resource');
  const action = q.action as Action;
  return walkLeaves(
    index,
    index.grantsOf(q.entity_id).filter((g) => g.action === action && (action === 'accredit' ? coversPattern(g.resource, q.resource) : covers(g.resource, q.resource))),
    { authority: q.authority_id, resource: q.resource, actions: action === 'accredit' ? [] : [action], t: q.time },
  );
}

export interface RecognitionQuery {
  entity_id: string;
  authority_id: string;
  action?: string | undefined;
  resource?: string | undefined;
  time: number;
}

/**
 * TRQP recognition: does `authority_id` recognize `entity_id` as an authority of its ecosystem
 * (an accreditation chain from it), for `action` on `resource` when given?
 */
export function evaluateRecognition(index: TrustIndex, q: RecognitionQuery): Evaluation {
  if (q.action !== undefined && !(['issue', 'verify'] as string[]).includes(q.action)) return result('unknown_action');
  if (!index.isKnownAuthority(q.authority_id)) return result('unknown_authority');
  if (q.entity_id === q.authority_id) return result('authorized');
  if (!index.entities.has(q.entity_id)) return result('unknown_entity');
  if (q.resource !== undefined && !index.types.has(q.resource) && !q.resource.endsWith('*')) return result('unknown_resource');
  const actions = q.action ? [q.action as DelegableAction] : [];
  const leaves = index
    .grantsOf(q.entity_id)
    .filter((g) => g.action === 'accredit' && (q.resource === undefined || coversPattern(g.resource, q.resource)) && actions.every((a) => (g.constraints.actions ?? ['issue', 'verify']).includes(a)));
  return walkLeaves(index, leaves, { authority: q.authority_id, resource: q.resource, actions, t: q.time });
}

function walkLeaves(index: TrustIndex, leaves: Grant[], goal: WalkGoal): Evaluation {
  if (leaves.length === 0) return result('no_grant');
  let failure: TrustReason = 'no_grant';
  const rank: TrustReason[] = ['no_grant', 'chain_broken', 'not_yet_valid', 'expired', 'suspended', 'revoked'];
  const note = (r: TrustReason) => {
    if (rank.indexOf(r) > rank.indexOf(failure)) failure = r;
  };
  for (const leaf of leaves) {
    const state = grantStateAt(leaf, goal.t);
    if (state !== 'ok') {
      note(state);
      continue;
    }
    const up = chainUp(index, leaf, goal);
    if ('chain' in up) return result('authorized', up.chain);
    note(up.failure);
  }
  return result(failure);
}

/** Why a proposed grant may not be made by its authority, or undefined when it may. */
export function delegationRefusal(
  index: TrustIndex,
  g: Pick<Grant, 'authority_id' | 'action' | 'resource' | 'valid_from' | 'valid_until' | 'constraints'>,
  now: number,
): string | undefined {
  if (g.authority_id === index.root) return undefined;
  if (!index.isKnownAuthority(g.authority_id)) return 'the granting authority is not a registered authority';
  const wanted: DelegableAction[] = g.action === 'accredit' ? (g.constraints.actions ?? ['issue', 'verify']) : [g.action];
  const depth = g.action === 'accredit' ? (g.constraints.max_depth ?? 0) + 1 : 0;
  for (const parent of index.grantsOf(g.authority_id)) {
    if (parent.action !== 'accredit' || grantStateAt(parent, now) !== 'ok') continue;
    if (!coversPattern(parent.resource, g.resource)) continue;
    if (!wanted.every((a) => (parent.constraints.actions ?? ['issue', 'verify']).includes(a))) continue;
    if ((parent.constraints.max_depth ?? 0) < depth) continue;
    if (ms(g.valid_from) < ms(parent.valid_from)) continue;
    if (parent.valid_until !== null && (g.valid_until === null || ms(g.valid_until) > ms(parent.valid_until))) continue;
    const up = chainUp(index, parent, { authority: index.root, resource: g.resource, actions: wanted, t: now });
    if ('chain' in up) return undefined;
  }
  return 'the grant exceeds the rights the granting authority holds (resource, actions, depth or validity)';
}

export type IssuerVerdictCode = 'untrusted_issuer' | 'issuer_suspended' | 'issuer_revoked';

export interface IssuerVerdict {
  trusted: boolean;
  code?: IssuerVerdictCode;
  message: string;
  issuer_name?: Entity['name'];
  warnings: string[];
}

/**
 * The verifier's and wallet's question: may this credential's issuer be relied on now?
 * - it must have been authorized for `vct` when it issued (`issuedAt`), through a chain to the root;
 * - now, no grant of that chain may be revoked; a suspension rejects the credential unless its type
 *   accepts credentials issued before the suspension took effect (CredentialType.issued_before_suspension).
 */
export function evaluateCredentialIssuer(index: TrustIndex, args: { issuer: string; vct: string; issuedAt: number; now: number }): IssuerVerdict {
  const entity = index.entities.get(args.issuer);
  const type = index.types.get(args.vct);
  const base = entity ? { issuer_name: entity.name } : {};
  if (!entity || !type) return { trusted: false, code: 'untrusted_issuer', message: !entity ? 'issuer is not registered' : 'credential type is not registered', warnings: [], ...base };
  const atIssue = evaluateAuthorization(index, { entity_id: args.issuer, authority_id: index.root, action: 'issue', resource: args.vct, time: args.issuedAt });
  if (!atIssue.authorized) {
    // Suspended or revoked already when it issued: say so; anything else (no grant, wrong type, expired) is untrusted.
    const code: IssuerVerdictCode = atIssue.reason === 'suspended' ? 'issuer_suspended' : atIssue.reason === 'revoked' ? 'issuer_revoked' : 'untrusted_issuer';
    return { trusted: false, code, message: `issuer was not authorized for this type at issuance: ${atIssue.message}`, warnings: [], ...base };
  }
  const warnings: string[] = [];
  for (const g of atIssue.chain) {
    const now = statusAt(g, args.now);
    if (now.status === 'revoked') return { trusted: false, code: 'issuer_revoked', message: 'the issuer’s authorization has been revoked', warnings, ...base };
    if (now.status === 'suspended') {
      const before = now.since !== undefined && args.issuedAt < ms(now.since);
      if (type.issued_before_suspension === 'accept' && before) {
        warnings.push('issuer is suspended; accepted because this type keeps credentials issued before the suspension');
        continue;
      }
      return { trusted: false, code: 'issuer_suspended', message: 'the issuer’s authorization is suspended', warnings, ...base };
    }
  }
  return { trusted: true, message: 'issuer authorized', warnings, ...base };
}

export interface RelyingPartyVerdict {
  authorized: boolean;
  /** Requested claim paths the relying party is not registered for. */
  excess: (string | number | null)[][];
  purpose?: Entity['name'];
  relying_party_name?: Entity['name'];
  message: string;
}

/** Does a registered claim path cover a requested one (equal, or a prefix of it; `null` matches any array index)? */
export function pathCovers(registered: readonly (string | number | null)[], requested: readonly (string | number | null)[]): boolean {
  if (registered.length > requested.length) return false;
  return registered.every((seg, i) => seg === null || seg === requested[i]);
}

/**
 * May this relying party ask for these claims of this credential type now? Used by the verifier
 * before it creates a request and by the wallet before it shows one: the same answer on both sides.
 */
export function evaluateRelyingParty(index: TrustIndex, args: { verifier: string; vct: string; paths: (string | number | null)[][]; time: number }): RelyingPartyVerdict {
  const entity = index.entities.get(args.verifier);
  const ev = evaluateAuthorization(index, { entity_id: args.verifier, authority_id: index.root, action: 'verify', resource: args.vct, time: args.time });
  const base = entity ? { relying_party_name: entity.name } : {};
  if (!ev.authorized) return { authorized: false, excess: args.paths, message: `not registered to verify this credential type: ${ev.message}`, ...base };
  const grant = ev.chain[0]!;
  const allowed = grant.constraints.claims;
  const excess = allowed === undefined ? [] : args.paths.filter((p) => !allowed.some((a) => pathCovers(a, p)));
  return {
    authorized: excess.length === 0,
    excess,
    ...(grant.constraints.purpose ? { purpose: grant.constraints.purpose } : {}),
    message: excess.length === 0 ? 'registered for these claims' : 'asks for claims it is not registered for',
    ...base,
  };
}
