import type { CityConfig } from '../../core/catalog/model.ts';
import { ProblemError } from '../../core/http/errors.ts';
import type { VerifierDeps } from '../deps.ts';
import { putCredentialType, putRelyingParty } from './apply.ts';

export const SEED_ACTOR = 'seed:demo';

/**
 * Demo mode: on first start (empty catalogue) the verifier applies its part of a city configuration
 * (credential types and relying parties) through the same code path as the admin API. A catalogue
 * that has anything in it is never touched, so later changes survive restarts. Returns how many
 * items were stored.
 */
export async function seedCatalog(deps: Pick<VerifierDeps, 'catalog' | 'trust' | 'clock' | 'logger'>, city: CityConfig): Promise<number> {
  if (!(await deps.catalog.store.isEmpty())) return 0;
  let n = 0;
  for (const t of city.credential_types) if ((await putCredentialType(deps, t.id, t, SEED_ACTOR)).changed) n++;
  for (const rp of city.relying_parties) {
    try {
      if ((await putRelyingParty(deps, rp.slug, rp, SEED_ACTOR, { onRegistryUnreachable: 'store' })).changed) n++;
    } catch (e) {
      // A relying party the registry refuses is left out (the registry is the source of truth), not a failed start.
      if (!(e instanceof ProblemError)) throw e;
      deps.logger.warn({ relying_party: rp.slug, problem: e.code }, 'demo seed: relying party not stored');
    }
  }
  return n;
}
