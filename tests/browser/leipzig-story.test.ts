import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { VCT } from '../../core/demo/leipzig.ts';
import { axeViolations, chromiumAvailable, launchChromium } from '../helpers/browser.ts';
import { freePort } from '../helpers/net.ts';
import { startWebWallet } from '../helpers/web-wallet.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';

/**
 * The Leipzig library story in real Chromium (Debian's, driven by playwright-core): the Bürgerbüro
 * issues a Meldebescheinigung, the Sozialamt a Leipzig-Pass; the citizen registers at the library
 * sharing address and entitlement only; the library issues a card; the counter page turns green.
 * Screenshots go to test-artifacts/; axe-core runs on every wallet page.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'leipzig-story');

const MELDE = { vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01', anschrift: { strasse: 'Markt', hausnummer: '1', postleitzahl: '04109', ort: 'Leipzig' }, wohnsitz_leipzig: true, alter_ueber_18: true };
const PASS = { ermaessigungsberechtigt: true, gueltig_bis: '2027-12-31', passnummer: 'LP-2026-7777', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };
const CARD = { ausweisnummer: 'LSB-2026-0001', nutzergruppe: 'ermaessigt', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };

describe.skipIf(!chromiumAvailable)('browser: the Leipzig library story', () => {
  let stack: Stack;
  let browser: Browser;
  let wallet: Page;
  let walletUrl: string;
  let closeWallet: () => Promise<void>;
  let step = 0;

  beforeAll(async () => {
    // Fresh screenshots each run, numbered in story order.
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    walletUrl = `http://localhost:${port}`;
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0', VERIFIER_TRUST_MAX_AGE: '0', WALLET_PUBLIC_URL: walletUrl } });
    closeWallet = (await startWebWallet({ registryUrl: stack.urls.registry, port })).close;
    browser = await launchChromium();
    // bypassCSP lets the test inject axe-core; the pages themselves keep their strict CSP.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 900 } });
    wallet = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await closeWallet?.();
    await stack?.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true });
  const axe = async (page: Page) => expect(await axeViolations(page), `axe on ${page.url()}`).toEqual([]);
  const offer = async (office: string, configuration: string, claims: unknown) => (await stack.admin('issuer', `/api/offices/${office}/offers`, { credential_configuration_id: configuration, claims })).json();
  const receiveInWallet = async (o: { credential_offer: string; tx_code: string }, name: string) => {
    await wallet.goto(walletUrl);
    await wallet.getByLabel(/Link oder QR-Inhalt des Angebots/).fill(o.credential_offer);
    await wallet.getByLabel('Code aus dem Amt').fill(o.tx_code);
    await wallet.getByRole('button', { name: 'Empfangen' }).click();
    await expect.poll(() => wallet.getByRole('status').textContent()).toContain('Nachweis gespeichert');
    await axe(wallet);
    await shot(wallet, name);
  };

  it('plays the whole story', async () => {
    // The citizen unlocks (creates) the wallet.
    await wallet.goto(walletUrl);
    expect(await wallet.getAttribute('html', 'lang')).toBe('de');
    await axe(wallet);
    // First use sets the wallet up: the passphrase twice; a mismatch sets up nothing.
    expect(await wallet.locator('h1').textContent()).toBe('Wallet einrichten');
    await shot(wallet, 'wallet-create');
    await wallet.getByLabel(/Neue Passphrase/).fill('korrekt-pferd-batterie-heftklammer');
    await wallet.getByLabel('Passphrase wiederholen').fill('korrekt-pferd-batterie-heftklamme');
    await wallet.getByRole('button', { name: 'Wallet einrichten' }).click();
    await expect.poll(() => wallet.getByRole('alert').textContent()).toContain('stimmen nicht überein');
    await wallet.getByLabel(/Neue Passphrase/).fill('korrekt-pferd-batterie-heftklammer');
    await wallet.getByLabel('Passphrase wiederholen').fill('korrekt-pferd-batterie-heftklammer');
    await wallet.getByRole('button', { name: 'Wallet einrichten' }).click();
    await expect.poll(() => wallet.locator('h1').textContent()).toBe('Meine Wallet');
    await axe(wallet);

    // Bürgerbüro: the clerk fills in the Meldebescheinigung at the desk page; the citizen opens the same-device link.
    const desk = await wallet.context().newPage();
    await desk.goto(`${stack.urls.issuer}/offices/buergerbuero/desk`);
    expect(await desk.getAttribute('html', 'lang')).toBe('de');
    await desk.getByLabel('Zugangsschlüssel des Amts').fill(TOKENS.issuer);
    for (const [label, value] of [['Vorname', MELDE.vorname], ['Familienname', MELDE.familienname], ['Geburtsdatum', MELDE.geburtsdatum], ['Straße', MELDE.anschrift.strasse], ['Hausnummer', MELDE.anschrift.hausnummer], ['Postleitzahl', MELDE.anschrift.postleitzahl], ['Ort', MELDE.anschrift.ort]] as const) await desk.getByLabel(label, { exact: true }).fill(value);
    // Wohnsitz in Leipzig and Über 18 Jahre are derived by the issuer, not ticked at the desk.
    await axe(desk);
    await desk.getByRole('button', { name: 'Angebot erstellen' }).click();
    await desk.locator('#qr[src^="blob:"]').waitFor();
    await shot(desk, 'desk-offer-created');
    const txCode = (await desk.locator('#txcode').textContent())!;
    expect(txCode).toMatch(/^\d{6}$/);
    await wallet.goto((await desk.locator('#weblink').getAttribute('href'))!);
    expect(await wallet.getByLabel(/Link oder QR-Inhalt des Angebots/).inputValue()).toMatch(/^openid-credential-offer:/);
    await wallet.getByLabel('Code aus dem Amt').fill(txCode);
    await wallet.getByRole('button', { name: 'Empfangen' }).click();
    await expect.poll(() => wallet.getByRole('status').textContent()).toContain('Nachweis gespeichert');
    await shot(wallet, 'meldebescheinigung-received');

    // Sozialamt: Leipzig-Pass.
    await receiveInWallet(await offer('sozialamt', 'leipzig_pass_sd_jwt', PASS), 'leipzig-pass-received');
    expect(await wallet.locator('article').count()).toBe(2);

    // Registration at the library (same-device link): address and entitlement only.
    const reg = await (await stack.admin('verifier', '/api/verifiers/bibliothek/requests', { template: 'anmeldung_bibliothek' })).json();
    await wallet.goto(`${walletUrl}/?request=${encodeURIComponent(reg.authorization_request)}`);
    // The link only fills in the form; the wallet fetches the request when the citizen checks it.
    expect(await wallet.getByLabel(/Link oder QR-Inhalt der Anfrage/).inputValue()).toBe(reg.authorization_request);
    await axe(wallet);
    await wallet.getByRole('button', { name: 'Anfrage prüfen' }).click();
    await expect.poll(() => wallet.locator('h1').textContent()).toBe('Wer fragt, und was wird geteilt?');
    const consent = await wallet.locator('main').textContent();
    expect(consent).toContain('Leipziger Städtische Bibliotheken');
    expect(consent).toContain('Anmeldung für einen Bibliotheksausweis');
    expect(consent).toContain('Im Vertrauensregister eingetragen');
    expect(consent).not.toContain('Passnummer');
    // The values that would leave are on the screen before consent, not only the claim names.
    expect(consent).toContain('Markt 1, 04109 Leipzig');
    expect(consent).toContain('31.12.2027');
    expect(consent).not.toContain('nicht in der Wallet');
    // The Leipzig-Pass is optional here: nothing optional is pre-ticked; the citizen ticks it.
    const optionalPass = wallet.getByLabel(/Auch teilen: Leipzig-Pass/);
    expect(await optionalPass.isChecked()).toBe(false);
    await axe(wallet);
    await shot(wallet, 'consent-library-registration');
    await optionalPass.check();
    await wallet.getByRole('button', { name: 'Teilen' }).click();
    await expect.poll(() => wallet.getByRole('status').textContent()).toContain('Geteilt');
    const regResult = await (await stack.admin('verifier', `/api/verifiers/bibliothek/requests/${reg.request_id}`)).json();
    expect(regResult.status, JSON.stringify(regResult.result?.errors)).toBe('verified');
    const pass = regResult.result.credentials.find((c: { vct: string }) => c.vct === VCT.leipzig_pass);
    expect(pass.claims).toEqual({ ermaessigungsberechtigt: true, gueltig_bis: '2027-12-31' });
    expect(JSON.stringify(regResult)).not.toContain('LP-2026-7777');

    // The library issues the card.
    await receiveInWallet(await offer('bibliothek', 'bibliotheksausweis_sd_jwt', CARD), 'library-card-received');

    // At the counter: the clerk starts a check; the citizen opens the link; the counter turns green.
    const counter = await wallet.context().newPage();
    await counter.goto(`${stack.urls.verifier}/verifiers/bibliothek/counter`);
    await counter.getByLabel('Zugangsschlüssel der Theke').fill(TOKENS.verifier);
    await counter.getByLabel('Was soll geprüft werden?').selectOption('bibliotheksausweis');
    await counter.getByRole('button', { name: 'Prüfung starten' }).click();
    await counter.locator('#qr[src^="blob:"]').waitFor();
    await shot(counter, 'counter-qr');
    const link = await counter.locator('#link').getAttribute('href');
    expect(link).toMatch(/^openid4vp:\/\//);
    await wallet.goto(`${walletUrl}/?request=${encodeURIComponent(link!)}`);
    await wallet.getByRole('button', { name: 'Anfrage prüfen' }).click();
    await expect.poll(() => wallet.locator('h1').textContent()).toBe('Wer fragt, und was wird geteilt?');
    expect(await wallet.locator('main').textContent()).not.toMatch(/\?:|nicht in der Wallet/);
    await shot(wallet, 'consent-library-card');
    await wallet.getByRole('button', { name: 'Teilen' }).click();
    await expect.poll(() => wallet.getByRole('status').textContent()).toContain('Geteilt');
    await expect.poll(() => counter.locator('#verdict-title').textContent(), { timeout: 10_000 }).toBe('Geprüft: gültig');
    expect(await counter.locator('#verdict').getAttribute('class')).toBe('ok');
    expect(await counter.locator('#verdict-body').textContent()).toContain('Leipziger Städtische Bibliotheken');
    expect(await counter.locator('#verdict-body dt').first().textContent()).toBe('Ausweisnummer');
    await shot(counter, 'counter-green');

    // History, export, English.
    await wallet.goto(`${walletUrl}/history`);
    expect(await wallet.locator('main li').count()).toBe(2);
    // Display names and labels, local time: no raw `urn:` type, no ISO timestamp.
    const history = (await wallet.locator('main').textContent())!;
    expect(history).toContain('Meldebescheinigung (Vorname');
    expect(history).not.toContain('urn:');
    expect(history).not.toMatch(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/);
    await axe(wallet);
    await shot(wallet, 'history');
    // The export needs the browser's session; a client without it gets the unlock page.
    const exported = await (await wallet.context().request.get(`${walletUrl}/history.json`)).json();
    expect(exported.history).toHaveLength(2);
    expect((await fetch(`${walletUrl}/history.json`)).status).toBe(401);
    await wallet.goto(walletUrl);
    await wallet.getByRole('link', { name: 'English' }).click();
    expect(await wallet.getAttribute('html', 'lang')).toBe('en');
    expect(await wallet.locator('h1').textContent()).toBe('My wallet');
    await axe(wallet);
    await shot(wallet, 'wallet-english');
    // Locking ends the session: the wallet asks for the passphrase again.
    await wallet.getByRole('button', { name: 'Lock the wallet' }).click();
    await expect.poll(() => wallet.locator('h1').textContent()).toBe('Unlock the wallet');
    await wallet.goto(`${walletUrl}/history`);
    expect(await wallet.locator('main li').count()).toBe(0);

    // The counter's link while the wallet is locked: after unlocking, the citizen is at the consent screen.
    const later = await (await stack.admin('verifier', '/api/verifiers/bibliothek/requests', { template: 'bibliotheksausweis' })).json();
    await wallet.goto(`${walletUrl}/?request=${encodeURIComponent(later.authorization_request)}`);
    expect(await wallet.locator('h1').textContent()).toBe('Unlock the wallet');
    await wallet.getByLabel(/Wallet passphrase/).fill('korrekt-pferd-batterie-heftklammer');
    await wallet.getByRole('button', { name: 'Unlock' }).click();
    await expect.poll(() => wallet.locator('h1').textContent()).toBe('Who is asking, and what is shared?');
    expect(await wallet.locator('main').textContent()).toContain('LSB-2026-0001');
    await axe(wallet);
    await shot(wallet, 'consent-after-unlock');
  }, 120_000);
});
