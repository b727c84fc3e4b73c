import type { RequestLike } from '@openid4vc/oauth2';
import type { IssuerMetadataResult } from '@openid4vc/openid4vci';
import type { JWK } from 'jose';
import { ProtocolError } from '../../core/http/errors.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import type { Libraries } from '../oid4vci-lib.ts';
import { protocolStep } from '../protocol-errors.ts';
import { authenticate, DEFERRED_INTERVAL, requireTrust, signAndRecord } from './issue-credential.ts';

/**
 * Deferred Credential Endpoint (OID4VCI 1.0 §9): the wallet polls with its access token and the
 * transaction_id. Until a clerk approves, 202 with the same transaction_id; then the credentials,
 * once (§9.1: the transaction_id is invalid after the credentials were returned).
 */
export async function collectDeferred(deps: IssuerDeps, libs: Libraries, office: Office, issuerMetadata: IssuerMetadataResult, request: RequestLike, body: unknown) {
  const offer = await authenticate(deps, libs, office, issuerMetadata, request);
  const { deferredCredentialRequest } = await protocolStep(() => libs.issuer.parseDeferredCredentialRequest({ deferredCredentialRequest: (body ?? {}) as Record<string, unknown> }));
  const transactionId = deferredCredentialRequest.transaction_id;
  const parked = await deps.store.findOfferByTransaction(deps.codes.transactionHash(transactionId));
  if (!parked || parked.id !== offer.id || parked.state !== 'deferred') throw new ProtocolError('invalid_transaction_id', 'The transaction_id is unknown or was already collected.');
  if (!parked.approved_at) {
    return { status: 202, body: await protocolStep(() => libs.issuer.createDeferredCredentialResponse({ transactionId, interval: DEFERRED_INTERVAL })) };
  }
  const configuration = office.configurations.get(parked.configuration_id)!;
  await requireTrust(deps, office, configuration);
  const credentials = await signAndRecord(deps, office, configuration, parked, JSON.parse(parked.holder_jwks ?? '[]') as JWK[]);
  return { status: 200, body: await protocolStep(() => libs.issuer.createDeferredCredentialResponse({ credentials })) };
}
