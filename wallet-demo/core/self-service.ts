import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { authorizationCodeGrantIdentifier, getAuthorizationServerMetadataFromList, Oauth2ClientErrorResponseError, Oauth2ServerErrorResponseError, type AuthorizationServerMetadata } from '@openid4vc/oauth2';
import { determineAuthorizationServerForCredentialOffer, Openid4vciRetrieveCredentialsError, type CredentialOfferObject, type IssuerMetadataResult } from '@openid4vc/openid4vci';
import { oauth2Client, vciClient } from './protocol-clients.ts';
import { checkCredential, displayOf, type ReceiveResult } from './receive.ts';
import type { HolderKeyRecord, StoredCredential } from './store.ts';
import { fetchableUrl, newHolderKey, newId, publicJwk, WalletError, type WalletContext } from './wallet.ts';

/**
 * Online self-service issuance from the citizen's own wallet (issue 17, HAIP 1.0; docs/self-service.md):
 * the OID4VCI 1.0 authorization code flow (§3.4, §5) with PAR (RFC 9126), PKCE S256 (RFC 7636), DPoP
 * (RFC 9449) when the office's authorization server offers ES256 proofs, the citizen's login at the
 * city's identity provider in the browser, and the checks of the authorization response: `iss`
 * (RFC 9207 §2.4) and `state` (RFC 6749 §10.12) before the code or an error is looked at.
 *
 * Two steps, because a browser sits in between: startSelfService() pushes the request and returns the
 * authorization URL with everything needed later (PKCE verifier, DPoP key, state) in a
 * SelfServiceFlow that the caller keeps in memory; finishSelfService() takes the URL the browser
 * came back with, checks it and collects the credential. The web wallet keeps flows per session
 * (web/app.ts), the CLI in its own process (cli.ts). Nothing of a flow is written to disk.
 */

/** The wallet's client_id at the office (OID4VCI wallets are public clients; RFC 6749 §2.1). */
export const SELF_SERVICE_CLIENT_ID = 'id-ideal-demo-wallet';
/** As long as the office gives the citizen for the login (issuer/routes/authorize.ts LOGIN_TTL_MS). */
export const FLOW_TTL_MS = 10 * 60_000;
const COPIES = 3;

/** A demo office offering self-service, as listed in the web wallet (wallet-demo/main.ts reads the demo catalogue). */
export interface SelfServiceOffice {
  /** Credential Issuer Identifier (OID4VCI 1.0 §12.2.1), e.g. http://localhost:3001/offices/buergerbuero. */
  url: string;
  name: { de: string; en: string };
}

/** One authorization in progress. Held in memory only; `state` is its handle. */
export interface SelfServiceFlow {
  readonly state: string;
  readonly authorizationUrl: string;
  readonly credentialIssuer: string;
  readonly configurationId: string;
  readonly redirectUri: string;
  readonly clientId: string;
  readonly expiresAt: number;
  /** The office's name from its metadata (German / English), for the pages. */
  readonly officeName?: { de?: string; en?: string };
  readonly offer: CredentialOfferObject;
  readonly metadata: IssuerMetadataResult;
  readonly codeVerifier: string;
  /** The flow's own DPoP key (RFC 9449), never a holder key; dropped with the flow. */
  readonly dpop?: { key: HolderKeyRecord; nonce?: string };
}

export interface StartOptions {
  /** The office's Credential Issuer Identifier (wallet-initiated, OID4VCI 1.0 §3.5) … */
  office?: string;
  /** … or a credential offer (link or QR content) with an `authorization_code` grant (§4.1.1). */
  offer?: string;
  /** Which configuration, when the office offers more than one by self-service. */
  configurationId?: string;
  /** Where the office sends the browser back (https, or http on loopback: RFC 8252 §7.3). */
  redirectUri: string;
  clientId?: string;
}

// Our own words for every refusal (German / English), never a stack trace.
const MSG = {
  malformed: 'Das ist weder die Adresse eines Amts noch ein Angebot (openid-credential-offer://…). / This is neither an office address nor a credential offer.',
  unreachable: 'Das Amt ist nicht erreichbar oder seine Angaben sind ungültig. / The office cannot be reached or its metadata is invalid.',
  preAuthorized: 'Dieses Angebot wird mit dem Code aus dem Amt eingelöst („Nachweis empfangen“), nicht online. / This offer is redeemed with the code from the office (“Receive a credential”), not online.',
  noSelfService: 'Dieses Amt bietet keinen Online-Abruf an. / This office does not offer online self-service.',
  insecure: 'Das Amt bietet kein sicheres Anmeldeverfahren an (PAR und PKCE S256 fehlen). Die Wallet bricht ab. / The office does not offer a secure login procedure (PAR and PKCE S256 are missing). The wallet stops.',
  attestation:
    'Dieses Amt gibt Nachweise online nur an Wallets mit einer Bestätigung ihres Anbieters (Wallet-Attestierung) aus. Die Demo-Wallet hat keine solche Bestätigung. Bitte nutzen Sie eine zertifizierte Wallet oder lassen Sie den Nachweis im Amt ausstellen. / This office issues credentials online only to wallets attested by their provider (wallet attestation). The demo wallet has no such attestation. Please use a certified wallet or get the credential at the office.',
  parFailed: 'Das Amt hat den Antrag nicht angenommen. Bitte versuchen Sie es später noch einmal. / The office did not accept the application. Please try again later.',
  expired: 'Die Anmeldung hat zu lange gedauert oder ist schon abgeschlossen. Bitte beginnen Sie neu. / The login took too long or has already been completed. Please start again.',
  wrongResponse: 'Die Rückmeldung passt nicht zu diesem Antrag (state). Nichts wurde gespeichert. / The response does not belong to this application (state). Nothing was stored.',
  wrongIssuer: 'Die Rückmeldung stammt nicht von dem Amt, bei dem Sie sich angemeldet haben (iss). Nichts wurde gespeichert. / The response does not come from the office you logged in at (iss). Nothing was stored.',
  notCompleted: 'Die Anmeldung wurde nicht abgeschlossen. Nichts wurde gespeichert. / The login was not completed. Nothing was stored.',
  codeRefused: 'Das Amt hat die Anmeldung nicht mehr angenommen (abgelaufen oder schon eingelöst). Bitte beginnen Sie neu. / The office no longer accepted the login (expired or already used). Please start again.',
  deferred: 'Das Amt will den Nachweis erst später ausstellen; das unterstützt der Online-Abruf dieser Wallet nicht. / The office wants to issue the credential later; this wallet’s online self-service does not support that.',
} as const;

const BASE64URL_256 = /^[A-Za-z0-9_-]{43}$/;

/** Which authorization server of the office this offer is for (OID4VCI 1.0 §4.1.1 `authorization_server`). */
function authorizationServerOf(offer: CredentialOfferObject, metadata: IssuerMetadataResult): AuthorizationServerMetadata {
  const grant = offer.grants?.[authorizationCodeGrantIdentifier];
  const as = determineAuthorizationServerForCredentialOffer({ issuerMetadata: metadata, grantAuthorizationServer: grant?.authorization_server });
  return getAuthorizationServerMetadataFromList(metadata.authorizationServers, as);
}

/** A fresh P-256 key for DPoP proofs of this flow only (RFC 9449 §4.2: ES256). */
async function dpopKey(): Promise<HolderKeyRecord> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  return { id: await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! }), jwk };
}

/** The protocol client for this flow: it signs with the holder keys and with the flow's DPoP key. */
function clientFor(ctx: WalletContext, flow?: { dpop?: { key: HolderKeyRecord } }) {
  return vciClient(() => [...ctx.store.snapshot.keys, ...(flow?.dpop ? [flow.dpop.key] : [])]);
}

const dpopSigner = (k: HolderKeyRecord) => ({ method: 'jwk' as const, alg: 'ES256', publicJwk: publicJwk(k) as never });

/**
 * Step 1: resolve the office (or the offer), read its metadata, refuse what the demo wallet cannot do
 * (wallet attestation required) or what would not be safe (no PAR, no PKCE S256), push the
 * authorization request (RFC 9126 §2.1; with `scope` = the configuration's scope, OID4VCI 1.0
 * §5.1.2; bound to a DPoP key, RFC 9449 §10, retried once with the server's nonce, §8) and return
 * the authorization URL (RFC 9126 §4: only client_id and request_uri) to open in the browser.
 */
export async function startSelfService(ctx: WalletContext, opts: StartOptions): Promise<SelfServiceFlow> {
  const clientId = opts.clientId ?? SELF_SERVICE_CLIENT_ID;
  const client = clientFor(ctx);
  let offer: CredentialOfferObject;
  let metadata: IssuerMetadataResult;
  const office = opts.office?.trim();
  const offerUri = opts.offer?.trim();
  if (offerUri) {
    if (!/^(openid-credential-offer:\/\/|https?:\/\/)\S+$/.test(offerUri)) throw new WalletError('malformed_offer', MSG.malformed);
    try {
      offer = await client.resolveCredentialOffer(offerUri);
    } catch {
      throw new WalletError('malformed_offer', 'Das Angebot ist ungültig oder abgelaufen. / The offer is invalid or has expired.');
    }
    if (!offer.grants?.[authorizationCodeGrantIdentifier]) throw new WalletError('not_self_service', offer.grants?.['urn:ietf:params:oauth:grant-type:pre-authorized_code'] ? MSG.preAuthorized : MSG.noSelfService);
    if (!fetchableUrl(offer.credential_issuer, ctx.allowLocalHttp)) throw new WalletError('issuer_unreachable', MSG.unreachable);
    try {
      metadata = await client.resolveIssuerMetadata(offer.credential_issuer);
    } catch {
      throw new WalletError('issuer_unreachable', MSG.unreachable);
    }
  } else if (office) {
    if (!fetchableUrl(office, ctx.allowLocalHttp)) throw new WalletError('malformed_office', MSG.malformed);
    try {
      metadata = await client.resolveIssuerMetadata(office.replace(/\/+$/, ''));
    } catch {
      throw new WalletError('issuer_unreachable', MSG.unreachable);
    }
    offer = { credential_issuer: metadata.credentialIssuer.credential_issuer, credential_configuration_ids: [], grants: { [authorizationCodeGrantIdentifier]: {} } };
  } else {
    throw new WalletError('malformed_office', MSG.malformed);
  }

  let as: AuthorizationServerMetadata;
  try {
    as = authorizationServerOf(offer, metadata);
  } catch {
    throw new WalletError('issuer_unreachable', MSG.unreachable);
  }
  if (!as.authorization_endpoint || !(as.grant_types_supported ?? ['authorization_code']).includes('authorization_code')) throw new WalletError('no_self_service', MSG.noSelfService);
  // OAuth attestation-based client authentication: an office that accepts no other method (no `none`)
  // requires a wallet provider's attestation, which a demo wallet cannot have. Say so, do not fake one.
  const methods = as.token_endpoint_auth_methods_supported;
  if (methods && !methods.includes('none') && methods.includes('attest_jwt_client_auth')) throw new WalletError('wallet_attestation_required', MSG.attestation);
  // HAIP 1.0: PAR and PKCE S256 (RFC 9126 §5, RFC 7636 §4.2). Without them the wallet does not start.
  if (!as.pushed_authorization_request_endpoint || !as.code_challenge_methods_supported?.includes('S256')) throw new WalletError('insecure_issuer', MSG.insecure);
  for (const u of [as.authorization_endpoint, as.pushed_authorization_request_endpoint, as.token_endpoint]) if (!fetchableUrl(u, ctx.allowLocalHttp)) throw new WalletError('issuer_unreachable', MSG.unreachable);

  // Which configuration: from the offer, or the office's self-service ones (their scope is one the AS offers).
  const configurations = metadata.credentialIssuer.credential_configurations_supported as Record<string, { scope?: string; format?: string }>;
  const offered = offer.credential_configuration_ids.length > 0 ? offer.credential_configuration_ids : Object.keys(configurations).filter((id) => configurations[id]?.scope && (!Array.isArray(as.scopes_supported) || (as.scopes_supported as string[]).includes(configurations[id]!.scope!)));
  const configurationId = opts.configurationId ?? offered[0];
  if (!configurationId || !offered.includes(configurationId) || !configurations[configurationId]) throw new WalletError('no_self_service', MSG.noSelfService);
  const conf = configurations[configurationId]!;
  if (conf.format !== 'dc+sd-jwt' && conf.format !== 'jwt_vc_json') throw new WalletError('unsupported_format', `Format ${String(conf.format)} wird nicht unterstützt. / Format not supported.`);
  // OID4VCI 1.0 §5.1.2: the configuration's `scope`. (authorization_details, §5.1.1, is not used: docs/self-service.md.)
  if (!conf.scope) throw new WalletError('no_self_service', MSG.noSelfService);
  offer = { ...offer, credential_configuration_ids: [configurationId] };

  // RFC 9449: DPoP whenever the office's AS takes ES256 proofs (our offices always do; HAIP 1.0).
  const dpop = as.dpop_signing_alg_values_supported?.includes('ES256') ? { key: await dpopKey() } : undefined;
  const state = randomBytes(32).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const flowClient = oauth2Client(() => [...ctx.store.snapshot.keys, ...(dpop ? [dpop.key] : [])]);
  let url: string;
  let nonce: string | undefined;
  try {
    // RFC 9126 §2.1 via @openid4vc/oauth2: PAR whenever the AS has the endpoint, the DPoP proof retried
    // once with the server's nonce (RFC 9449 §8); `resource` names the Credential Issuer (OID4VCI 1.0 §5.1.3).
    const issuerState = offer.grants?.[authorizationCodeGrantIdentifier]?.issuer_state;
    const r = await flowClient.createAuthorizationRequestUrl({
      authorizationServerMetadata: as,
      clientId,
      redirectUri: opts.redirectUri,
      scope: conf.scope,
      state,
      resource: metadata.credentialIssuer.credential_issuer,
      pkceCodeVerifier: codeVerifier,
      ...(issuerState ? { additionalRequestPayload: { issuer_state: issuerState } } : {}),
      ...(dpop ? { dpop: { signer: dpopSigner(dpop.key) } } : {}),
    });
    if (r.pkce?.codeChallengeMethod !== 'S256') throw new WalletError('insecure_issuer', MSG.insecure);
    url = r.authorizationRequestUrl;
    nonce = r.dpop?.nonce;
  } catch (e) {
    if (e instanceof WalletError) throw e;
    if (e instanceof Oauth2ClientErrorResponseError && e.errorResponse.error === 'invalid_client') throw new WalletError('wallet_attestation_required', MSG.attestation);
    if (e instanceof Oauth2ClientErrorResponseError && e.errorResponse.error === 'invalid_scope') throw new WalletError('no_self_service', MSG.noSelfService);
    throw new WalletError('par_failed', MSG.parFailed);
  }
  const display = (metadata.credentialIssuer.display ?? []) as { name?: string; locale?: string }[];
  const officeName = { de: display.find((d) => d.locale?.startsWith('de'))?.name, en: display.find((d) => d.locale?.startsWith('en'))?.name };
  return {
    state,
    authorizationUrl: url,
    credentialIssuer: metadata.credentialIssuer.credential_issuer,
    configurationId,
    redirectUri: opts.redirectUri,
    clientId,
    expiresAt: ctx.clock() + FLOW_TTL_MS,
    officeName,
    offer,
    metadata,
    codeVerifier,
    ...(dpop ? { dpop: { key: dpop.key, ...(nonce ? { nonce } : {}) } } : {}),
  };
}

/** Only printable text of bounded length from the office's `error_description` (RFC 6749 §4.1.2.1). */
const cleanText = (s: unknown) => (typeof s === 'string' ? s.replace(/[\p{Cc}\p{Cf}]/gu, ' ').trim().slice(0, 300) : '');

/** The office's refusal (`access_denied`), its reason in the citizen's language where it gave both ("de / en"). */
function refusal(description: unknown): WalletError {
  const text = cleanText(description);
  if (!text) return new WalletError('access_denied', 'Das Amt hat den Antrag abgelehnt. Nichts wurde gespeichert. / The office refused the application. Nothing was stored.');
  const [de, ...rest] = text.split(' / ');
  const en = rest.length ? rest.join(' / ') : de!;
  return new WalletError('access_denied', `Das Amt hat den Antrag abgelehnt: ${de!.replace(/ \/ /g, ' ')} / The office refused the application: ${en}`);
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The `state` of an authorization response URL, for finding its flow (undefined if malformed). */
export function stateOf(responseUrl: string): string | undefined {
  try {
    const s = new URL(responseUrl).searchParams.get('state') ?? undefined;
    return s && BASE64URL_256.test(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Step 2: the URL the office sent the browser back to. Checked before anything in it is used: it is
 * our redirect URI, `iss` names the office's authorization server (RFC 9207 §2.4; required where the
 * metadata says `authorization_response_iss_parameter_supported`), `state` is this flow's (RFC 6749
 * §10.12). Then an error (`access_denied`: the office's rule said no) or the code: redeemed with the
 * PKCE verifier and the DPoP key (RFC 7636 §4.5, RFC 9449 §5), the credential asked for in several
 * copies with fresh holder keys, each verified like a received one (receive.ts) and stored.
 * The caller drops the flow whatever the outcome: a flow is used once.
 */
export async function finishSelfService(ctx: WalletContext, flow: SelfServiceFlow, responseUrl: string, progress: (msg: string) => void = () => undefined): Promise<ReceiveResult> {
  if (ctx.clock() > flow.expiresAt) throw new WalletError('flow_expired', MSG.expired);
  let url: URL;
  try {
    url = new URL(responseUrl.trim());
  } catch {
    throw new WalletError('invalid_authorization_response', MSG.wrongResponse);
  }
  const expected = new URL(flow.redirectUri);
  if (url.origin !== expected.origin || url.pathname !== expected.pathname) throw new WalletError('invalid_authorization_response', MSG.wrongResponse);
  const as = authorizationServerOf(flow.offer, flow.metadata);
  const client = clientFor(ctx, flow);
  // RFC 9207 §2.4 first: a response from a mix-up attacker is not processed at all.
  let response: Record<string, unknown>;
  try {
    response = client.parseAndVerifyAuthorizationResponseRedirectUrl({ url: url.href, authorizationServerMetadata: as });
  } catch (e) {
    if (e instanceof Oauth2ServerErrorResponseError && /\biss\b/.test(e.errorResponse.error_description ?? '')) throw new WalletError('iss_mismatch', MSG.wrongIssuer);
    throw new WalletError('invalid_authorization_response', MSG.wrongResponse);
  }
  const iss = url.searchParams.getAll('iss');
  if (iss.length > 1 || (iss.length === 1 && iss[0] !== as.issuer)) throw new WalletError('iss_mismatch', MSG.wrongIssuer);
  const state = url.searchParams.getAll('state');
  if (state.length !== 1 || !same(state[0]!, flow.state)) throw new WalletError('state_mismatch', MSG.wrongResponse);

  if (typeof response.error === 'string') {
    if (response.error === 'access_denied') throw refusal(response.error_description);
    throw new WalletError('authorization_failed', MSG.notCompleted);
  }
  const code = response.code as string;

  progress('Anmeldung wird eingelöst … / Redeeming the login …');
  let accessToken: string;
  let dpop = flow.dpop ? { signer: dpopSigner(flow.dpop.key), ...(flow.dpop.nonce ? { nonce: flow.dpop.nonce } : {}) } : undefined;
  try {
    const r = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
      credentialOffer: flow.offer,
      issuerMetadata: flow.metadata,
      authorizationCode: code,
      pkceCodeVerifier: flow.codeVerifier,
      redirectUri: flow.redirectUri,
      // RFC 6749 §4.1.3: a public client names itself at the token endpoint.
      additionalRequestPayload: { client_id: flow.clientId },
      ...(dpop ? { dpop } : {}),
    });
    accessToken = r.accessTokenResponse.access_token;
    // RFC 9449 §7.1: a DPoP-bound token must be used with DPoP; a Bearer answer to a DPoP request is accepted as is.
    if (dpop && r.dpop) dpop = { ...dpop, ...(r.dpop.nonce ? { nonce: r.dpop.nonce } : {}) };
    if (r.accessTokenResponse.token_type?.toLowerCase() !== 'dpop') dpop = undefined;
  } catch (e) {
    if (e instanceof Oauth2ClientErrorResponseError && e.errorResponse.error === 'invalid_client') throw new WalletError('wallet_attestation_required', MSG.attestation);
    throw new WalletError('token_failed', MSG.codeRefused);
  }

  const configurationId = flow.configurationId;
  const conf = flow.metadata.credentialIssuer.credential_configurations_supported[configurationId] as { format?: string };
  const format = conf.format as 'dc+sd-jwt' | 'jwt_vc_json';
  const copies = Math.max(1, Math.min(COPIES, flow.metadata.credentialIssuer.batch_credential_issuance?.batch_size ?? 1));
  const holderKeys: HolderKeyRecord[] = [];
  for (let i = 0; i < copies; i++) holderKeys.push(await newHolderKey(ctx));
  const dropKeys = () => ctx.store.update((d) => (d.keys = d.keys.filter((k) => !holderKeys.some((h) => h.id === k.id))));
  progress(`Nachweis wird abgeholt (${copies} Kopien) … / Collecting the credential (${copies} copies) …`);
  const result: ReceiveResult = { credentials: [], warnings: [] };
  try {
    const issuingClient = clientFor(ctx, flow);
    const { c_nonce } = await issuingClient.requestNonce({ issuerMetadata: flow.metadata });
    const proofs: string[] = [];
    for (const k of holderKeys) proofs.push((await issuingClient.createCredentialRequestJwtProof({ issuerMetadata: flow.metadata, credentialConfigurationId: configurationId, signer: { method: 'jwk', alg: 'ES256', publicJwk: publicJwk(k) as never }, nonce: c_nonce })).jwt);
    let response;
    try {
      response = await issuingClient.retrieveCredentials({ issuerMetadata: flow.metadata, accessToken, credentialConfigurationId: configurationId, proofs: { jwt: proofs }, ...(dpop ? { dpop } : {}) });
    } catch (e) {
      const err = e instanceof Openid4vciRetrieveCredentialsError ? (e.response.credentialErrorResponseResult?.data as { error?: string } | undefined)?.error : undefined;
      throw new WalletError(err ?? 'credential_failed', `Das Amt hat den Nachweis nicht ausgestellt (${err ?? 'Fehler'}). / The office did not issue the credential.`);
    }
    if (response.credentialResponse.transaction_id) throw new WalletError('deferred_unsupported', MSG.deferred);
    const issued = (response.credentialResponse.credentials ?? []) as { credential: string }[];
    if (issued.length === 0) throw new WalletError('credential_failed', 'Das Amt hat keinen Nachweis geschickt. / The office sent no credential.');
    const group = newId();
    const display = displayOf(conf);
    // Every copy is verified before any is stored: one copy that fails means none is kept.
    const checked: StoredCredential[] = [];
    for (const [i, c] of issued.entries()) checked.push(await checkCredential(ctx, format, String(c.credential), holderKeys[i]?.id ?? holderKeys[0]!.id, group, result.warnings, display));
    ctx.store.update((d) => d.credentials.push(...checked));
    result.credentials.push(...checked);
  } catch (e) {
    dropKeys();
    if (e instanceof WalletError) throw e;
    throw new WalletError('credential_failed', 'Das Amt hat den Nachweis nicht ausgestellt. / The office did not issue the credential.');
  }
  // Keys of copies the office did not issue are of no use.
  const used = new Set(result.credentials.map((c) => c.keyId));
  if (holderKeys.some((k) => !used.has(k.id))) ctx.store.update((d) => (d.keys = d.keys.filter((k) => used.has(k.id) || !holderKeys.some((h) => h.id === k.id))));
  return result;
}
