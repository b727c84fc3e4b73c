import type { CityConfig } from '../../core/catalog/model.ts';
import { putCredentialType, putOffice, type CatalogContext } from './catalog-changes.ts';

/**
 * Demo mode: on first start (an empty catalogue, revision 0) the issuer applies its part of the demo
 * city (core/demo/leipzig.city.yaml) through the same changes as the admin API. A catalogue that has
 * ever been changed is never overwritten on restart. The registry check is left out here only: at
 * first start the registry may not answer yet, and its own demo seed holds the grants for these
 * offices; every issuance still asks the registry (issuer/use-cases/issue-credential.ts requireTrust).
 * Concurrent first starts (workers, instances) are safe: each change compares and writes in one
 * transaction, so the second finds nothing to change.
 */
export async function seedDemoCatalog(ctx: CatalogContext, city: CityConfig): Promise<boolean> {
  if ((await ctx.store.revision()) !== 0) return false;
  for (const t of city.credential_types) await putCredentialType(ctx, t.id, t, 'seed:demo');
  for (const o of city.offices) await putOffice(ctx, o.slug, o, 'seed:demo', { registryCheck: false });
  return true;
}
