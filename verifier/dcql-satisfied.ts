import { DcqlPresentationResult, type DcqlQuery } from 'dcql';

/** What the verifier hands the matcher for each verified presentation (receive-response.ts). */
export interface VerifiedInput {
  credential_format: 'dc+sd-jwt' | 'jwt_vc_json';
  vct?: string;
  type?: string[];
  claims: Record<string, unknown>;
  cryptographic_holder_binding: boolean;
}

/**
 * OID4VP 1.0 §6.4 and §8.6 step 3: whether the verified presentations together satisfy the query, as
 * the dcql library decides it (`DcqlPresentationResult.fromDcqlPresentation`).
 *
 * The library builds its valibot parsers for every claims query and every meta check on each call
 * (dcql 3.0.0): 63–72 µs a response on the bench machine, about 4 % of a verification (issue 16,
 * docs/performance.md "Change 11"). Its answer is a pure function of the query and, per presentation,
 * of the format, the vct or type, holder binding, and each requested claim: for a query whose claims
 * queries name object members only (no array index or wildcard), ask for no `values` and have no
 * `trusted_authorities`, a claim counts by being there (not null or undefined, the library's own
 * test), not by its value. For such queries the answer is kept per shape: those inputs, with one
 * bit per claims query. The shape holds no claim value, so no personal data stays in memory. Every
 * other query, and every shape not yet seen, goes to the library; the library decides, this only
 * remembers.
 */
export function dcqlSatisfied(query: DcqlQuery, input: Record<string, VerifiedInput[]>): boolean {
  const known = memoOf(query);
  const key = known ? shapeKey(query, input) : undefined;
  if (known && key !== undefined) {
    const hit = known.get(key);
    if (hit !== undefined) return hit;
  }
  let satisfied: boolean;
  try {
    satisfied = DcqlPresentationResult.fromDcqlPresentation(input as never, { dcqlQuery: query }).can_be_satisfied;
  } catch {
    return false;
  }
  if (known && key !== undefined) {
    if (known.size >= SHAPES_PER_QUERY) known.clear();
    known.set(key, satisfied);
  }
  return satisfied;
}

/** A query's shapes seen so far, or null when its answer can depend on claim values (never kept). */
const memos = new WeakMap<DcqlQuery, Map<string, boolean> | null>();
const SHAPES_PER_QUERY = 64;

function memoOf(query: DcqlQuery): Map<string, boolean> | null {
  let memo = memos.get(query);
  if (memo === undefined) {
    memo = query.credentials.every(byPresenceOnly) ? new Map() : null;
    memos.set(query, memo);
  }
  return memo;
}

type CredentialQuery = DcqlQuery['credentials'][number];

function byPresenceOnly(cq: CredentialQuery): boolean {
  if (cq.format !== 'dc+sd-jwt' && cq.format !== 'jwt_vc_json') return false;
  if (cq.trusted_authorities !== undefined) return false;
  return (cq.claims ?? []).every((c) => !('values' in c && c.values !== undefined) && 'path' in c && c.path.every((s) => typeof s === 'string'));
}

/** The inputs the library's answer depends on for a presence-only query; undefined for an input it does not cover. */
function shapeKey(query: DcqlQuery, input: Record<string, VerifiedInput[]>): string | undefined {
  const parts: unknown[] = [];
  for (const [id, creds] of Object.entries(input)) {
    const cq = query.credentials.find((c) => c.id === id);
    if (!cq) return undefined;
    const paths = (cq.claims ?? []).map((c) => (c as { path: string[] }).path);
    parts.push(id, creds.map((c) => [c.credential_format, c.vct ?? null, c.type ?? null, c.cryptographic_holder_binding, paths.map((p) => (present(c.claims, p) ? 1 : 0)).join('')]));
  }
  return JSON.stringify(parts);
}

/** Whether the claim at an object-member path is there, as the library's parser finds it: each step an object, the last value not null or undefined. */
function present(claims: unknown, path: string[]): boolean {
  let cur = claims;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur !== null && cur !== undefined;
}
