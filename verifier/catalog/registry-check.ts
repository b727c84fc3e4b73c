import type { DcqlQuery } from 'dcql';
import { badRequest, ProblemError } from '../../core/http/errors.ts';
import { evaluateRelyingParty, type TrustIndex } from '../../core/trust/evaluate.ts';
import type { I18nText } from '../../core/trust/model.ts';

/** Why the registry does not let a relying party ask a query: the type, the claims too many, our words. */
export interface Refusal {
  vct: string;
  /** `type`: no active `verify` grant for the type at all; `claims`: the grant does not cover some claims. */
  kind: 'type' | 'claims';
  /** Claim paths it is not registered for (empty when it may not verify the type at all). */
  excess: (string | number | null)[][];
  message: string;
}

/**
 * What a DCQL query (OID4VP 1.0 §6) asks, per registered credential type: `dc+sd-jwt` names its
 * types in `meta.vct_values` (§B.3.5); `jwt_vc_json` in `meta.type_values` (§B.1.1), mapped to the
 * registry's types through their W3C type names, claim paths taken below `credentialSubject`.
 * A format or type the registry cannot map is a 400 naming `field`.
 */
export function askedByType(index: TrustIndex, query: DcqlQuery, field: string): { vct: string; paths: (string | number | null)[][] }[] {
  const out: { vct: string; paths: (string | number | null)[][] }[] = [];
  for (const cq of query.credentials) {
    let vcts: string[];
    let paths: (string | number | null)[][];
    if (cq.format === 'dc+sd-jwt') {
      vcts = cq.meta?.vct_values ?? [];
      paths = (cq.claims ?? []).map((c) => c.path as (string | number | null)[]);
    } else if (cq.format === 'jwt_vc_json') {
      const types = (cq.meta?.type_values ?? []).flat();
      vcts = index.state.credential_types.filter((t) => t.w3c_types?.some((w) => types.includes(w))).map((t) => t.vct);
      paths = (cq.claims ?? []).map((c) => (c.path as (string | number | null)[]).slice(c.path[0] === 'credentialSubject' ? 1 : 0));
    } else throw badRequest(`${field}: format ${cq.format} is not supported`, { field });
    if (vcts.length === 0) throw badRequest(`${field}: credential query ${cq.id} names no registered credential type`, { field });
    for (const vct of vcts) out.push({ vct, paths });
  }
  return out;
}

/**
 * The registry's word on one query of one relying party (TRQP authorization of `verify` on each
 * type, then its grant's `claims` constraint): the first refusal, or null when all is allowed.
 */
export function refusalOf(index: TrustIndex, did: string, query: DcqlQuery, time: number, field: string): Refusal | null {
  for (const { vct, paths } of askedByType(index, query, field)) {
    const v = evaluateRelyingParty(index, { verifier: did, vct, paths, time });
    // core/trust/evaluate.ts: without a verify grant every path is excess and the message says so.
    if (!v.authorized) return { vct, kind: v.message.startsWith('not registered to verify') ? 'type' : 'claims', excess: v.excess, message: v.message };
  }
  return null;
}

/** 409 `not-authorized-by-registry` with a German and English detail; the registry stays the source of truth. */
export function notAuthorizedByRegistry(text: I18nText): ProblemError {
  return new ProblemError({ status: 409, code: 'not-authorized-by-registry', title: 'Conflict', detail: text.en, extra: { detail_i18n: text } });
}

/** The German and English words for a refusal of a relying party's template. */
export function refusalText(slug: string, template: string, r: Refusal): I18nText {
  const claims = r.excess.map((p) => p.map((x) => (x === null ? '*' : String(x))).join('.')).join(', ');
  if (r.kind === 'claims') {
    return {
      de: `Die Vorlage ${template} von ${slug} fragt nach ${claims} (${r.vct}); dafür ist die Stelle im Vertrauensregister nicht zugelassen.`,
      en: `Template ${template} of ${slug} asks for ${claims} (${r.vct}), which the trust registry does not allow this relying party to ask for.`,
    };
  }
  return {
    de: `${slug} darf laut Vertrauensregister ${r.vct} nicht prüfen (Vorlage ${template}).`,
    en: `The trust registry does not let ${slug} verify ${r.vct} (template ${template}).`,
  };
}
