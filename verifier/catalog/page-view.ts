import type { CredentialTypeDef } from '../../core/catalog/model.ts';
import type { I18nText } from '../../core/trust/model.ts';
import type { VerifierDeps } from '../deps.ts';

export interface CounterView {
  templates: { id: string; name: I18nText }[];
  /** The types the counter's templates ask for, claims in display order, in the order the templates name them. */
  types: CredentialTypeDef[];
}

/**
 * What the counter page of one relying party shows, from the catalogue: its templates (buttons) and
 * the display definitions of the credential types they ask for (`dc+sd-jwt` by `vct_values`,
 * `jwt_vc_json` by the W3C type in `type_values`; OID4VP 1.0 §B.3.5, §B.1.1).
 */
export function counterView(deps: Pick<VerifierDeps, 'rps' | 'catalog'>, rpSlug: string): CounterView {
  const rp = deps.rps.get(rpSlug);
  if (!rp) return { templates: [], types: [] };
  const types = new Map<string, CredentialTypeDef>();
  for (const t of rp.templates.values()) {
    for (const cq of t.parsed.credentials) {
      const found =
        cq.format === 'dc+sd-jwt'
          ? (cq.meta?.vct_values ?? []).map((v) => deps.catalog.typeByVct(v))
          : cq.format === 'jwt_vc_json'
            ? (cq.meta?.type_values ?? []).flat().map((w) => deps.catalog.typeByW3cType(w))
            : [];
      for (const ty of found) if (ty && !types.has(ty.id)) types.set(ty.id, ty);
    }
  }
  return { templates: [...rp.templates.values()].map((t) => ({ id: t.id, name: t.name })), types: [...types.values()] };
}
