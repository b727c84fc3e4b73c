import { randomBytes } from 'node:crypto';
import express, { type Express } from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { accountBySub, checkLogin } from './accounts.ts';
import { loginPage } from './login-page.ts';

export interface DemoIdpOptions {
  /** The IdP's public URL (its OIDC issuer identifier). */
  issuer: string;
  /** The issuer service as a confidential client (client_secret_basic) with PKCE. */
  client: { clientId: string; clientSecret: string; redirectUris: string[] };
}

/**
 * DEMO ONLY: a real OpenID Connect provider (oidc-provider 9) with fictional citizens, so that the
 * self-service flow runs end to end without a city's identity provider. Authorization code flow
 * with PKCE required (RFC 7636), ES256 ID tokens, the claims `given_name`, `family_name`,
 * `birthdate` (scope `profile`) and `address` (scope `address`, OIDC Core §5.4). Its own login page;
 * oidc-provider's development interactions are off. Keys, sessions and grants live in memory only.
 */
export async function createDemoIdp(opts: DemoIdpOptions): Promise<Express> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: randomBytes(8).toString('hex') };
  const formTargets = [...new Set(opts.client.redirectUris.map((u) => new URL(u).origin))].join(' ');

  const provider = new Provider(opts.issuer, {
    clients: [
      {
        client_id: opts.client.clientId,
        client_secret: opts.client.clientSecret,
        redirect_uris: opts.client.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'profile', 'address'],
    claims: { openid: ['sub'], profile: ['given_name', 'family_name', 'birthdate'], address: ['address'] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'], userinfoSigningAlgValues: ['ES256'], requestObjectSigningAlgValues: ['ES256'] },
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, sub: string) => {
      const a = accountBySub(sub);
      return a ? { accountId: sub, claims: async () => ({ ...a.claims }) } : undefined;
    },
  });
  provider.on('server_error', (_ctx: unknown, err: unknown) => console.error(`demo-idp: server error (${(err as Error)?.name ?? 'unknown'})`));

  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  const html = (res: express.Response, body: string, status = 200) => {
    res.status(status);
    res.setHeader('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${formTargets}; frame-ancestors 'none'; base-uri 'none'`);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(body);
  };

  app.get('/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') return html(res, loginPage(details.uid, false));
      // Consent: the issuer is the city's own service; the citizen consents by starting the
      // self-service in the wallet, so the grant covers what the issuer asked for.
      const accountId = details.session?.accountId;
      if (!accountId) return html(res, loginPage(details.uid, false));
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      if (!grant) throw new Error('grant not found');
      const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    } catch (e) {
      next(e);
    }
  });

  app.post('/interaction/:uid/login', express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }), async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name !== 'login') return html(res, loginPage(details.uid, true), 400);
      const account = checkLogin(req.body?.username, req.body?.password);
      if (!account) return html(res, loginPage(details.uid, true), 401);
      await provider.interactionFinished(req, res, { login: { accountId: account.claims.sub } }, { mergeWithLastSubmission: false });
    } catch (e) {
      next(e);
    }
  });

  app.use(provider.callback());
  // Interactions that expired or never existed: a plain page, no stack trace.
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    void _next;
    console.error(`demo-idp: ${(err as Error)?.name ?? 'error'}`);
    html(res, '<!doctype html><meta charset="utf-8"><title>Fehler / Error</title><p lang="de">Die Anmeldung ist abgelaufen. Bitte beginnen Sie neu.</p><p lang="en">The login has expired. Please start again.</p>', 400);
  });
  return app;
}
