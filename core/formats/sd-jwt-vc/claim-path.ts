/**
 * Claims path pointers as defined by OpenID4VP 1.0 §7 (DCQL): a string selects an object member,
 * a non-negative integer an array element, null every element of an array.
 */
export type ClaimPathSegment = string | number | null;
export type ClaimPath = readonly ClaimPathSegment[];
/** A path without wildcards, naming exactly one claim. */
export type ConcretePath = (string | number)[];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `prefix` equals the first `prefix.length` segments of `path`. */
export function isPathPrefix(prefix: readonly (string | number)[], path: readonly (string | number)[]): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => seg === path[i]);
}

export const formatPath = (path: ClaimPath): string => JSON.stringify(path);

/**
 * Applies a claims path pointer to a JSON credential (OpenID4VP 1.0 §7.1.1 "Processing") and returns
 * the concrete path of every selected element. Returns an error text when processing aborts
 * (a string applied to a non-object, an index or null applied to a non-array, nothing selected).
 */
export function resolveClaimPath(root: Record<string, unknown>, pointer: ClaimPath): ConcretePath[] | string {
  if (pointer.length === 0) return 'claims path pointer must not be empty';
  let selected: { value: unknown; path: ConcretePath }[] = [{ value: root, path: [] }];
  for (const seg of pointer) {
    const next: typeof selected = [];
    for (const { value, path } of selected) {
      if (typeof seg === 'string') {
        if (!isObject(value)) return `${formatPath(pointer)}: ${formatPath(path)} is not an object`;
        if (Object.hasOwn(value, seg)) next.push({ value: value[seg], path: [...path, seg] });
      } else if (seg === null) {
        if (!Array.isArray(value)) return `${formatPath(pointer)}: ${formatPath(path)} is not an array`;
        value.forEach((el, i) => next.push({ value: el, path: [...path, i] }));
      } else if (Number.isInteger(seg) && seg >= 0) {
        if (!Array.isArray(value)) return `${formatPath(pointer)}: ${formatPath(path)} is not an array`;
        if (seg < value.length) next.push({ value: value[seg], path: [...path, seg] });
      } else {
        return `${formatPath(pointer)}: invalid component ${String(seg)}`;
      }
    }
    selected = next;
  }
  if (selected.length === 0) return `${formatPath(pointer)} selects no claim`;
  return selected.map((s) => s.path);
}
