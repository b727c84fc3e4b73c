import type { JWK } from 'jose';
import type { Oauth2AuthorizationServer, RequestLike } from '@openid4vc/oauth2';
import type { IssuerDeps, Office } from '../deps.ts';
import type { Libraries } from '../oid4vci-lib.ts';
import { verifyTokenRequestDpop } from './dpop.ts';
import { precheckAttestationChallenge, verifyWalletAttestation } from './wallet-attestation.ts';

/**
 * What binds a token request (or a pushed authorization request) to the wallet that sent it:
 * the DPoP key (RFC 9449) and the wallet attestation (OAuth Attestation-Based Client
 * Authentication), each checked here. Both grants (pre-authorized code and authorization code)
 * call this before they redeem their code, and put `dpopJwk` into the access token response.
 *
 * DPoP: issuer/oauth/dpop.ts (server nonces, jti once); wallet attestation: issuer/oauth/wallet-attestation.ts.
 *
 * The attested instance key (`cnf.jwk`) and the DPoP key may be equal or differ (HAIP 1.0 and
 * draft-ietf-oauth-attestation-based-client-auth-07 state no rule; unsure, see wallet-attestation.ts).
 * Both proofs arrive in one request, each verified, so the token binds to both: its `client_id` is the
 * attestation's `sub`, its `cnf.jkt` the DPoP key (RFC 9449 §6.1). Because the `sub` is shared by every
 * instance of a wallet (OID4VCI 1.0 §15.4.4), `attestationJkt` names the instance; a grant that spans two
 * requests (PAR, then the token request) can require the same instance in both.
 */
type ParseAccessTokenRequestResult = ReturnType<Oauth2AuthorizationServer['parseAccessTokenRequest']>;

export interface TokenRequestBinding {
  /** The DPoP proof's public key; the access token is then `token_type: DPoP` with `cnf.jkt`. */
  dpopJwk?: JWK;
  /** The wallet attestation's client (its `sub`) when one was presented and verified. */
  clientId?: string;
  /** RFC 7638 thumbprint of the attested instance key (`cnf.jwk`) when an attestation was verified. */
  attestationJkt?: string;
}

export async function checkTokenRequestBinding(deps: IssuerDeps, libs: Libraries, office: Office, request: RequestLike, _parsed: ParseAccessTokenRequestResult): Promise<TokenRequestBinding> {
  return bind(deps, libs, office, request);
}

/** The same checks for a pushed authorization request (RFC 9126 §2, RFC 9449 §10.1). */
export async function checkParBinding(deps: IssuerDeps, libs: Libraries, office: Office, request: RequestLike, _body: Record<string, unknown>): Promise<TokenRequestBinding> {
  return bind(deps, libs, office, request);
}

/**
 * DPoP (RFC 9449 §5: the proof's key binds the token), then the wallet attestation (client
 * authentication, `invalid_client`).
 * The library's parseAccessTokenRequest has already refused a malformed DPoP header and a lone
 * attestation header; both are checked again here, for PAR.
 */
async function bind(deps: IssuerDeps, libs: Libraries, office: Office, request: RequestLike): Promise<TokenRequestBinding> {
  // The attestation challenge first (stateless, nothing recorded): a `use_attestation_challenge` answer
  // must not burn the DPoP proof's jti. Then DPoP: a `use_dpop_nonce` answer (RFC 9449 §8) must not burn
  // the attestation PoP's jti, which the wallet's retry may send again.
  precheckAttestationChallenge(deps, office, request);
  const dpopJwk = await verifyTokenRequestDpop(deps, libs, office, request);
  const attestation = await verifyWalletAttestation(deps, office, request);
  return { ...(dpopJwk ? { dpopJwk } : {}), ...(attestation ? { clientId: attestation.clientId, attestationJkt: attestation.instanceJkt } : {}) };
}
