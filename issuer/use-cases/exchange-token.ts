import { authorizationCodeGrantIdentifier, preAuthorizedCodeGrantIdentifier, type RequestLike } from '@openid4vc/oauth2';
import { ProtocolError } from '../../core/http/errors.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import type { Libraries } from '../oid4vci-lib.ts';
import { protocolStep } from '../protocol-errors.ts';
import { MAX_TX_CODE_FAILURES } from '../store/issuer-store.ts';
import type { OfferRow } from '../store/schema.ts';
import { sameHex } from './create-offer.ts';
import { exchangeAuthorizationCode, grantCredentialIdentifiers, tokenAuthorizationDetails } from './exchange-authorization-code.ts';
import { checkTokenRequestBinding } from '../oauth/client-binding.ts';

/**
 * RFC 6749 §5.2 `invalid_grant`, with two extension members (RFC 6749 §8.2; clients ignore unknown
 * members) so a wallet can tell the citizen in their own language what happened, without reading
 * our English `error_description`: `id_ideal_reason` and, for a wrong code, `attempts_remaining`.
 * Documented in docs/contract.md.
 */
type GrantReason = 'code_unknown' | 'offer_locked' | 'code_used' | 'offer_expired' | 'tx_code_wrong';
const invalidGrant = (d: string, reason: GrantReason, extra: Record<string, unknown> = {}) => new ProtocolError('invalid_grant', d, 400, { extra: { id_ideal_reason: reason, ...extra } });

/**
 * Token endpoint, pre-authorized code grant (OID4VCI 1.0 §6.1, RFC 6749 §5): find the offer by its
 * code, check expiry, lock and tx_code, redeem the code exactly once, answer with an access token
 * bound to the offer. A request that passes all of it is redeemed in one conditional UPDATE; any
 * other is read first and answered by what fails. No c_nonce here: 1.0 delivers it from the Nonce
 * Endpoint (§7).
 */
export async function exchangeToken(deps: Pick<IssuerDeps, 'store' | 'codes' | 'clock' | 'settings'>, libs: Libraries, office: Office, request: RequestLike, body: unknown) {
  const parsed = await protocolStep(() => libs.authorizationServer.parseAccessTokenRequest({ request, accessTokenRequest: (body ?? {}) as Record<string, unknown> }));
  // RFC 6749 §4.1.3: the authorization code grant of self-service logins (issue 17), in its own file.
  if (parsed.grant.grantType === authorizationCodeGrantIdentifier) return exchangeAuthorizationCode(deps as IssuerDeps, libs, office, request, parsed);
  if (parsed.grant.grantType !== preAuthorizedCodeGrantIdentifier) throw new ProtocolError('unsupported_grant_type', 'Only the pre-authorized code and authorization code grants are supported.');
  // RFC 9449 / wallet attestation (issuer/oauth/client-binding.ts): before the code is looked at, so a
  // `use_dpop_nonce` retry neither redeems nor counts anything.
  const binding = await checkTokenRequestBinding(deps as IssuerDeps, libs, office, request, parsed);
  const codeHash = deps.codes.codeHash(parsed.grant.preAuthorizedCode);
  const txCode = parsed.grant.txCode;
  const requestedDetails = ((body ?? {}) as Record<string, unknown>).authorization_details;
  // Computed once: the one-statement redemption and the check below both compare it.
  const txCodeHash = typeof txCode === 'string' && txCode.length > 0 && txCode.length <= 64 ? deps.codes.txCodeHash(codeHash, txCode) : undefined;

  // The usual request (a tx_code, no authorization_details): redeemed in one statement if all holds.
  // Otherwise, or if it did not hold, the checks below one by one, each with its own answer.
  if (txCodeHash && requestedDetails === undefined) {
    const redeemed = await deps.store.redeemCodeWithTxCode(office.slug, codeHash, txCodeHash, deps.clock());
    if (redeemed) return accessTokenResponse(deps, libs, office, redeemed, binding, undefined);
  }

  const offer = await deps.store.findOfferByCode(codeHash);
  if (!offer || offer.office !== office.slug) throw invalidGrant('The pre-authorized code is not valid.', 'code_unknown');
  if (offer.state === 'locked') throw invalidGrant('The offer is locked after too many wrong transaction codes.', 'offer_locked');
  if (offer.state !== 'pending') throw invalidGrant('The pre-authorized code has already been used.', 'code_used');
  if (offer.expires_at <= deps.clock()) throw invalidGrant('The offer has expired.', 'offer_expired');

  // §6.1: tx_code is REQUIRED when the offer announced one (ours always do).
  if (typeof txCode !== 'string' || txCode.length === 0) throw new ProtocolError('invalid_request', 'The transaction code (tx_code) is missing.');
  if (!txCodeHash || !(sameHex(txCodeHash, offer.tx_code_hash) || sameHex(deps.codes.legacyTxCodeHash(offer.id, txCode), offer.tx_code_hash))) {
    const failures = await deps.store.recordTxCodeFailure(offer.id);
    const left = Math.max(0, MAX_TX_CODE_FAILURES - failures);
    throw left > 0 ? invalidGrant(`The transaction code is wrong (${left} attempts left).`, 'tx_code_wrong', { attempts_remaining: left }) : invalidGrant('The transaction code is wrong; the offer is now locked.', 'offer_locked');
  }

  // OID4VCI 1.0 §6.1 / RFC 9396 §6.1: authorization_details in the token request may name only what the
  // offer grants, its one configuration; the response then carries credential_identifiers (§6.2). Checked
  // before the code is redeemed, so a malformed request spends nothing.
  const details = tokenAuthorizationDetails(office, null, offer.configuration_id, requestedDetails, { selfService: false });
  const granted = details ? grantCredentialIdentifiers(details) : undefined;

  // Single use across instances: exactly one conditional UPDATE succeeds (§4.1.1 "MUST be short lived and single use").
  if (!(await deps.store.redeemCode(offer.id))) throw invalidGrant('The pre-authorized code has already been used.', 'code_used');
  return accessTokenResponse(deps, libs, office, offer, binding, granted);
}

/** The access token of a redeemed offer (OID4VCI 1.0 §6.2), bound to the offer; DPoP-bound with a DPoP proof (RFC 9449 §5). */
function accessTokenResponse(
  deps: Pick<IssuerDeps, 'clock' | 'settings'>,
  libs: Libraries,
  office: Office,
  offer: Pick<OfferRow, 'id' | 'configuration_id' | 'approval'>,
  binding: Awaited<ReturnType<typeof checkTokenRequestBinding>>,
  granted: ReturnType<typeof grantCredentialIdentifiers> | undefined,
) {
  return protocolStep(() =>
    libs.authorizationServer.createAccessTokenResponse({
      authorizationServer: office.issuerId,
      audience: office.issuerId,
      subject: offer.id,
      expiresInSeconds: offer.approval === 'manual' ? deps.settings.deferredAccessTokenTtl : deps.settings.accessTokenTtl,
      signer: { method: 'custom', alg: 'ES256', kid: office.identity.signer.kid },
      now: new Date(deps.clock()),
      additionalAccessTokenPayload: { credential_configuration_ids: [offer.configuration_id], ...(granted ? { authorization_details: granted } : {}) },
      ...(granted ? { additionalAccessTokenResponsePayload: { authorization_details: granted } } : {}),
      // RFC 9449 §5: token_type DPoP, cnf.jkt = RFC 7638 thumbprint of the proof key.
      ...(binding.dpopJwk ? { dpop: { jwk: binding.dpopJwk as never } } : {}),
      ...(binding.clientId ? { clientId: binding.clientId } : {}),
    }),
  );
}

