import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createBaseApp, finish } from '../../core/http/app.ts';
import { createLogger } from '../../core/log/logger.ts';
import { closeServer, listen } from '../../core/service/run.ts';
import { walletRoutes } from '../../wallet-demo/web/app.ts';
import { axeViolations, chromiumAvailable, launchChromium } from '../helpers/browser.ts';
import { startDemoIdp } from '../helpers/demo-idp.ts';
import { freePort } from '../helpers/net.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';

/**
 * Online self-service in real Chromium (issue 17): the citizen opens the web wallet, chooses
 * "Online beantragen" at the Bürgerbüro, continues to the office's login, logs in at the demo IdP's
 * real login page (its own process), and comes back through the issuer to the wallet's redirect URI,
 * which ends with the Meldebescheinigung in the wallet. Then a Dresden citizen in English (refused by
 * the office's rule, the reason shown) and an office requiring wallet attestation (a clear message).
 * Screenshots go to test-artifacts/self-service/; axe-core runs on the wallet's pages.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'self-service');
const SECRET = 'c'.repeat(64); // the stack's KEY_ENCRYPTION_SECRET

describe.skipIf(!chromiumAvailable)('browser: online self-service in the web wallet', () => {
  let stack: Stack;
  let idp: Awaited<ReturnType<typeof startDemoIdp>>;
  let browser: Browser;
  let wallet: Page;
  let walletUrl: string;
  let closeWallet: () => Promise<void>;
  let step = 0;

  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    const [idpPort, walletPort] = [await freePort(), await freePort()];
    walletUrl = `http://localhost:${walletPort}`;
    stack = await startStack({ env: { IDP_PUBLIC_URL: `http://localhost:${idpPort}`, WALLET_PUBLIC_URL: walletUrl } });
    idp = await startDemoIdp({ port: idpPort, issuerUrl: stack.urls.issuer, keyEncryptionSecret: SECRET });
    // The web wallet as main.ts builds it in demo mode: the Bürgerbüro listed under "Online beantragen".
    const logger = createLogger('wallet-demo', process.env.TEST_LOG_LEVEL ?? 'silent');
    const app = createBaseApp({ logger });
    app.use(
      walletRoutes({
        dir: mkdtempSync(join(tmpdir(), 'idideal-webwallet-')),
        registryUrl: stack.urls.registry,
        allowLocalHttp: true,
        publicUrl: walletUrl,
        logger,
        selfServiceOffices: [{ url: `${stack.urls.issuer}/offices/buergerbuero`, name: { de: 'Bürgerbüro Leipzig', en: 'Leipzig Citizens’ Office' } }],
      }),
    );
    finish(app, logger);
    const { server } = await listen(app, '127.0.0.1', walletPort);
    closeWallet = () => closeServer(server);
    browser = await launchChromium();
    // bypassCSP lets the test inject axe-core; the pages keep their strict CSP otherwise.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 900 } });
    wallet = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await closeWallet?.();
    await idp?.stop();
    await stack?.close();
  });

  const shot = (name: string) => wallet.screenshot({ path: join(ARTIFACTS, `${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true });
  const axe = async () => expect(await axeViolations(wallet), `axe on ${wallet.url()}`).toEqual([]);
  const loginAtIdp = async (username: string, password: string) => {
    await wallet.waitForURL((u) => u.href.startsWith(idp.url));
    await shot(`idp-login-${username}`);
    await wallet.getByLabel('Benutzername / Username').fill(username);
    await wallet.getByLabel('Passwort / Password').fill(password);
    await wallet.getByRole('button', { name: 'Anmelden / Log in' }).click();
    await wallet.waitForURL((u) => u.href.startsWith(walletUrl));
  };
  const setOAuth = async (oauth: { require_dpop: boolean; require_wallet_attestation: boolean }) => {
    const catalog = (await (await stack.admin('issuer', '/api/catalog')).json()) as { offices: Record<string, unknown>[] };
    const def = catalog.offices.find((o) => o.slug === 'buergerbuero')!;
    const res = await fetch(`${stack.urls.issuer}/api/catalog/offices/buergerbuero`, { method: 'PUT', headers: { authorization: `Bearer ${TOKENS.issuer}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...def, oauth }) });
    expect(res.status).toBeLessThan(300);
  };

  it('Leipzig citizen: Online beantragen → login at the demo IdP → Meldebescheinigung in the wallet', async () => {
    await wallet.goto(walletUrl);
    await wallet.getByLabel(/Neue Passphrase/).fill('korrekt-pferd-batterie-heftklammer');
    await wallet.getByLabel('Passphrase wiederholen').fill('korrekt-pferd-batterie-heftklammer');
    await wallet.getByRole('button', { name: 'Wallet einrichten' }).click();
    await expect.poll(() => wallet.locator('h1').textContent()).toBe('Meine Wallet');
    expect(await wallet.locator('#h-apply').textContent()).toBe('Online beantragen');
    await axe();
    await shot('wallet-apply-online');

    await wallet.getByRole('button', { name: 'Online beantragen: Bürgerbüro Leipzig' }).click();
    await expect.poll(() => wallet.locator('h1').textContent()).toBe('Anmeldung beim Amt');
    expect(await wallet.locator('main').textContent()).toContain('Ihr Antrag ist bei „Bürgerbüro Leipzig“ eingegangen');
    await axe();
    await shot('wallet-continue-to-login');
    const link = wallet.getByRole('link', { name: 'Weiter zur Anmeldung' });
    // PAR (RFC 9126 §4): the link carries only client_id and request_uri.
    expect(await link.getAttribute('href')).toMatch(new RegExp(`^${stack.urls.issuer}/offices/buergerbuero/authorize\\?request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A[^&]+&client_id=[^&]+$`));
    await link.click();

    await loginAtIdp('erika', 'demo-leipzig');
    // Back at the wallet's redirect URI, which redeemed the code and shows the wallet.
    expect(new URL(wallet.url()).pathname).toBe('/self-service/callback');
    await expect.poll(() => wallet.getByRole('status').textContent()).toBe('Nachweis gespeichert: Meldebescheinigung');
    const card = wallet.locator('article');
    expect(await card.count()).toBe(1);
    const text = await card.textContent();
    expect(text).toContain('Bürgerbüro Leipzig');
    expect(text).toContain('Erika');
    expect(text).toContain('Markt 1, 04109 Leipzig');
    await axe();
    await shot('wallet-meldebescheinigung-stored');
  });

  it('Dresden citizen, in English: the office’s refusal and its reason are shown; nothing is stored', async () => {
    // Another browser: the demo IdP keeps its login session (single sign-on) per browser.
    wallet = await (await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 900 } })).newPage();
    await wallet.goto(`${walletUrl}/lang/en`);
    await wallet.getByLabel(/Wallet passphrase/).fill('korrekt-pferd-batterie-heftklammer');
    await wallet.getByRole('button', { name: 'Unlock' }).click();
    await expect.poll(() => wallet.locator('h1').textContent()).toBe('My wallet');
    await wallet.getByRole('button', { name: 'Apply online: Leipzig Citizens’ Office' }).click();
    await expect.poll(() => wallet.locator('h1').textContent()).toBe('Log in at the office');
    await wallet.getByRole('link', { name: 'Continue to the login' }).click();
    await loginAtIdp('jonas', 'demo-dresden');
    await expect.poll(() => wallet.getByRole('alert').textContent()).toBe('The office refused the application: Your residence is not in Leipzig.');
    expect(await wallet.locator('article').count()).toBe(1);
    expect(await wallet.locator('main').textContent()).not.toContain('Jonas');
    await axe();
    await shot('wallet-dresden-refused');
  });

  it('an office that requires wallet attestation: a clear message, no login started', async () => {
    await setOAuth({ require_dpop: false, require_wallet_attestation: true });
    try {
      await wallet.goto(`${walletUrl}/lang/de`);
      await wallet.getByRole('button', { name: 'Online beantragen: Bürgerbüro Leipzig' }).click();
      await expect.poll(() => wallet.getByRole('alert').textContent()).toContain('Die Demo-Wallet hat keine solche Bestätigung');
      expect(await wallet.locator('h1').textContent()).toBe('Meine Wallet');
      expect(await wallet.locator('main').textContent()).not.toMatch(/Error|at .*\.ts|stack/);
      await shot('wallet-attestation-required');
    } finally {
      await setOAuth({ require_dpop: false, require_wallet_attestation: false });
    }
  });
});
