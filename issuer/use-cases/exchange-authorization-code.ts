import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { Oauth2AuthorizationServer, RequestLike } from '@openid4vc/oauth2';
import { ProtocolError } from '../../core/http/errors.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { AuthorizationStore, secretHash } from '../oauth/authorization-store.ts';
import { checkTokenRequestBinding } from '../oauth/client-binding.ts';
import { parseAuthorizationDetails, type AuthorizationDetail } from '../oauth/par.ts';
import type { Libraries } from '../oid4vci-lib.ts';
import { protocolStep } from '../protocol-errors.ts';

type Parsed = Awaited<ReturnType<Oauth2AuthorizationServer['parseAccessTokenRequest']>>;

/** RFC 6749 §5.2 invalid_grant with the `id_ideal_reason` extension member the pre-authorized grant uses (docs/contract.md). */
const invalidGrant = (d: string, reason: 'code_unknown' | 'code_used' | 'pkce_failed' | 'redirect_uri_mismatch' | 'client_mismatch' | 'offer_expired') => new ProtocolError('invalid_grant', d, 400, { extra: { id_ideal_reason: reason } });

/** RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge, compared in constant time. */
export function pkceS256Matches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/**
 * OID4VCI 1.0 §6.2: the `authorization_details` of the token response, one entry per granted entry
 * with its `credential_identifiers`. A credential identifier names the credential dataset the
 * login created (the offer row, one per authorization): an opaque random value, new for every token,
 * so it says nothing about the citizen or the office's rows. The access token carries the same
 * array as its `authorization_details` claim (RFC 9396 §9.1), so the credential endpoint needs no
 * lookup to map an identifier back to its configuration (issuer/credential-request.ts).
 */
export function grantCredentialIdentifiers(details: AuthorizationDetail[]): (AuthorizationDetail & { credential_identifiers: string[] })[] {
  return details.map((d) => ({ ...d, credential_identifiers: [randomBytes(16).toString('base64url')] }));
}

/**
 * The authorization details this token is for: those the PAR asked with (OID4VCI 1.0 §5.1.1), or
 * those the token request names (§6.1, RFC 9396 §6.1), which may only ask for what was authorized:
 * here the one configuration of the authorization, else `invalid_authorization_details`. Null when
 * neither used them (a `scope` request: the token response has no credential_identifiers, §6.2 OPTIONAL).
 * The pre-authorized code's token request (exchange-token.ts) passes no stored details and `selfService: false`.
 */
export function tokenAuthorizationDetails(office: Office, stored: string | null, configurationId: string, requested: unknown, opts: { selfService: boolean } = { selfService: true }): AuthorizationDetail[] | null {
  if (requested !== undefined) {
    if (typeof requested !== 'string' || requested.length > 10_000) throw new ProtocolError('invalid_authorization_details', 'authorization_details must be a JSON array (RFC 9396 §2).');
    const details = parseAuthorizationDetails(office, requested, opts);
    if (details.some((d) => d.credential_configuration_id !== configurationId)) throw new ProtocolError('invalid_authorization_details', 'authorization_details asks for a credential configuration this authorization does not cover (RFC 9396 §6.1).');
    return details;
  }
  return stored ? (JSON.parse(stored) as AuthorizationDetail[]) : null;
}

/**
 * Token endpoint, authorization code grant (RFC 6749 §4.1.3, OID4VCI 1.0 §6.1) for self-service:
 * after the wallet binding checks the code is spent (single use across instances: one conditional
 * UPDATE wins; a failed attempt spends it too), then client_id, redirect_uri (identical to the pushed ones), PKCE
 * (RFC 7636 §4.6) and the DPoP key the PAR was bound to (RFC 9449 §10) are checked; the access token
 * stands for the offer the login created, as a pre-authorized code's does.
 */
export async function exchangeAuthorizationCode(deps: IssuerDeps, libs: Libraries, office: Office, request: RequestLike, parsed: Parsed) {
  if (parsed.grant.grantType !== 'authorization_code') throw new ProtocolError('unsupported_grant_type', 'Expected the authorization_code grant.');
  const code = parsed.grant.code;
  if (typeof code !== 'string' || code.length === 0 || code.length > 200) throw invalidGrant('The authorization code is not valid.', 'code_unknown');
  const now = deps.clock();
  const store = new AuthorizationStore(deps.store.ds);
  const hash = secretHash(code);
  const row = await store.byCode(office.slug, hash);
  if (!row) throw invalidGrant('The authorization code is not valid.', 'code_unknown');
  // RFC 9449 §5 / attestation-based client authentication (client-binding.ts). Before the code is
  // spent: a `use_dpop_nonce` answer (RFC 9449 §8) must leave the code for the wallet's retry.
  const binding = await checkTokenRequestBinding(deps, libs, office, request, parsed);
  if (!(await store.redeem(office.slug, hash, now))) throw invalidGrant('The authorization code has already been used or has expired.', 'code_used');
  const body = parsed.accessTokenRequest as Record<string, unknown>;
  const clientId = binding.clientId ?? body.client_id;
  // RFC 6749 §4.1.3: a public client sends client_id; it must be the one the code was issued to.
  if (clientId !== row.client_id) throw invalidGrant('The authorization code was issued to another client.', 'client_mismatch');
  if (body.redirect_uri !== row.redirect_uri) throw invalidGrant('redirect_uri is not the one of the authorization request.', 'redirect_uri_mismatch');
  // RFC 7636 §4.1: 43-128 unreserved characters; §4.6: a mismatch is invalid_grant.
  const verifier = parsed.pkceCodeVerifier;
  if (typeof verifier !== 'string' || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !pkceS256Matches(verifier, row.code_challenge)) throw invalidGrant('The PKCE code_verifier does not match the code_challenge.', 'pkce_failed');
  if (row.dpop_jkt) {
    const jkt = binding.dpopJwk ? await calculateJwkThumbprint(binding.dpopJwk, 'sha256') : undefined;
    if (jkt !== row.dpop_jkt) throw new ProtocolError('invalid_dpop_proof', 'The authorization was bound to another DPoP key (RFC 9449 §10).');
  }

  const details = tokenAuthorizationDetails(office, row.authorization_details, row.configuration_id, body.authorization_details);

  const offer = row.offer_id ? await deps.store.getOffer(office.slug, row.offer_id) : null;
  if (!offer || offer.state !== 'pending' || offer.expires_at <= now) throw invalidGrant('The authorization has expired.', 'offer_expired');
  if (!(await deps.store.redeemCode(offer.id))) throw invalidGrant('The authorization code has already been used.', 'code_used');
  // §6.2: REQUIRED in the response when authorization_details were used in the authorization or token request.
  const granted = details ? grantCredentialIdentifiers(details) : undefined;

  return protocolStep(() =>
    libs.authorizationServer.createAccessTokenResponse({
      authorizationServer: office.issuerId,
      audience: office.issuerId,
      subject: offer.id,
      clientId: row.client_id,
      scope: offer.configuration_id,
      expiresInSeconds: deps.settings.accessTokenTtl,
      signer: { method: 'custom', alg: 'ES256', kid: office.identity.signer.kid },
      now: new Date(now),
      ...(binding.dpopJwk ? { dpop: { jwk: binding.dpopJwk as never } } : {}),
      additionalAccessTokenPayload: { credential_configuration_ids: [offer.configuration_id], ...(granted ? { authorization_details: granted } : {}) },
      ...(granted ? { additionalAccessTokenResponsePayload: { authorization_details: granted } } : {}),
    }),
  );
}
