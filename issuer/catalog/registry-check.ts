import { ProblemError } from '../../core/http/errors.ts';
import { evaluateAuthorization, type TrustIndex } from '../../core/trust/evaluate.ts';
import type { I18nText } from '../../core/trust/model.ts';
import type { SnapshotClient } from '../../core/trust/snapshot.ts';

/**
 * The registry stays the source of truth for who may issue what (issue 15): an office is stored
 * only when the registry authorizes its DID to `issue` every type it would offer, now (TRQP
 * authorization through the signed snapshot, core/trust/evaluate.ts). A refusal is checked once more
 * against a freshly fetched snapshot: a `config apply` changes the registry first and the issuer
 * right after, within the snapshot's cache time.
 */
export async function requireIssueGrants(trust: SnapshotClient, slug: string, did: string, vcts: string[], time: number): Promise<void> {
  const missing = (index: TrustIndex) => vcts.filter((vct) => !evaluateAuthorization(index, { entity_id: did, authority_id: index.root, action: 'issue', resource: vct, time }).authorized);
  let refused: string[];
  try {
    refused = missing(await trust.index());
    if (refused.length > 0) refused = missing(await trust.refresh());
  } catch {
    throw new ProblemError({
      status: 503,
      code: 'registry-unavailable',
      title: 'Service unavailable',
      detail: 'The trust registry cannot be reached; nothing was stored. Try again later.',
      extra: { detail_i18n: { de: 'Das Vertrauensregister ist nicht erreichbar; nichts wurde gespeichert. Bitte später erneut versuchen.', en: 'The trust registry cannot be reached; nothing was stored. Try again later.' } },
    });
  }
  if (refused.length > 0) throw notAuthorizedByRegistry(refusalText(slug, did, refused));
}

export function refusalText(slug: string, did: string, vcts: string[]): I18nText {
  const list = vcts.join(', ');
  return {
    de: `Das Amt ${slug} (${did}) ist im Vertrauensregister nicht berechtigt, ${list} auszustellen; nichts wurde gespeichert. Erst die Berechtigung im Register eintragen.`,
    en: `The office ${slug} (${did}) is not authorized by the trust registry to issue ${list}; nothing was stored. Register the grant first.`,
  };
}

/** 409 `not-authorized-by-registry`, German and English (the same shape as the verifier's). */
export function notAuthorizedByRegistry(text: I18nText): ProblemError {
  return new ProblemError({ status: 409, code: 'not-authorized-by-registry', title: 'Conflict', detail: text.en, extra: { detail_i18n: text } });
}
