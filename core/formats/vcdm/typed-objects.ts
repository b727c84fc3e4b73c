import { VcdmError, type VcdmErrorCode } from './errors.ts';
import { isObject, isUrl, type JsonObject } from './values.ts';

/**
 * Properties whose values are one or more objects that MUST each have a `type` (and, if they have
 * an `id`, a URL, §4.4):
 * - VCDM 2.0 §5.4 Refreshing: "Each refreshService value MUST specify its type" (1.1 §5.6 likewise).
 * - §5.5 Terms of Use: "Each termsOfUse value MUST specify its type" (1.1 §5.7 likewise).
 * - §5.6 Evidence: "a single object or a set of one or more objects", each with a `type` (1.1 §5.8).
 */
const TYPED: readonly { prop: string; code: VcdmErrorCode }[] = [
  { prop: 'refreshService', code: 'vcdm-refresh-service' },
  { prop: 'termsOfUse', code: 'vcdm-terms-of-use' },
  { prop: 'evidence', code: 'vcdm-evidence' },
];

const isType = (t: unknown): boolean => (typeof t === 'string' && t.length > 0) || (Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string' && x.length > 0));

export function checkTypedObjects(doc: JsonObject): void {
  for (const { prop, code } of TYPED) {
    if (!(prop in doc)) continue;
    const v = doc[prop];
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0) throw new VcdmError(code, prop, `${prop} must be an object or a non-empty array of objects`);
    for (const [i, o] of list.entries()) {
      const at = Array.isArray(v) ? `${prop}.${i}` : prop;
      if (!isObject(o)) throw new VcdmError(code, at, `${prop} must be an object or a non-empty array of objects`);
      if (!isType(o.type)) throw new VcdmError(code, `${at}.type`, `each ${prop} value must specify its type`);
      if ('id' in o && !isUrl(o.id)) throw new VcdmError('vcdm-id', `${at}.id`, `${prop}.id must be a URL`);
    }
  }
}
