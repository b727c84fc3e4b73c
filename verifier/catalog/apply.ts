import { jcs } from '../../core/crypto/canonical.ts';
import { type CredentialTypeDef, type RelyingPartyDef, zCredentialTypeDef, zRelyingPartyDef } from '../../core/catalog/model.ts';
import { badRequest, conflict, ProblemError } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import { pathCovers, type TrustIndex } from '../../core/trust/evaluate.ts';
import type { I18nText } from '../../core/trust/model.ts';
import { toIso } from '../../core/util/time.ts';
import type { VerifierDeps } from '../deps.ts';
import { compileTemplates } from './catalog.ts';
import { askedByType, notAuthorizedByRegistry, refusalOf, refusalText } from './registry-check.ts';
import type { PutResult } from './store.ts';

type ApplyDeps = Pick<VerifierDeps, 'catalog' | 'trust' | 'clock' | 'logger'>;

/** `PUT /api/catalog/credential-types/{id}` and the demo seed: validate, store unless identical, take effect at once. */
export async function putCredentialType(deps: ApplyDeps, id: string, body: unknown, actor: string): Promise<PutResult & { credential_type: CredentialTypeDef }> {
  const def = parseOrThrow(zCredentialTypeDef, body);
  if (def.id !== id) throw badRequest(`id: must equal the path (${id})`, { field: 'id' });
  await deps.catalog.refresh();
  const other = deps.catalog.typeByVct(def.vct);
  if (other && other.id !== def.id) throw conflict('vct-in-use', `vct ${def.vct} is already the type ${other.id}.`);
  const out = await deps.catalog.store.put('credential-type', id, jcs(def), { actor, at: toIso(deps.clock()) });
  if (out.changed) await deps.catalog.refresh();
  return { ...out, credential_type: def };
}

const REGISTRY_UNAVAILABLE = () => new ProblemError({ status: 503, code: 'trust-registry-unavailable', title: 'Service unavailable', detail: 'The trust registry cannot be reached; no relying party is stored without its word.' });

/**
 * `PUT /api/catalog/relying-parties/{slug}` and the demo seed. The trust registry stays the source
 * of truth: the relying party's did:web must be a registered verifier, and each template may ask
 * only for claims its active `verify` grants allow (TRQP authorization, grant `claims` constraint);
 * else 409 `not-authorized-by-registry` and nothing is stored. The snapshot is refreshed once before
 * refusing: a city's apply has just changed the registry. `onRegistryUnreachable: 'store'` is for
 * the demo seed only (requests are still checked against the registry when they are created).
 */
export async function putRelyingParty(
  deps: ApplyDeps,
  slug: string,
  body: unknown,
  actor: string,
  opts: { onRegistryUnreachable?: 'refuse' | 'store' } = {},
): Promise<PutResult & { relying_party: RelyingPartyDef; did: string }> {
  const def = parseOrThrow(zRelyingPartyDef, body);
  if (def.slug !== slug) throw badRequest(`slug: must equal the path (${slug})`, { field: 'slug' });
  const templates = compileTemplates(def);
  const did = deps.catalog.hosted.didFor(slug);

  let index: TrustIndex | undefined;
  try {
    index = await deps.trust.index();
  } catch {
    if (opts.onRegistryUnreachable !== 'store') throw REGISTRY_UNAVAILABLE();
    deps.logger.warn({ relying_party: slug }, 'trust registry unreachable: relying party stored unchecked (demo seed); requests are still checked');
  }
  if (index) {
    /** The registry's refusal in our words, null when it allows all; a 400 for a template the model or the index cannot map. */
    const evaluate = (ix: TrustIndex): I18nText | null => {
      // The templates ask no more than the definition's own may_ask (the file's promise to the registry).
      [...templates.values()].forEach((t, i) => {
        for (const { vct, paths } of askedByType(ix, t.parsed, `templates.${i}.dcql_query`)) {
          const allowed = def.may_ask.filter((m) => m.vct === vct).flatMap((m) => m.claims);
          const extra = paths.filter((p) => !allowed.some((a) => pathCovers(a, p)));
          if (extra.length) throw badRequest(`templates.${i}.dcql_query: asks for ${extra.map((p) => p.join('.')).join(', ')} of ${vct}, which may_ask does not list`, { field: `templates.${i}.dcql_query` });
        }
      });
      if (ix.entities.get(did)?.kind !== 'verifier') {
        return { de: `${slug} (${did}) ist im Vertrauensregister nicht als prüfende Stelle eingetragen.`, en: `${slug} (${did}) is not registered as a verifier in the trust registry.` };
      }
      for (const t of templates.values()) {
        const r = refusalOf(ix, did, t.parsed, deps.clock(), 'templates');
        if (r) return refusalText(slug, t.id, r);
      }
      return null;
    };
    let settled = false;
    try {
      settled = evaluate(index) === null;
    } catch (e) {
      // A type the cached snapshot does not know yet may have just been registered: decide on a fresh one.
      if (!(e instanceof ProblemError)) throw e;
    }
    if (!settled) {
      try {
        index = await deps.trust.refresh();
      } catch {
        throw REGISTRY_UNAVAILABLE();
      }
      const refusal = evaluate(index);
      if (refusal) throw notAuthorizedByRegistry(refusal);
    }
  }
  // A new relying party gets its did:web and request-signing key before its row exists, so any
  // process that sees the row finds the key.
  await deps.catalog.identityFor(slug);
  const out = await deps.catalog.store.put('relying-party', slug, jcs(def), { actor, at: toIso(deps.clock()) });
  if (out.changed || !deps.catalog.rps.has(slug)) await deps.catalog.refresh();
  return { ...out, relying_party: def, did };
}
