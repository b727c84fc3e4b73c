import type { IssuerDeps, Office } from './deps.ts';
import { createServerNonce, validServerNonce } from './oauth/dpop.ts';
import type { UsedNonce } from './store/issuer-store.ts';

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

/**
 * The nonce as a row to mark used, if it is ours, for this office and unexpired (checked without the
 * database). Marking it used is the store's: IssuerStore.completeIssuance together with the
 * credentials it was spent on, or IssuerStore.useNonce on its own (a deferred issuance).
 */
export function checkCNonce(deps: Pick<IssuerDeps, 'codes' | 'clock' | 'settings'>, office: Office, nonce: string): UsedNonce | undefined {
  if (!validServerNonce(deps, office, PURPOSE, nonce, deps.settings.nonceTtl)) return undefined;
  return { value: nonce, office: office.slug, expiresAt: parseInt(nonce.slice(0, nonce.indexOf('.')), 36) * 1000 };
}
