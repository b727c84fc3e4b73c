import { randomBytes, randomUUID } from 'node:crypto';
import type { OfferRow } from '../../issuer/store/schema.ts';

/** A pending offer row of the Bürgerbüro with a fresh id and fresh random code hashes, for store tests. */
export const pendingOffer = (over: Partial<OfferRow> = {}): OfferRow => ({
  id: randomUUID(),
  office: 'buergerbuero',
  configuration_id: 'meldebescheinigung_sd_jwt',
  claims_sealed: 'sealed',
  pre_auth_code_hash: randomBytes(32).toString('hex'),
  tx_code_hash: randomBytes(32).toString('hex'),
  tx_code_failures: 0,
  approval: 'auto',
  approved_at: null,
  state: 'pending',
  created_at: new Date().toISOString(),
  expires_at: Date.now() + 600_000,
  ...over,
});
