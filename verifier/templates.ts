import { LEIPZIG } from '../core/demo/leipzig.ts';

/**
 * The Demo Leipzig counters' DCQL templates (OID4VP 1.0 §6), as a view of core/demo/leipzig.city.yaml.
 * The verifier itself reads templates per relying party from its catalogue (verifier/catalog/); this
 * view is only a fallback for pages rendered without a catalogue view.
 */
export const TEMPLATES: Record<string, { name: { de: string; en: string }; dcql_query: Record<string, unknown> }> = Object.fromEntries(
  LEIPZIG.relying_parties.flatMap((rp) => rp.templates.map((t) => [t.id, { name: t.name, dcql_query: t.dcql_query }] as const)),
);
