/**
 * Resource patterns of grants: an exact credential type, `prefix*`, or `*` for every type.
 * Only `accredit` grants carry patterns; `issue` and `verify` name one type.
 */

export const isPattern = (r: string): boolean => r.endsWith('*');

/** Does `pattern` cover the concrete resource `resource`? */
export function covers(pattern: string, resource: string): boolean {
  if (pattern === resource) return true;
  return isPattern(pattern) && resource.startsWith(pattern.slice(0, -1));
}

/** Does `parent` cover everything `child` (itself possibly a pattern) covers? */
export function coversPattern(parent: string, child: string): boolean {
  if (!isPattern(child)) return covers(parent, child);
  return isPattern(parent) && child.slice(0, -1).startsWith(parent.slice(0, -1));
}
