import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestRow } from '../../verifier/store/schema.ts';

/** A pending presentation request of the Bürgerbüro with a fresh id, nonce and state, for store tests. */
export const pendingRequest = (over: Partial<RequestRow> = {}): RequestRow => {
  const now = Date.now();
  return {
    id: randomUUID(),
    rp: 'buergerbuero',
    nonce: randomBytes(24).toString('base64url'),
    state: randomBytes(24).toString('base64url'),
    dcql_query: '{}',
    response_mode: 'direct_post',
    enc_key_sealed: null,
    status: 'pending',
    result_sealed: null,
    created_at: new Date(now).toISOString(),
    expires_at: now + 300_000,
    result_expires_at: null,
    last_attempt: null,
    ...over,
  };
};
