import type { IssuerDeps, Office } from './deps.ts';
import { createServerNonce, validServerNonce } from './oauth/dpop.ts';

/**
 * The c_nonce of the Nonce Endpoint (OID4VCI 1.0 §7) without a write: `<expiry>.<random>.<HMAC>`
 * under the issuer's code key, bound to the office and to this purpose (a DPoP nonce or an
 * attestation challenge never passes as a c_nonce, nor the other way round). Issue 16: the nonce
 * endpoint was one INSERT per issuance and the credential endpoint one DELETE; now the endpoint
 * writes nothing and the credential endpoint's one INSERT of the used nonce (primary key) keeps it
 * single use across workers and instances, as before.
 */
const PURPOSE = 'c-nonce';

export function createCNonce(deps: Pick<IssuerDeps, 'codes' | 'clock' | 'settings'>, office: Office): string {
  return createServerNonce(deps, office, PURPOSE, deps.settings.nonceTtl);
}

/** True for exactly one caller: the nonce is ours, for this office, unexpired, and not used before. */
export async function consumeCNonce(deps: Pick<IssuerDeps, 'codes' | 'clock' | 'settings' | 'store'>, office: Office, nonce: string): Promise<boolean> {
  if (!validServerNonce(deps, office, PURPOSE, nonce, deps.settings.nonceTtl)) return false;
  const expiresAt = parseInt(nonce.slice(0, nonce.indexOf('.')), 36) * 1000;
  return deps.store.useNonce(nonce, office.slug, expiresAt);
}
