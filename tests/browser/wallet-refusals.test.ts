import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { MELDE } from '../helpers/fixtures.ts';
import { axeViolations, chromiumAvailable, launchChromium } from '../helpers/browser.ts';
import { startRogueVerifier } from '../helpers/rogue-verifier.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { startWebWallet } from '../helpers/web-wallet.ts';
import { freePort } from '../helpers/net.ts';

/**
 * What the citizen's wallet refuses, in real Chromium: a relying party the registry does not know
 * gets nothing but `access_denied`, whatever the citizen clicks; a wrong code is explained in German;
 * a credential is deleted only after the citizen confirms. axe-core on each page.
 */
const PASS = 'korrekt-pferd-batterie-heftklammer';

describe.skipIf(!chromiumAvailable)('browser: what the wallet refuses', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let walletUrl: string;
  let closeWallet: () => Promise<void>;

  beforeAll(async () => {
    const port = await freePort();
    stack = await startStack({ env: { WALLET_PUBLIC_URL: `http://localhost:${port}` } });
    const wallet = await startWebWallet({ registryUrl: stack.urls.registry, port });
    walletUrl = wallet.url;
    closeWallet = wallet.close;
    browser = await launchChromium();
    page = await (await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 900 } })).newPage();
    await page.goto(walletUrl);
    await page.getByLabel(/Neue Passphrase/).fill(PASS);
    await page.getByLabel('Passphrase wiederholen').fill(PASS);
    await page.getByRole('button', { name: 'Wallet einrichten' }).click();
    await page.getByRole('heading', { name: 'Meine Wallet' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await closeWallet?.();
    await stack?.close();
  });

  const axe = async () => expect(await axeViolations(page), `axe on ${page.url()}`).toEqual([]);

  it('explains a wrong code in German, then receives with the right one', async () => {
    const o = await (await stack.admin('issuer', '/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE })).json();
    await page.getByLabel(/Link oder QR-Inhalt des Angebots/).fill(o.credential_offer);
    await page.getByLabel('Code aus dem Amt').fill(o.tx_code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Empfangen' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Der Code ist falsch. Noch 4 Versuche.');
    await axe();
    await page.getByLabel(/Link oder QR-Inhalt des Angebots/).fill(o.credential_offer);
    await page.getByLabel('Code aus dem Amt').fill(o.tx_code);
    await page.getByRole('button', { name: 'Empfangen' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Nachweis gespeichert');
  });

  it('a relying party the registry does not know gets only access_denied; no share button is offered', async () => {
    const rogue = await startRogueVerifier([['vorname'], ['anschrift']]);
    const { posted } = rogue;
    try {
      await page.goto(`${walletUrl}/?request=${encodeURIComponent(rogue.link)}`);
      await page.getByRole('button', { name: 'Anfrage prüfen' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Nicht geteilt');
      expect(await page.getByRole('button', { name: 'Teilen' }).count()).toBe(0);
      await axe();
      expect(posted).toHaveLength(1);
      expect(posted[0]).toContain('error=access_denied');
      expect(posted[0]).not.toContain('vp_token');
    } finally {
      rogue.close();
    }
  });

  it('deletes a credential only after the citizen confirms', async () => {
    await page.goto(walletUrl);
    await page.getByRole('button', { name: /Löschen/ }).first().click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Nachweis löschen?');
    await axe();
    await page.getByRole('link', { name: 'Nein, behalten' }).click();
    expect(await page.locator('main').textContent()).toContain('Meldebescheinigung');
    await page.getByRole('button', { name: /Löschen/ }).first().click();
    await page.getByRole('button', { name: 'Endgültig löschen' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('gelöscht');
    expect(await page.locator('main').textContent()).not.toContain('Mustermann');
  });
});
