import { randomBytes, randomUUID } from 'node:crypto';
import { deriveClaims } from '../../core/catalog/claims-schema.ts';
import type { SelfServiceDef } from '../../core/catalog/model.ts';
import type { I18nText } from '../../core/trust/model.ts';
import { toIso } from '../../core/util/time.ts';
import type { CredentialConfiguration } from '../credential-configurations.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import type { OfferRow } from '../store/schema.ts';

/**
 * Self-service (issue 17): the office's rule over the claims of the citizen's login at the city IdP,
 * the catalogue's mapping from login claims to credential claims, and the offer row the
 * authorization code then stands for (approval automatic, no tx_code). The credential endpoint
 * issues from that row as from any other offer.
 */

export type SelfServiceDecision = { ok: true; claims: Record<string, unknown> } | { ok: false; refusal: I18nText };

/** When the login lacks what the credential needs (no personal data in the text). */
export const INCOMPLETE_LOGIN: I18nText = {
  de: 'Ihr Konto beim Bürgerkonto der Stadt enthält nicht alle Angaben, die dieser Nachweis braucht. Bitte wenden Sie sich an das Bürgerbüro.',
  en: "Your city account does not hold all the details this credential needs. Please contact the citizens' office.",
};

/** A dotted path into the login claims, own properties of plain objects only. */
export function loginClaim(claims: Record<string, unknown>, path: string): unknown {
  let cur: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

const norm = (v: string) => v.trim().normalize('NFC').toLocaleLowerCase('de-DE');

/**
 * OIDC Core §5.1.1 `street_address` holds street and house number in one ("Markt 1a"); a German
 * house number is the last token (12, 12a, 12-14, 12 / 14). Without one, the whole is the street.
 */
export function splitStreetAddress(value: string): { street: string; house_number?: string } {
  const line = value.split(/\r?\n/)[0]!.trim();
  const m = /^(.*?\S)\s+(\d{1,5}\s?[a-zA-Z]?(?:\s?[-/]\s?\d{1,5}[a-zA-Z]?)?)$/.exec(line);
  return m ? { street: m[1]!, house_number: m[2]!.replace(/\s+/g, '') } : { street: line };
}

/** The office's rule, then the mapping; the claims are validated by the configuration's compiled schema and derived claims added. */
export function decideSelfService(def: SelfServiceDef, configuration: CredentialConfiguration, login: Record<string, unknown>, now: number): SelfServiceDecision {
  for (const r of def.rule) {
    const v = loginClaim(login, r.claim);
    if (typeof v !== 'string' || norm(v) !== norm(r.equals)) return { ok: false, refusal: r.refusal };
  }
  const claims: Record<string, unknown> = {};
  for (const [target, source] of Object.entries(def.claims)) {
    const raw = loginClaim(login, typeof source === 'string' ? source : source.from);
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > 500) continue;
    const value = typeof source === 'string' ? raw.trim() : splitStreetAddress(raw)[source.part];
    if (value === undefined) continue;
    const path = target.split('.');
    let node = claims;
    for (const p of path.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = value;
  }
  const parsed = configuration.claims.safeParse(claims);
  if (!parsed.success) return { ok: false, refusal: INCOMPLETE_LOGIN };
  const out = parsed.data as Record<string, unknown>;
  try {
    deriveClaims(configuration.type, out, now);
  } catch {
    return { ok: false, refusal: INCOMPLETE_LOGIN };
  }
  return { ok: true, claims: out };
}

/**
 * The offer row for a self-service login, sealed at rest as create-offer seals a clerk's offer. Its
 * pre-authorized code and tx_code hashes are of random values nobody holds, so only the
 * authorization code reaches it. Audited without claims.
 */
export async function createSelfServiceOffer(deps: Pick<IssuerDeps, 'store' | 'sealer' | 'codes' | 'clock' | 'settings'>, office: Office, configuration: CredentialConfiguration, claims: Record<string, unknown>): Promise<string> {
  const now = deps.clock();
  const id = randomUUID();
  const row: OfferRow = {
    id,
    office: office.slug,
    configuration_id: configuration.id,
    claims_sealed: deps.sealer.seal(JSON.stringify(claims), id),
    pre_auth_code_hash: deps.codes.codeHash(`self-service:${randomBytes(32).toString('base64url')}`),
    tx_code_hash: deps.codes.txCodeHash('self-service', randomBytes(32).toString('base64url')),
    tx_code_failures: 0,
    approval: 'auto',
    approved_at: null,
    state: 'pending',
    created_at: toIso(now),
    expires_at: now + deps.settings.offerTtl * 1000,
  };
  await deps.store.insertOffer(row, { at: toIso(now), actor: 'self-service', action: 'offer.self_service', target: id, details: { office: office.slug, configuration: configuration.id } });
  return id;
}
