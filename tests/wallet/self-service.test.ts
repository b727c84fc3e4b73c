import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VCT } from '../../core/demo/leipzig.ts';
import { finishSelfService, startSelfService, type SelfServiceFlow } from '../../wallet-demo/core/self-service.ts';
import { receive } from '../../wallet-demo/core/receive.ts';
import { openWallet, WalletError, type WalletContext } from '../../wallet-demo/core/wallet.ts';
import { startDemoIdp, TestBrowser } from '../helpers/demo-idp.ts';
import { freePort } from '../helpers/net.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';
import { createBaseApp, finish } from '../../core/http/app.ts';
import { createLogger } from '../../core/log/logger.ts';
import { closeServer, listen } from '../../core/service/run.ts';
import { walletRoutes } from '../../wallet-demo/web/app.ts';

/**
 * The citizen's own wallet does online self-service (issue 17, HAIP 1.0): the wallet core
 * (wallet-demo/core/self-service.ts) against the real issuer and the real demo IdP (its own process,
 * its real login form): PAR with PKCE S256 and DPoP, the login, the checks of the authorization
 * response (iss, RFC 9207; state), the code exchange and the credential. Then the CLI with its
 * loopback redirect URI (RFC 8252 §7.3) and with a pasted address.
 */
const SECRET = 'c'.repeat(64); // the stack's KEY_ENCRYPTION_SECRET: the demo IdP's client secret derives from it
const OFFICE = 'buergerbuero';

describe('wallet core: online self-service against the real issuer and demo IdP', { timeout: 120_000 }, () => {
  let stack: Stack;
  let idp: Awaited<ReturnType<typeof startDemoIdp>>;
  let ctx: WalletContext;
  let redirectUri: string;
  const office = () => `${stack.urls.issuer}/offices/${OFFICE}`;

  beforeAll(async () => {
    const idpPort = await freePort();
    stack = await startStack({ env: { IDP_PUBLIC_URL: `http://localhost:${idpPort}`, ISSUER_TRUST_MAX_AGE: '0' } });
    idp = await startDemoIdp({ port: idpPort, issuerUrl: stack.urls.issuer, keyEncryptionSecret: SECRET });
    ctx = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-selfservice-')), passphrase: 'korrekt-pferd-batterie', registryUrl: stack.urls.registry, allowLocalHttp: true });
    // Nothing listens here: the test's browser stops at the redirect and hands its URL to the wallet.
    redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  }, 120_000);
  afterAll(async () => {
    await idp?.stop();
    await stack?.close();
  });

  const setOAuth = async (oauth: { require_dpop: boolean; require_wallet_attestation: boolean }) => {
    const catalog = (await (await stack.admin('issuer', '/api/catalog')).json()) as { offices: Record<string, unknown>[] };
    const def = catalog.offices.find((o) => o.slug === OFFICE)!;
    const res = await fetch(`${stack.urls.issuer}/api/catalog/offices/${OFFICE}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKENS.issuer}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...def, oauth }) });
    expect(res.status, await res.text()).toBeLessThan(300);
  };
  const login = async (flow: SelfServiceFlow, user: string, password: string) => (await new TestBrowser().login(flow.authorizationUrl, redirectUri, user, password)).walletRedirect;
  const refusal = async (p: Promise<unknown>): Promise<WalletError> => {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(WalletError);
    return e as WalletError;
  };
  const count = () => ctx.store.snapshot.credentials.length;

  it('Leipzig citizen: office URL → PAR (PKCE S256, DPoP) → login at the demo IdP → iss and state checked → Meldebescheinigung stored', async () => {
    // The office requires DPoP (RFC 9449): a wallet without it would get no token.
    await setOAuth({ require_dpop: true, require_wallet_attestation: false });
    try {
      const flow = await startSelfService(ctx, { office: office(), redirectUri });
      // PAR (RFC 9126 §4): the authorization URL carries only client_id and the request_uri.
      const auth = new URL(flow.authorizationUrl);
      expect(auth.origin + auth.pathname).toBe(`${office()}/authorize`);
      expect([...auth.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
      expect(auth.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
      expect(flow.dpop).toBeDefined();
      expect(flow.configurationId).toBe('meldebescheinigung_sd_jwt');
      const back = await login(flow, 'erika', 'demo-leipzig');
      expect(back.searchParams.get('iss')).toBe(office());
      const before = count();
      const result = await finishSelfService(ctx, flow, back.href);
      expect(result.warnings).toEqual([]);
      expect(result.credentials.length).toBeGreaterThanOrEqual(1);
      const c = result.credentials[0]!;
      expect(c.type).toBe(VCT.meldebescheinigung);
      expect(c.issuer).toBe(stack.officeDid(OFFICE));
      expect(c.issuerName?.de).toBe('Bürgerbüro Leipzig');
      expect(c.claims).toMatchObject({ vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01', anschrift: { strasse: 'Markt', hausnummer: '1', postleitzahl: '04109', ort: 'Leipzig' }, wohnsitz_leipzig: true, alter_ueber_18: true });
      expect(count()).toBe(before + result.credentials.length);
      // Each copy is bound to its own holder key, none to the flow's DPoP key.
      expect(new Set(result.credentials.map((x) => x.keyId)).size).toBe(result.credentials.length);
      expect(result.credentials.map((x) => x.keyId)).not.toContain(flow.dpop!.key.id);
      // The same answer again: the code is spent at the office, nothing more is stored.
      expect((await refusal(finishSelfService(ctx, flow, back.href))).code).toBe('token_failed');
      expect(count()).toBe(before + result.credentials.length);
    } finally {
      await setOAuth({ require_dpop: false, require_wallet_attestation: false });
    }
  });

  it('takes the office’s credential offer with an authorization_code grant (OID4VCI 1.0 §4.1.1)', async () => {
    const offer = `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(`${office()}/self-service/credential-offers/meldebescheinigung_sd_jwt`)}`;
    // The pre-authorized receive path points the citizen to the online path instead of failing obscurely.
    expect((await refusal(receive(ctx, offer, undefined))).message).toContain('Online beantragen');
    const flow = await startSelfService(ctx, { offer, redirectUri });
    const result = await finishSelfService(ctx, flow, (await login(flow, 'max', 'demo-leipzig')).href);
    expect(result.credentials[0]!.claims).toMatchObject({ anschrift: { strasse: 'Karl-Liebknecht-Straße', hausnummer: '12a' }, alter_ueber_18: false });
  });

  it('refuses an answer whose iss names another issuer, or lacks iss (RFC 9207 §2.4): nothing stored', async () => {
    const flow = await startSelfService(ctx, { office: office(), redirectUri });
    const back = await login(flow, 'erika', 'demo-leipzig');
    const before = count();
    const other = new URL(back);
    other.searchParams.set('iss', `${stack.urls.issuer}/offices/sozialamt`);
    const wrong = await refusal(finishSelfService(ctx, flow, other.href));
    expect(wrong.code).toBe('iss_mismatch');
    expect(wrong.message).toContain('stammt nicht von dem Amt');
    const none = new URL(back);
    none.searchParams.delete('iss');
    expect((await refusal(finishSelfService(ctx, flow, none.href))).code).toBe('iss_mismatch');
    expect(count()).toBe(before);
  });

  it('refuses an answer with another state, without state, or for another flow: nothing stored', async () => {
    const flow = await startSelfService(ctx, { office: office(), redirectUri });
    const back = await login(flow, 'erika', 'demo-leipzig');
    const before = count();
    const wrong = new URL(back);
    wrong.searchParams.set('state', 'A'.repeat(43));
    expect((await refusal(finishSelfService(ctx, flow, wrong.href))).code).toBe('state_mismatch');
    const none = new URL(back);
    none.searchParams.delete('state');
    expect((await refusal(finishSelfService(ctx, flow, none.href))).code).toBe('state_mismatch');
    // An answer meant for one flow, offered to another (a login CSRF or a mix-up of tabs).
    const second = await startSelfService(ctx, { office: office(), redirectUri });
    expect((await refusal(finishSelfService(ctx, second, back.href))).code).toBe('state_mismatch');
    // Another redirect URI than the flow's.
    expect((await refusal(finishSelfService(ctx, flow, back.href.replace('/callback', '/elsewhere')))).code).toBe('invalid_authorization_response');
    expect(count()).toBe(before);
    // The untouched answer still works: the refusals above spent nothing at the office.
    expect((await finishSelfService(ctx, flow, back.href)).credentials.length).toBeGreaterThanOrEqual(1);
  });

  it('Dresden citizen: the office’s access_denied is shown with its German and English reason; nothing stored', async () => {
    const flow = await startSelfService(ctx, { office: office(), redirectUri });
    const back = await login(flow, 'jonas', 'demo-dresden');
    expect(back.searchParams.get('error')).toBe('access_denied');
    const before = count();
    const e = await refusal(finishSelfService(ctx, flow, back.href));
    expect(e.code).toBe('access_denied');
    expect(e.message).toBe('Das Amt hat den Antrag abgelehnt: Ihr Wohnsitz liegt nicht in Leipzig. / The office refused the application: Your residence is not in Leipzig.');
    expect(count()).toBe(before);
  });

  it('an office requiring wallet attestation gets a clear bilingual refusal before anything is sent; no office without self-service is started', async () => {
    await setOAuth({ require_dpop: false, require_wallet_attestation: true });
    try {
      const e = await refusal(startSelfService(ctx, { office: office(), redirectUri }));
      expect(e.code).toBe('wallet_attestation_required');
      expect(e.message).toContain('Wallet-Attestierung');
      expect(e.message).toContain('The demo wallet has no such attestation');
    } finally {
      await setOAuth({ require_dpop: false, require_wallet_attestation: false });
    }
    expect((await refusal(startSelfService(ctx, { office: `${stack.urls.issuer}/offices/sozialamt`, redirectUri }))).code).toBe('no_self_service');
    expect((await refusal(startSelfService(ctx, { office: 'ftp://example.org/x', redirectUri }))).code).toBe('malformed_office');
    const pre = (await (await stack.admin('issuer', '/api/offices/bibliothek/offers', { credential_configuration_id: 'bibliotheksausweis_sd_jwt', claims: { ausweisnummer: 'LSB-1', nutzergruppe: 'kind', gueltig_bis: '2030-01-01', vorname: 'A', familienname: 'B', geburtsdatum: '2018-01-01' } })).json()) as { credential_offer: string };
    expect((await refusal(startSelfService(ctx, { offer: pre.credential_offer, redirectUri }))).message).toContain('mit dem Code aus dem Amt');
  });

  it('does not start at an office without PAR or PKCE S256 (HAIP 1.0): nothing is sent to it', async () => {
    const posts: string[] = [];
    const port = await freePort();
    const base = `http://localhost:${port}`;
    const as = (withPar: boolean) => ({ issuer: base, token_endpoint: `${base}/token`, authorization_endpoint: `${base}/authorize`, response_types_supported: ['code'], grant_types_supported: ['authorization_code'], ...(withPar ? { pushed_authorization_request_endpoint: `${base}/par` } : {}), code_challenge_methods_supported: withPar ? ['plain'] : ['S256'] });
    let withPar = false;
    const server = createServer((req, res) => {
      if (req.method === 'POST') posts.push(req.url ?? '');
      const body =
        req.url === '/.well-known/openid-credential-issuer'
          ? { credential_issuer: base, credential_endpoint: `${base}/credential`, credential_configurations_supported: { x: { format: 'dc+sd-jwt', vct: 'urn:x', scope: 'x' } } }
          : req.url === '/.well-known/oauth-authorization-server'
            ? as(withPar)
            : undefined;
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
    });
    await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
    try {
      // No PAR endpoint (PKCE S256 offered) …
      expect((await refusal(startSelfService(ctx, { office: base, redirectUri }))).code).toBe('insecure_issuer');
      // … or PAR with PKCE `plain` only.
      withPar = true;
      expect((await refusal(startSelfService(ctx, { office: base, redirectUri }))).code).toBe('insecure_issuer');
      expect(posts).toEqual([]);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });

  describe('web wallet (HTTP): the redirect URI and its session', () => {
    let url: string;
    let close: () => Promise<void>;
    let cookie: string;
    beforeAll(async () => {
      const port = await freePort();
      url = `http://localhost:${port}`;
      const logger = createLogger('wallet-demo', process.env.TEST_LOG_LEVEL ?? 'silent');
      const app = createBaseApp({ logger });
      app.use(walletRoutes({ dir: mkdtempSync(join(tmpdir(), 'idideal-webwallet-')), registryUrl: stack.urls.registry, allowLocalHttp: true, publicUrl: url, logger, selfServiceOffices: [{ url: office(), name: { de: 'Bürgerbüro Leipzig', en: 'Leipzig Citizens’ Office' } }] }));
      finish(app, logger);
      const { server } = await listen(app, '127.0.0.1', port);
      close = () => closeServer(server);
      cookie = await unlock();
    });
    afterAll(() => close?.());

    const unlock = async () => {
      const res = await fetch(url + '/unlock', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams({ passphrase: 'korrekt-pferd-batterie', passphrase_repeat: 'korrekt-pferd-batterie' }), redirect: 'manual' });
      expect(res.status).toBe(303);
      return res.headers.getSetCookie().find((c) => c.startsWith('wallet_session='))!.split(';')[0]!;
    };
    const post = (path: string, form: Record<string, string>, session = cookie) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', cookie: session }, body: new URLSearchParams(form), redirect: 'manual' });
    /** Apply online, log in at the IdP: the URL the office sends the browser back to. */
    const applyAndLogin = async (user: string, password: string, session = cookie) => {
      const started = await post('/self-service/start', { office: office() }, session);
      expect(started.status).toBe(200);
      const href = /<a class="button" href="([^"]+)"/.exec(await started.text())![1]!.replace(/&amp;/g, '&');
      return (await new TestBrowser().login(href, `${url}/self-service/callback`, user, password)).walletRedirect;
    };

    it('without the session cookie (a redirect from another site) the callback asks for one click and shows nothing of the wallet', async () => {
      const back = await applyAndLogin('erika', 'demo-leipzig');
      const bare = await fetch(back);
      expect(bare.status).toBe(200);
      const html = await bare.text();
      expect(html).toContain('Zurück in Ihrer Wallet');
      expect(html).toContain('action="/self-service/callback"');
      expect(html).not.toMatch(/Erika|Meldebescheinigung|Noch keine Nachweise/);
      const done = await post('/self-service/callback', { response: back.href });
      expect(done.status).toBe(200);
      const home = await done.text();
      expect(home).toContain('Nachweis gespeichert: Meldebescheinigung');
      expect(home).toContain('Markt 1, 04109 Leipzig');
      // The flow is used once: the same answer again is unknown.
      const again = await fetch(back, { headers: { cookie } });
      expect(again.status).toBe(400);
      expect(await again.text()).toContain('Diesen Antrag kennt die Wallet nicht');
    });

    it('another browser’s session cannot finish the flow; tampered answers at the redirect URI are refused', async () => {
      const back = await applyAndLogin('max', 'demo-leipzig');
      const other = await unlock();
      const foreign = await fetch(back, { headers: { cookie: other } });
      expect(foreign.status).toBe(400);
      expect(await foreign.text()).toContain('in dem Browser ab, in dem Sie ihn begonnen haben');
      const tampered = new URL(back);
      tampered.searchParams.set('iss', `${stack.urls.issuer}/offices/sozialamt`);
      const refused = await fetch(tampered, { headers: { cookie } });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('stammt nicht von dem Amt');
      // Not listed here: the wallet starts nothing for an office it does not list.
      expect((await post('/self-service/start', { office: `${stack.urls.issuer}/offices/sozialamt` })).status).toBe(400);
      // An offer with the authorization_code grant pasted into "Nachweis empfangen" starts the same flow.
      const viaOffer = await post('/receive', { offer: `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(`${office()}/self-service/credential-offers/meldebescheinigung_sd_jwt`)}` });
      expect(viaOffer.status).toBe(200);
      expect(await viaOffer.text()).toContain('Weiter zur Anmeldung');
    });
  });

  describe('CLI', () => {
    let walletDir: string;
    beforeAll(() => {
      walletDir = mkdtempSync(join(tmpdir(), 'idideal-selfservice-cli-'));
    });
    const run = (args: string[]) => {
      const proc = spawn('npx', ['tsx', 'wallet-demo/cli.ts', ...args], { env: { ...process.env, WALLET_DIR: walletDir, WALLET_PASSPHRASE: 'korrekt-pferd-batterie', REGISTRY_PUBLIC_URL: stack.urls.registry }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      proc.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
      proc.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
      const exited = new Promise<number>((ok) => proc.once('exit', (code) => ok(code ?? 1)));
      const authUrl = async () => {
        for (let i = 0; i < 600 && !/\/authorize\?\S+/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
        return /(http:\/\/\S+\/authorize\?\S+)/.exec(out)?.[1] ?? `${out}\n${err}`;
      };
      return { proc, exited, authUrl, output: () => ({ out, err }) };
    };

    it('listens on a loopback redirect URI (RFC 8252 §7.3), takes the browser’s return and stores the credential', async () => {
      const cli = run(['self-service', office()]);
      const url = await cli.authUrl();
      expect(url).toMatch(/^http:\/\/localhost:\d+\/offices\/buergerbuero\/authorize\?/);
      const redirect = /the wallet waits for the return to (http:\/\/127\.0\.0\.1:\d+\/callback)/.exec(cli.output().out)![1]!;
      const back = (await new TestBrowser().login(url, redirect, 'erika', 'demo-leipzig')).walletRedirect;
      // A stray request to the listener does not end the wait.
      expect((await fetch(redirect.replace('/callback', '/favicon.ico'))).status).toBe(404);
      const page = await fetch(back);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Sie können dieses Fenster schließen');
      expect(await cli.exited, JSON.stringify(cli.output())).toBe(0);
      expect(cli.output().out).toContain('Bürgerbüro Leipzig gespeichert');
    });

    it('--paste: the citizen pastes the address; a Dresden login ends with the bilingual refusal and exit code 1', async () => {
      const cli = run(['self-service', office(), '--paste']);
      const url = await cli.authUrl();
      // The redirect URI is on loopback with a port nobody listens on; the test's browser stops there.
      const back = (await new TestBrowser().login(url, 'http://127.0.0.1:', 'jonas', 'demo-dresden')).walletRedirect;
      cli.proc.stdin.write(`${back.href}\n`);
      expect(await cli.exited).toBe(1);
      expect(cli.output().err).toContain('Ihr Wohnsitz liegt nicht in Leipzig');
      expect(cli.output().err).toContain('Your residence is not in Leipzig');
    });
  });
});
