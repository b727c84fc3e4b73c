import { VcdmError } from './errors.ts';
import { isObject, type JsonObject } from './values.ts';

/**
 * VCDM 2.0 §4.6 Names and Descriptions: `name` and `description`, on the credential and on an
 * `issuer` object, are each a string or a language value object (§11.1 Language and Base Direction),
 * or a set (array) of them for several languages.
 *
 * §11.1: a language value object has `@value` (the text), optional `@language` (a well-formed
 * BCP 47 language tag) and optional `@direction` (`ltr` or `rtl`), and nothing else.
 */

/** BCP 47 (RFC 5646 §2.1) shape, simplified: a 2–8 letter primary subtag (or x- private use), then 1–8 alphanumerics per subtag. */
const LANGUAGE_TAG = /^(?:[A-Za-z]{2,8}|[xX])(?:-[A-Za-z0-9]{1,8})*$/;
const VALUE_MEMBERS = new Set(['@value', '@language', '@direction']);

export function checkLanguageValues(doc: JsonObject, at = ''): void {
  for (const prop of ['name', 'description'] as const) {
    if (!(prop in doc)) continue;
    const v = doc[prop];
    const path = `${at}${prop}`;
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0) throw new VcdmError('vcdm-name', path, `${prop} must be a string or a language value object (or an array of them)`);
    for (const [i, item] of list.entries()) checkOne(item, Array.isArray(v) ? `${path}.${i}` : path, prop);
  }
}

function checkOne(v: unknown, path: string, prop: string): void {
  if (typeof v === 'string') return;
  if (!isObject(v)) throw new VcdmError('vcdm-name', path, `${prop} must be a string or a language value object (or an array of them)`);
  // §11.1: only @value, @language and @direction.
  for (const k of Object.keys(v)) if (!VALUE_MEMBERS.has(k)) throw new VcdmError('vcdm-name', `${path}.${k}`, `a language value object has only @value, @language and @direction (VCDM 2.0 §11.1)`);
  if (typeof v['@value'] !== 'string') throw new VcdmError('vcdm-name', `${path}.@value`, '@value must be a string');
  if ('@language' in v && (typeof v['@language'] !== 'string' || !LANGUAGE_TAG.test(v['@language']))) throw new VcdmError('vcdm-name', `${path}.@language`, '@language must be a BCP 47 language tag such as de or en-GB');
  if ('@direction' in v && v['@direction'] !== 'ltr' && v['@direction'] !== 'rtl') throw new VcdmError('vcdm-name', `${path}.@direction`, '@direction must be ltr or rtl');
}
