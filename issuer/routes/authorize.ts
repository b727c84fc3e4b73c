import { Router, type Request, type Response } from 'express';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { authorizationCodeGrantIdentifier, pushedAuthorizationRequestUriPrefix } from '@openid4vc/oauth2';
import type { IssuerMetadataResult } from '@openid4vc/openid4vci';
import { publicCors } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import { setErrorStyle } from '../../core/http/error-exit.ts';
import type { I18nText } from '../../core/trust/model.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { IdpClient } from '../login/idp-client.ts';
import { MESSAGES, sendLoginError, sendSelfServicePage } from '../login/pages.ts';
import { AuthorizationStore, secretHash, type AuthorizationRow } from '../oauth/authorization-store.ts';
import { pushAuthorizationRequest } from '../oauth/par.ts';
import type { Libraries } from '../oid4vci-lib.ts';
import { protocolStep } from '../protocol-errors.ts';
import { createSelfServiceOffer, decideSelfService } from '../use-cases/self-service.ts';
import { requestLike } from './oid4vci.ts';

/** Minutes the citizen has to log in at the IdP after the wallet opened the authorization URL. */
const LOGIN_TTL_MS = 10 * 60_000;
/** RFC 6749 §4.1.2: "a maximum authorization code lifetime of 10 minutes is RECOMMENDED"; wallets redeem at once. */
export const CODE_TTL_MS = 60_000;
const COOKIE = 'idideal_login';


const cookieOf = (req: Request, name: string): string | undefined => {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
};
const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const str = (v: unknown, max = 2000) => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined);

/**
 * Self-service issuance (issue 17, HAIP 1.0 authorization code flow): the office's credential offer
 * with an `authorization_code` grant, PAR (RFC 9126), the authorization endpoint that sends the
 * citizen's browser to the city's identity provider, and the login callback that applies the
 * office's rule, creates the offer and returns an authorization code to the wallet (RFC 6749
 * §4.1.2, with `iss`, RFC 9207). The token endpoint (issuer/use-cases/exchange-authorization-code.ts)
 * and the credential endpoint are the OID4VCI ones.
 */
export function authorizeRoutes(deps: IssuerDeps, libs: Libraries, metadata: Map<string, { result: IssuerMetadataResult }>): Router {
  const r = Router();
  const idp = deps.oidc ? new IdpClient(deps.oidc) : undefined;
  const store = new AuthorizationStore(deps.store.ds);
  const office = (slug: unknown): Office => {
    const o = deps.offices.get(String(slug));
    if (!o) throw notFound('unknown-office', 'No office at this path.');
    return o;
  };
  const callbackUrl = (o: Office) => `${o.issuerId}/login/callback`;
  const offerUrl = (o: Office, configuration: string) => `${o.issuerId}/self-service/credential-offers/${configuration}`;
  const cookiePath = (o: Office) => new URL(`${o.issuerId}/login`).pathname;
  const secure = deps.publicUrl.startsWith('https:') ? '; Secure' : '';

  // OID4VCI 1.0 §4.1.1: an offer with the authorization_code grant, the same for every citizen (no issuer_state).
  r.get('/offices/:slug/self-service/credential-offers/:configuration', publicCors, async (req, res) => {
    const o = office(req.params.slug);
    const id = String(req.params.configuration);
    if (!o.selfService?.configurations.includes(id) || !o.configurations.has(id)) throw notFound('unknown-offer', 'This office offers no self-service for this credential.');
    const { credentialOfferObject } = await protocolStep(() =>
      libs.issuer.createCredentialOffer({ issuerMetadata: metadata.get(o.slug)!.result, credentialConfigurationIds: [id], grants: { [authorizationCodeGrantIdentifier]: {} }, credentialOfferUri: offerUrl(o, id) }),
    );
    res.setHeader('Cache-Control', 'no-store');
    res.json(credentialOfferObject);
  });

  // The office's self-service page for citizens (German and English): one wallet link per configuration.
  r.get('/offices/:slug/self-service', (req, res) => {
    const o = office(req.params.slug);
    if (!o.selfService) return sendLoginError(res, 404, MESSAGES.noSelfService);
    const offers = o.selfService.configurations
      .map((id) => o.configurations.get(id))
      .filter((c) => c !== undefined)
      .map((c) => ({ name: c.type.name, offer: `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(offerUrl(o, c.id))}` }));
    sendSelfServicePage(res, o.name, offers);
  });

  // RFC 9126 §2: pushed authorization request (form body), answered 201 with a request_uri.
  r.post('/offices/:slug/par', (_req, res, next) => {
    setErrorStyle(res, 'oauth');
    res.setHeader('Cache-Control', 'no-store');
    next();
  }, async (req, res) => {
    const o = office(req.params.slug);
    res.status(201).json(await pushAuthorizationRequest(deps, libs, o, requestLike(deps.publicUrl, { method: req.method, url: req.originalUrl, headers: req.headers }), req.body));
  });

  // RFC 9126 §4: the authorization endpoint takes only client_id and the request_uri.
  r.get('/offices/:slug/authorize', async (req, res) => {
    const o = office(req.params.slug);
    if (!o.selfService || !idp) return sendLoginError(res, 404, MESSAGES.noSelfService);
    const requestUri = str(req.query.request_uri, 200);
    const clientId = str(req.query.client_id, 200);
    if (!requestUri?.startsWith(pushedAuthorizationRequestUriPrefix) || !clientId) return sendLoginError(res, 400, MESSAGES.requestUnknown);
    const now = deps.clock();
    const row = await store.byRequestUri(o.slug, secretHash(requestUri.slice(pushedAuthorizationRequestUriPrefix.length)));
    // RFC 9126 §7.3: single use; §2.2 expires_in. A used or expired request_uri gets no redirect (RFC 6749 §4.1.2.1).
    if (!row || row.phase !== 'pushed' || row.expires_at <= now) return sendLoginError(res, 400, MESSAGES.requestUnknown);
    // RFC 9126 §4: "the authorization server MUST ... validate that the client_id ... matches".
    if (row.client_id !== clientId) return sendLoginError(res, 400, MESSAGES.clientMismatch);
    let login;
    try {
      login = await idp.start(callbackUrl(o));
    } catch (e) {
      deps.logger.warn({ err: { name: (e as Error).name }, office: o.slug }, 'identity provider unavailable');
      return sendLoginError(res, 503, MESSAGES.idpUnavailable);
    }
    // Login CSRF: the callback must come back to the browser that started the login (RFC 6749 §10.12).
    const browser = randomBytes(32).toString('base64url');
    const sealed = deps.sealer.seal(JSON.stringify({ state: login.state, nonce: login.nonce, codeVerifier: login.codeVerifier }), `login:${row.id}`);
    if (!(await store.startLogin(row.id, now, { browserHash: secretHash(browser), loginStateHash: secretHash(login.state), loginSealed: sealed, expiresAt: now + LOGIN_TTL_MS }))) return sendLoginError(res, 400, MESSAGES.requestUnknown);
    res.setHeader('Set-Cookie', `${COOKIE}=${browser}; Path=${cookiePath(o)}; HttpOnly; SameSite=Lax; Max-Age=${LOGIN_TTL_MS / 1000}${secure}`);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, login.url);
  });

  /** RFC 6749 §4.1.2 / §4.1.2.1 to the wallet's redirect_uri, with `iss` (RFC 9207 §2). */
  const toWallet = (res: Response, o: Office, row: AuthorizationRow, params: Record<string, string>) => {
    const url = new URL(row.redirect_uri);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    if (row.wallet_state !== null) url.searchParams.set('state', row.wallet_state);
    url.searchParams.set('iss', o.issuerId);
    res.setHeader('Set-Cookie', `${COOKIE}=; Path=${cookiePath(o)}; HttpOnly; SameSite=Lax; Max-Age=0${secure}`);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, url.href);
  };
  const refuse = async (res: Response, o: Office, row: AuthorizationRow, error: 'access_denied' | 'server_error', why: I18nText) => {
    await store.refuse(row.id);
    toWallet(res, o, row, { error, error_description: `${why.de} / ${why.en}` });
  };

  // The city IdP's answer (OIDC Core §3.1.2.5 / §3.1.2.6).
  r.get('/offices/:slug/login/callback', async (req, res) => {
    const o = office(req.params.slug);
    if (!o.selfService || !idp) return sendLoginError(res, 404, MESSAGES.noSelfService);
    const state = str(req.query.state, 200);
    const now = deps.clock();
    const row = state ? await store.byLoginState(o.slug, secretHash(state)) : null;
    if (!row || row.phase !== 'login' || row.expires_at <= now || !row.login_sealed) return sendLoginError(res, 400, MESSAGES.requestUnknown);
    const browser = cookieOf(req, COOKIE);
    if (!browser || !row.browser_hash || !sameHash(secretHash(browser), row.browser_hash)) return sendLoginError(res, 400, MESSAGES.otherBrowser);
    if (!(await store.claimCallback(row.id, now))) return sendLoginError(res, 400, MESSAGES.requestUnknown);

    if (req.query.error !== undefined) return refuse(res, o, row, 'access_denied', MESSAGES.cancelled);
    let login: Record<string, unknown>;
    try {
      const secrets = JSON.parse(deps.sealer.open(row.login_sealed, `login:${row.id}`)) as { state: string; nonce: string; codeVerifier: string };
      login = await idp.finish(new URL(req.originalUrl, deps.publicUrl), secrets);
    } catch (e) {
      deps.logger.warn({ err: { name: (e as Error).name }, office: o.slug }, 'self-service login could not be verified');
      return refuse(res, o, row, 'server_error', MESSAGES.loginFailed);
    }
    const configuration = o.configurations.get(row.configuration_id);
    if (!configuration || !o.selfService.configurations.includes(configuration.id)) return refuse(res, o, row, 'server_error', MESSAGES.noSelfService);
    const decision = decideSelfService(o.selfService, configuration, login, now);
    if (!decision.ok) {
      deps.logger.info({ office: o.slug, configuration: configuration.id }, 'self-service refused by the office rule');
      return refuse(res, o, row, 'access_denied', decision.refusal);
    }
    const offerId = await createSelfServiceOffer(deps, o, configuration, decision.claims);
    const code = randomBytes(32).toString('base64url');
    if (!(await store.issueCode(row.id, secretHash(code), offerId, deps.clock() + CODE_TTL_MS))) return sendLoginError(res, 400, MESSAGES.requestUnknown);
    toWallet(res, o, row, { code });
  });

  return r;
}

