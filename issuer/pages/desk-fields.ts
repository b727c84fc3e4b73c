import { claimAt, type ClaimDef, type CredentialTypeDef } from '../../core/catalog/model.ts';
import { fill, type DeskLang, type DeskTexts } from './desk-texts.ts';

/**
 * The form fields of one credential type, rendered from its definition (core/catalog/model.ts):
 * labels in the page's language, a date input for `date`, a select with the labelled values for
 * `enum`, a group for `address`/`object`, the hint under a field that has one. A derived boolean
 * is no field at all: the page says what it is computed from and never sends it; the issuer
 * computes it on the day of issuance (core/catalog/claims-schema.ts deriveClaims).
 *
 * Every input carries `data-claim` (its dotted path), `data-label` and, if any, `data-hint`, so
 * the script can build the claims and name a field by its label in messages.
 */
export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Ids unique in the page: configuration id and claim path, restricted to id-safe characters. */
const idOf = (base: string, path: string[]) => `f-${base}-${path.join('-')}`.replace(/[^A-Za-z0-9_-]/g, '_');

export function claimFields(type: Pick<CredentialTypeDef, 'claims'>, lang: DeskLang, t: DeskTexts, idBase: string): string {
  const render = (claims: ClaimDef[], prefix: string[]): string => claims.map((c) => field(type, c, [...prefix, c.name])).join('\n');

  function field(root: Pick<CredentialTypeDef, 'claims'>, c: ClaimDef, path: string[]): string {
    const id = idOf(idBase, path);
    const name = esc(path.join('.'));
    const label = c.label[lang];
    const data = `data-claim="${name}" data-label="${esc(label)}"`;
    const shown = esc(label) + (c.mandatory ? '' : ` <span class="optional">${esc(t.optional)}</span>`);
    const required = c.mandatory ? ' required aria-required="true"' : '';
    switch (c.type) {
      case 'address':
      case 'object':
        return `<fieldset class="group" data-group="${name}" data-label="${esc(label)}"><legend>${shown}</legend>\n${render(c.claims, path)}\n</fieldset>`;
      case 'boolean': {
        if (c.derived) {
          const from = claimAt(root, c.derived.from.split('.'));
          const rule = c.derived.rule === 'age_at_least' ? fill(t.ruleAge, { years: c.derived.years }) : fill(t.ruleEquals, { value: c.derived.value });
          const attrs =
            c.derived.rule === 'age_at_least'
              ? `data-rule="age_at_least" data-years="${c.derived.years}"`
              : `data-rule="equals" data-value="${esc(c.derived.value)}"`;
          // Not a form field: nothing to tick, nothing sent. The result is a preview; the issuer decides.
          return `<p class="derived" data-derived="${name}" data-label="${esc(label)}" data-from="${esc(c.derived.from)}" ${attrs}>${esc(fill(t.derived, { label, from: from?.label[lang] ?? c.derived.from }))} (${esc(rule)}). <output id="${id}-result"></output></p>`;
        }
        return `<div class="check"><input id="${id}" type="checkbox" ${data} data-kind="boolean"> <label for="${id}">${shown}</label></div>`;
      }
      case 'enum':
        return `<label for="${id}">${shown}</label><select id="${id}" ${data}${required}><option value="">${esc(t.choose)}</option>${c.values
          .map((v) => `<option value="${esc(v.value)}">${esc(v.label[lang])}</option>`)
          .join('')}</select>`;
      case 'date':
        return `<label for="${id}">${shown}</label><input id="${id}" type="date" ${data}${required}>`;
      case 'string': {
        const hint = c.hint?.[lang];
        const described = hint ? ` aria-describedby="${id}-hint" data-hint="${esc(hint)}"` : '';
        return `<label for="${id}">${shown}</label><input id="${id}" type="text" maxlength="${c.max_length}" autocomplete="off" ${data}${described}${required}>${hint ? `<small id="${id}-hint" class="hint">${esc(hint)}</small>` : ''}`;
      }
    }
  }
  return render(type.claims, []);
}
