import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SdJwtVcRecord } from '@credo-ts/core';
import { startStack, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/net.ts';
import { startDemoIdp, TestBrowser } from '../helpers/demo-idp.ts';
import { createCredoHolder, type CredoHolder } from '../helpers/credo/holder.ts';

/**
 * Self-service issuance (issue 17, HAIP 1.0): the authorization code flow with PAR (RFC 9126) and
 * PKCE S256 (RFC 7636), the citizen's login at the city's OpenID Connect provider (the real demo
 * IdP, oidc-provider, as its own process), the office's rule, and the credential from the login's
 * claims. Credo 0.6.3 is the wallet for the whole flow; the refusals are driven over plain HTTP.
 */

const OFFICE = 'buergerbuero';
const CONFIG = 'meldebescheinigung_sd_jwt';
const CLIENT = 'test-wallet';
const REDIRECT = 'https://wallet.example/cb';
const SECRET = 'c'.repeat(64); // the stack's KEY_ENCRYPTION_SECRET: the demo client secret is derived from it

describe('HAIP: authorization code flow with PAR and PKCE, login at the city IdP', () => {
  let stack: Stack;
  let idp: Awaited<ReturnType<typeof startDemoIdp>>;
  let holder: CredoHolder;
  let offset = 0;
  const base = () => `${stack.urls.issuer}/offices/${OFFICE}`;

  beforeAll(async () => {
    const idpPort = await freePort();
    stack = await startStack({ env: { IDP_PUBLIC_URL: `http://localhost:${idpPort}`, ISSUER_TRUST_MAX_AGE: '0' }, clock: () => Date.now() + offset });
    idp = await startDemoIdp({ port: idpPort, issuerUrl: stack.urls.issuer, keyEncryptionSecret: SECRET });
    holder = await createCredoHolder({ trustedCertificates: [readFileSync(join(stack.dataDir, 'city-ca', 'city-ca.pem'), 'utf8')] });
  }, 120_000);
  afterAll(async () => {
    await holder?.agent.shutdown();
    await idp?.stop();
    await stack?.close();
  });

  const par = async (overrides: Record<string, string | undefined> = {}, slug = OFFICE) => {
    const verifier = randomBytes(32).toString('base64url');
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: CLIENT,
      redirect_uri: REDIRECT,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      scope: CONFIG,
      state: `wallet-state-${randomBytes(4).toString('hex')}`,
      ...overrides,
    };
    const form = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const res = await fetch(`${stack.urls.issuer}/offices/${slug}/par`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
    return { status: res.status, body: (await res.json()) as { request_uri: string; expires_in: number; error?: string; error_description?: string }, verifier, state: form.state };
  };
  const authorizeUrl = (requestUri: string, clientId = CLIENT) => `${base()}/authorize?client_id=${encodeURIComponent(clientId)}&request_uri=${encodeURIComponent(requestUri)}`;
  const loginFor = async (username: string, password: string) => {
    const p = await par();
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const { walletRedirect } = await new TestBrowser().login(authorizeUrl(p.body.request_uri), REDIRECT, username, password);
    return { ...p, walletRedirect, code: walletRedirect.searchParams.get('code') };
  };
  const token = async (form: Record<string, string>) => {
    const res = await fetch(`${base()}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT, redirect_uri: REDIRECT, ...form }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const selfServiceOffers = async () => ((await (await stack.admin('issuer', '/api/audit')).json()) as { entries?: { action: string; details: unknown }[] } | { action: string; details: unknown }[]) as unknown;
  const countSelfServiceOffers = async () => {
    const audit = await selfServiceOffers();
    const entries = (Array.isArray(audit) ? audit : (audit as { entries: { action: string }[] }).entries) as { action: string; details: unknown }[];
    return entries.filter((e) => e.action === 'offer.self_service');
  };

  it('announces PAR (required), PKCE S256, the authorization_code grant and RFC 9207 iss for the self-service office only', async () => {
    const as = (await (await fetch(`${stack.urls.issuer}/.well-known/oauth-authorization-server/offices/${OFFICE}`)).json()) as Record<string, unknown>;
    expect(as).toMatchObject({
      authorization_endpoint: `${base()}/authorize`,
      pushed_authorization_request_endpoint: `${base()}/par`,
      require_pushed_authorization_requests: true,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(as.grant_types_supported).toContain('authorization_code');
    const other = (await (await fetch(`${stack.urls.issuer}/.well-known/oauth-authorization-server/offices/sozialamt`)).json()) as Record<string, unknown>;
    expect(other.authorization_endpoint).toBeUndefined();
    expect(other.grant_types_supported).not.toContain('authorization_code');
  });

  it('Credo: offer with authorization_code grant → PAR → login at the IdP → code → token → credential with the login claims', async () => {
    const api = holder.agent.modules.openid4vc.holder;
    const offerUri = `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(`${base()}/self-service/credential-offers/${CONFIG}`)}`;
    const resolvedCredentialOffer = await api.resolveCredentialOffer(offerUri);
    expect(resolvedCredentialOffer.credentialOfferPayload.grants).toHaveProperty('authorization_code');
    const auth = await api.resolveOpenId4VciAuthorizationRequest(resolvedCredentialOffer, { clientId: 'credo-wallet', redirectUri: REDIRECT });
    if (auth.authorizationFlow !== 'Oauth2Redirect') throw new Error(`unexpected flow ${auth.authorizationFlow}`);
    // Credo pushed the request (PAR is required): the authorization URL carries only client_id and request_uri.
    const authUrl = new URL(auth.authorizationRequestUrl);
    expect(authUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(authUrl.searchParams.get('code_challenge')).toBeNull();

    const before = (await countSelfServiceOffers()).length;
    const { walletRedirect, hops } = await new TestBrowser().login(auth.authorizationRequestUrl, REDIRECT, 'erika', 'demo-leipzig');
    // The browser went to the IdP and came back through the issuer's callback.
    expect(hops.some((h) => h.url.startsWith(idp.url))).toBe(true);
    expect(hops.some((h) => h.url.startsWith(`${base()}/login/callback`))).toBe(true);
    expect(walletRedirect.searchParams.get('iss')).toBe(base());
    const code = walletRedirect.searchParams.get('code');
    expect(code).toBeTruthy();

    const tokenResponse = await api.requestToken({ resolvedCredentialOffer, code: code!, clientId: 'credo-wallet', codeVerifier: auth.codeVerifier, redirectUri: REDIRECT, ...(auth.dpop ? { dpop: auth.dpop } : {}) });
    // The office's AS advertises DPoP (RFC 9449): Credo bound its PAR to a DPoP key, and the token to the same key.
    expect(auth.dpop).toBeDefined();
    expect(tokenResponse.accessTokenResponse.token_type).toBe('DPoP');
    const { credentials } = await api.requestCredentials({ resolvedCredentialOffer, ...tokenResponse, clientId: 'credo-wallet', credentialBindingResolver: holder.credentialBindingResolver });
    expect(credentials).toHaveLength(1);
    const record = credentials[0]!.record as SdJwtVcRecord;
    expect(record).toBeInstanceOf(SdJwtVcRecord);
    expect(record.firstCredential.prettyClaims).toMatchObject({
      vorname: 'Erika',
      familienname: 'Mustermann',
      geburtsdatum: '1990-04-01',
      anschrift: { strasse: 'Markt', hausnummer: '1', postleitzahl: '04109', ort: 'Leipzig' },
      wohnsitz_leipzig: true,
      alter_ueber_18: true,
    });
    // One offer row, audited without claims.
    const after = await countSelfServiceOffers();
    expect(after.length).toBe(before + 1);
    expect(JSON.stringify(after)).not.toMatch(/Erika|Mustermann|Markt/);
  });

  it('refuses the Dresden citizen by the office rule: access_denied with a German/English reason, no personal data, no offer', async () => {
    const before = (await countSelfServiceOffers()).length;
    const { walletRedirect, state } = await loginFor('jonas', 'demo-dresden');
    expect(walletRedirect.origin + walletRedirect.pathname).toBe(REDIRECT);
    expect(walletRedirect.searchParams.get('error')).toBe('access_denied');
    expect(walletRedirect.searchParams.get('code')).toBeNull();
    expect(walletRedirect.searchParams.get('state')).toBe(state);
    expect(walletRedirect.searchParams.get('iss')).toBe(base());
    const why = walletRedirect.searchParams.get('error_description')!;
    expect(why).toContain('Ihr Wohnsitz liegt nicht in Leipzig');
    expect(why).toContain('Your residence is not in Leipzig');
    expect(why).not.toMatch(/Dresden|Jonas|Beispiel|Prager|01069/);
    expect((await countSelfServiceOffers()).length).toBe(before);
  });

  it('a wrong PKCE verifier is invalid_grant, and the code is spent with it', async () => {
    const { code, verifier } = await loginFor('erika', 'demo-leipzig');
    const wrong = await token({ code: code!, code_verifier: randomBytes(32).toString('base64url') });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error: 'invalid_grant', id_ideal_reason: 'pkce_failed' });
    const late = await token({ code: code!, code_verifier: verifier });
    expect(late.body.error).toBe('invalid_grant');
  });

  it('a code works once: the second redemption is invalid_grant', async () => {
    const { code, verifier } = await loginFor('max', 'demo-leipzig');
    const first = await token({ code: code!, code_verifier: verifier });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.access_token).toBeTypeOf('string');
    const second = await token({ code: code!, code_verifier: verifier });
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ error: 'invalid_grant', id_ideal_reason: 'code_used' });
  });

  it('asks for a fresh login every time (prompt=login): a second citizen on the same browser is never logged in as the first', async () => {
    const browser = new TestBrowser();
    const first = await par();
    await browser.login(authorizeUrl(first.body.request_uri), REDIRECT, 'erika', 'demo-leipzig');
    // Erika's IdP session is still in this browser; the next application must stop at the login form.
    const second = await par();
    const again = await browser.follow(authorizeUrl(second.body.request_uri), REDIRECT);
    expect(again.final.location?.startsWith(REDIRECT) ?? false).toBe(false);
    expect(again.final.status).toBe(200);
    expect(again.final.body).toMatch(/<form method="post" action="/);
    expect(again.hops.some((h) => h.location && new URL(h.location).searchParams.get('prompt') === 'login')).toBe(true);
  });

  it('a redirect_uri other than the pushed one is refused at the token endpoint', async () => {
    const { code, verifier } = await loginFor('erika', 'demo-leipzig');
    const res = await token({ code: code!, code_verifier: verifier, redirect_uri: 'https://attacker.example/cb' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_grant', id_ideal_reason: 'redirect_uri_mismatch' });
  });

  it('an authorization bound to a DPoP key by dpop_jkt (RFC 9449 §10) is not redeemed without that key', async () => {
    const jkt = createHash('sha256').update('some other key').digest('base64url');
    const p = await par({ dpop_jkt: jkt });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const { walletRedirect } = await new TestBrowser().login(authorizeUrl(p.body.request_uri), REDIRECT, 'erika', 'demo-leipzig');
    const res = await token({ code: walletRedirect.searchParams.get('code')!, code_verifier: p.verifier });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
  });

  it('a request_uri works once, only for its client_id, and not after it expired', async () => {
    const browser = new TestBrowser();
    const p = await par();
    expect(p.body.expires_in).toBe(60);
    const wrongClient = await browser.request(authorizeUrl(p.body.request_uri, 'other-wallet'));
    expect(wrongClient.status).toBe(400);
    expect(wrongClient.location).toBeUndefined();
    const first = await browser.request(authorizeUrl(p.body.request_uri));
    expect(first.status).toBe(303);
    expect(first.location!.startsWith(idp.url)).toBe(true);
    const again = await browser.request(authorizeUrl(p.body.request_uri));
    expect(again.status).toBe(400);
    expect(again.location).toBeUndefined();
    expect(again.body).toContain('abgelaufen oder wurde schon benutzt');

    const q = await par();
    offset = 61_000;
    try {
      const expired = await browser.request(authorizeUrl(q.body.request_uri));
      expect(expired.status).toBe(400);
      expect(expired.location).toBeUndefined();
    } finally {
      offset = 0;
    }
  });

  it('the login callback must come back to the browser that started it', async () => {
    const p = await par();
    const started = await new TestBrowser().follow(authorizeUrl(p.body.request_uri), REDIRECT);
    expect(started.final.status).toBe(200); // the IdP's login page
    // Another browser (no login cookie) presenting a callback for this login is refused.
    const state = new URL(started.hops[0]!.location!).searchParams.get('state')!;
    const other = await new TestBrowser().request(`${base()}/login/callback?code=x&state=${encodeURIComponent(state)}`);
    expect(other.status).toBe(400);
    expect(other.location).toBeUndefined();
  });

  it('PAR refuses plain PKCE, unknown scopes, unsafe redirect URIs, authorization_details for another configuration and offices without self-service', async () => {
    expect((await par({ code_challenge_method: 'plain' })).body.error).toBe('invalid_request');
    expect((await par({ code_challenge_method: undefined })).body.error).toBe('invalid_request');
    expect((await par({ scope: 'leipzig_pass_sd_jwt' })).body.error).toBe('invalid_scope');
    expect((await par({ scope: undefined })).body.error).toBe('invalid_request');
    expect((await par({ redirect_uri: 'http://wallet.example/cb' })).body.error).toBe('invalid_request');
    expect((await par({ redirect_uri: 'javascript:alert(1)' })).body.error).toBe('invalid_request');
    // authorization_details itself: tests/haip/authorization-details.test.ts.
    expect((await par({ authorization_details: JSON.stringify([{ type: 'openid_credential', credential_configuration_id: 'leipzig_pass_sd_jwt' }]) })).body.error).toBe('invalid_authorization_details');
    const other = await par({ scope: 'leipzig_pass_sd_jwt' }, 'sozialamt');
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('invalid_request');
  });
});

describe('self-service configuration and mapping', () => {
  it('the catalogue refuses self_service naming a configuration the office does not offer, or a claim its type lacks', async () => {
    const { zCityConfig } = await import('../../core/catalog/model.ts');
    const { LEIPZIG } = await import('../../core/demo/leipzig.ts');
    const bad = structuredClone(LEIPZIG) as unknown as { offices: { slug: string; self_service?: { configurations: string[] } }[] };
    bad.offices.find((o) => o.slug === 'buergerbuero')!.self_service!.configurations = ['leipzig_pass_sd_jwt'];
    const r = zCityConfig.safeParse(bad);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('offers unknown configuration leipzig_pass_sd_jwt by self-service');
    const typo = structuredClone(LEIPZIG) as unknown as { offices: { slug: string; self_service?: { claims: Record<string, unknown> } }[] };
    typo.offices.find((o) => o.slug === 'buergerbuero')!.self_service!.claims['anschrift.strase'] = 'address.street_address';
    expect(JSON.stringify(zCityConfig.safeParse(typo).error?.issues)).toContain('self_service maps unknown claim anschrift.strase');
    expect(zCityConfig.safeParse(LEIPZIG).success).toBe(true);
  });

  it('splits an OIDC street_address into street and German house number', async () => {
    const { splitStreetAddress } = await import('../../issuer/use-cases/self-service.ts');
    expect(splitStreetAddress('Markt 1')).toEqual({ street: 'Markt', house_number: '1' });
    expect(splitStreetAddress('Karl-Liebknecht-Straße 12a')).toEqual({ street: 'Karl-Liebknecht-Straße', house_number: '12a' });
    expect(splitStreetAddress('Am Ring 12 - 14')).toEqual({ street: 'Am Ring', house_number: '12-14' });
    expect(splitStreetAddress('Straße des 17. Juni')).toEqual({ street: 'Straße des 17. Juni' });
  });
});
