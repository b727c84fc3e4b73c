import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { presentOverDcApi } from '../../wallet-demo/core/present-dc-api.ts';
import { receive } from '../../wallet-demo/core/receive.ts';
import { openWallet, type WalletContext } from '../../wallet-demo/core/wallet.ts';
import { axeViolations, chromiumAvailable, launchChromium } from '../helpers/browser.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';

/**
 * The counter page with the W3C Digital Credentials API (OID4VP 1.0 Appendix A), in real Chromium
 * against the real stack, under the page's own CSP.
 *
 * The test stands in for the platform's wallet picker: an init script defines
 * `navigator.credentials.get` (and `DigitalCredential` where Chromium lacks it) and hands the request
 * to the demo wallet core in Node (wallet-demo/core/present-dc-api.ts) through a Playwright binding,
 * with the Origin of the frame that called it, as the browser would report it to the platform. The
 * platform's own wallet selection, its consent dialogue and cross-device transport are out of scope.
 */
const CARD = { ausweisnummer: 'LSB-2026-0777', nutzergruppe: 'ermaessigt', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };

/** The platform stand-in: `navigator.credentials.get({ digital })` -> the Node wallet, or NotAllowedError when it says cancel. */
const PLATFORM = `(() => {
  if (typeof DigitalCredential === 'undefined') window.DigitalCredential = function DigitalCredential() {};
  const get = async (options) => {
    if (!options || !options.digital || !Array.isArray(options.digital.requests)) throw new DOMException('only digital credentials here', 'NotSupportedError');
    window.__dcAsked = options;
    const out = await window.__platformWallet(options.digital.requests[0]);
    if (out && out.cancel) throw new DOMException('The user cancelled.', 'NotAllowedError');
    return { type: 'digital', id: '', protocol: out.protocol, data: out.data };
  };
  Object.defineProperty(navigator.credentials, 'get', { value: get, configurable: true });
})();`;

/** A browser without the API: no DigitalCredential. */
const NO_API = `(() => { delete window.DigitalCredential; })();`;

describe.skipIf(!chromiumAvailable)('browser: the counter page with the Digital Credentials API', () => {
  let browser: Browser;
  let context: BrowserContext;
  let stack: Stack;
  let wallet: WalletContext;
  /** What the platform stand-in does next: answer with the wallet core, or cancel. */
  let mode: 'answer' | 'cancel' = 'answer';
  const origins: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0' } });
    wallet = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-dcapi-browser-')), passphrase: 'korrekt-pferd-batterie', registryUrl: stack.urls.registry, allowLocalHttp: true });
    const offer = await (await stack.admin('issuer', '/api/offices/bibliothek/offers', { credential_configuration_id: 'bibliotheksausweis_sd_jwt', claims: CARD })).json();
    await receive(wallet, offer.credential_offer, offer.tx_code);
    browser = await launchChromium();
    // No bypassCSP: the page runs under its own Content-Security-Policy.
    context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    await context.exposeBinding('__platformWallet', async (source, request: { protocol: string; data: unknown }) => {
      // The origin as the platform knows it: the calling frame's, not anything the page says.
      const origin = new URL(source.frame.url()).origin;
      origins.push(origin);
      if (mode === 'cancel') return { cancel: true };
      return { protocol: request.protocol, data: await presentOverDcApi(wallet, request, origin) };
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const counter = async (init: string, lang = '') => {
    const page = await context.newPage();
    await page.addInitScript({ content: init });
    const res = await page.goto(`${stack.urls.verifier}/verifiers/bibliothek/counter${lang}`);
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
    return page;
  };
  const start = async (page: Page) => {
    await page.locator('#token').fill(TOKENS.verifier);
    await page.locator('#template').selectOption('bibliotheksausweis');
    await page.locator('#start button[type=submit]').click();
    await page.locator('#qr[src^="blob:"]').waitFor();
  };

  it('offers “Mit einer Wallet auf diesem Gerät”, gets the wallet’s answer through navigator.credentials.get and shows the verdict', async () => {
    mode = 'answer';
    const page = await counter(PLATFORM);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await start(page);
    const button = page.getByRole('button', { name: 'Mit einer Wallet auf diesem Gerät' });
    await button.waitFor();
    expect(await page.locator('#qr').isVisible()).toBe(true);
    await button.click();
    await expect.poll(() => page.locator('#verdict-title').textContent(), { timeout: 15_000 }).toBe('Geprüft: gültig');
    expect(await page.locator('#verdict').getAttribute('class')).toBe('ok');
    expect(await page.locator('#verdict-body article > h3').textContent()).toBe('Bibliotheksausweis');
    expect(await page.locator('#verdict-body').textContent()).toContain('LSB-2026-0777');
    // What the page asked the platform for (OID4VP 1.0 Appendix A.3.1), and the origin the wallet saw.
    const asked = (await page.evaluate(() => (globalThis as unknown as { __dcAsked: unknown }).__dcAsked)) as { mediation: string; digital: { requests: { protocol: string; data: { request: string } }[] } };
    expect(asked.mediation).toBe('required');
    expect(asked.digital.requests).toHaveLength(1);
    expect(asked.digital.requests[0]!.protocol).toBe('openid4vp-v1-signed');
    expect(asked.digital.requests[0]!.data.request).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(origins.at(-1)).toBe(new URL(stack.urls.verifier).origin);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('cancelled in the wallet: says so in English and German, the QR code stays and still works', async () => {
    mode = 'cancel';
    const page = await counter(PLATFORM, '?lang=en');
    await start(page);
    await page.getByRole('button', { name: 'With a wallet on this device' }).click();
    await expect.poll(() => page.locator('#dcapi-msg').textContent()).toBe('Cancelled, or there is no suitable wallet on this device. The QR code still works.');
    expect(await page.locator('#qr').isVisible()).toBe(true);
    expect(await page.locator('#verdict').isHidden()).toBe(true);
    expect(await page.locator('#error').textContent()).toBe('');
    // The German page says the same in German.
    const de = await counter(PLATFORM);
    await start(de);
    await de.getByRole('button', { name: 'Mit einer Wallet auf diesem Gerät' }).click();
    await expect.poll(() => de.locator('#dcapi-msg').textContent()).toBe('Abgebrochen, oder auf diesem Gerät ist keine passende Wallet. Der QR-Code gilt weiter.');
    // Then the citizen answers after all: the button works again on the same request.
    mode = 'answer';
    await de.getByRole('button', { name: 'Mit einer Wallet auf diesem Gerät' }).click();
    await expect.poll(() => de.locator('#verdict-title').textContent(), { timeout: 15_000 }).toBe('Geprüft: gültig');
    await page.close();
    await de.close();
  }, 60_000);

  it('without the API the page is as before: no button, QR code and links; axe finds nothing', async () => {
    const page = await counter(NO_API);
    expect(await page.evaluate(() => typeof (globalThis as unknown as { DigitalCredential?: unknown }).DigitalCredential)).toBe('undefined');
    await start(page);
    expect(await page.locator('#qr').isVisible()).toBe(true);
    expect(await page.locator('#link').getAttribute('href')).toMatch(/^openid4vp:\/\//);
    // Give the page time in which it would have fetched a DC API request and shown the button.
    await page.waitForTimeout(500);
    expect(await page.locator('#dcapi-row').isHidden()).toBe(true);
    expect(await page.getByRole('button', { name: 'Mit einer Wallet auf diesem Gerät' }).count()).toBe(0);
    await page.close();
    // axe on the page with the button shown (axe is injected, so this context bypasses the CSP).
    const axeContext = await browser.newContext({ bypassCSP: true });
    await axeContext.exposeBinding('__platformWallet', async () => ({ cancel: true }));
    const withButton = await axeContext.newPage();
    await withButton.addInitScript({ content: PLATFORM });
    await withButton.goto(`${stack.urls.verifier}/verifiers/bibliothek/counter`);
    await start(withButton);
    await withButton.locator('#dcapi').waitFor();
    expect(await axeViolations(withButton)).toEqual([]);
    await axeContext.close();
  }, 60_000);
});
