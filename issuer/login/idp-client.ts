import * as oidc from 'openid-client';
import type { OidcSettings } from '../deps.ts';

/**
 * The issuer as an OpenID Connect relying party of the city's identity provider (openid-client):
 * authorization code flow with PKCE S256, `state` and `nonce` (OIDC Core §3.1.2.1, RFC 7636), the
 * ID token validated by openid-client (signature from the IdP's JWKS, iss, aud, exp, nonce; OIDC
 * Core §3.1.3.7), the claims from the ID token and the UserInfo endpoint (§5.3, `sub` must match).
 * Discovery (OIDC Discovery §4) happens on first use and is retried after a failure, so the issuer
 * starts even while the IdP is not up yet.
 */
export const LOGIN_SCOPE = 'openid profile address';

export class IdpClient {
  private config: Promise<oidc.Configuration> | undefined;

  constructor(private readonly settings: OidcSettings) {}

  private configuration(): Promise<oidc.Configuration> {
    if (!this.config) {
      const url = new URL(this.settings.issuer);
      // Plain http only for a loopback IdP (issuer/config.ts refuses it elsewhere and in production).
      const insecure = url.protocol === 'http:';
      this.config = oidc.discovery(url, this.settings.clientId, { id_token_signed_response_alg: 'ES256' }, oidc.ClientSecretBasic(this.settings.clientSecret), { timeout: 10, ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) });
      this.config.catch(() => (this.config = undefined));
    }
    return this.config;
  }

  /** The IdP's authorization URL and the secrets this login needs at the callback. */
  async start(redirectUri: string): Promise<{ url: string; state: string; nonce: string; codeVerifier: string }> {
    const config = await this.configuration();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: LOGIN_SCOPE,
      response_type: 'code',
      // OpenID Connect Core §3.1.2.1: always a fresh login. A citizen applying on a shared device (a
      // family computer, a kiosk in the Bürgerbüro) must never receive a document in the name of
      // whoever logged in at the city IdP before, through that person's IdP session.
      prompt: 'login',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state, nonce, codeVerifier };
  }

  /** Redeems the IdP's code (`callbackUrl` built from our public URL) and returns the login's claims: ID token, then UserInfo. */
  async finish(callbackUrl: URL, s: { state: string; nonce: string; codeVerifier: string }): Promise<Record<string, unknown>> {
    const config = await this.configuration();
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: s.codeVerifier, expectedState: s.state, expectedNonce: s.nonce, idTokenExpected: true });
    const idClaims = tokens.claims();
    if (!idClaims) throw new Error('no ID token');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    return { ...(idClaims as Record<string, unknown>), ...(userinfo as Record<string, unknown>) };
  }
}
