import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { apiKeyCli } from '../../scripts/api-keys.ts';
import { axeViolations, chromiumAvailable, launchChromium } from '../helpers/browser.ts';
import { ISSUER_TOKEN, startTestIssuer, type RunningIssuer } from '../helpers/issuer.ts';
import { newHolderKey, testWallet, type HolderKey } from '../helpers/oid4vci-wallet.ts';

/**
 * The clerk's desk page in Chromium (issue 15): fields from the credential type's definition,
 * derived claims shown and never sent, the offer's live state (waiting, collected, locked,
 * expired), status of all copies, the form cleared for the next citizen, and only our own German
 * or English texts for API problems. axe-core on every state; screenshots to test-artifacts/.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'desk-page');
const MELDE_FORM = [['Vorname', 'Erika'], ['Familienname', 'Mustermann'], ['Geburtsdatum', '1990-04-01'], ['Straße', 'Markt'], ['Hausnummer', '1'], ['Postleitzahl', '04109'], ['Ort', 'Leipzig']] as const;

describe.skipIf(!chromiumAvailable)('browser: the clerk’s desk page', () => {
  let iss: RunningIssuer;
  let browser: Browser;
  let page: Page;
  let key: HolderKey;
  let clerkKey: string;
  let shift = 0;
  let step = 0;

  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    iss = await startTestIssuer({ env: { ISSUER_TRUST_MAX_AGE: '0' }, clock: () => Date.now() + shift });
    key = await newHolderKey();
    const out: string[] = [];
    const env = { DATA_DIR: iss.registry.dataDir, KEY_ENCRYPTION_SECRET: 'a'.repeat(64), ISSUER_ADMIN_TOKEN: ISSUER_TOKEN, ISSUER_PUBLIC_URL: iss.url, REGISTRY_PUBLIC_URL: iss.registry.url };
    expect(await apiKeyCli(['create', '--service', 'issuer', '--scope', 'office:buergerbuero', '--role', 'clerk', '--json'], { env, out: (l) => out.push(l), err: () => undefined })).toBe(0);
    clerkKey = JSON.parse(out.join('\n')).token;
    browser = await launchChromium();
    // bypassCSP lets the test inject axe-core; the page itself keeps its strict CSP.
    page = await (await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 1100 } })).newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await iss?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true });
  const axe = async () => expect(await axeViolations(page), `axe on ${page.url()}`).toEqual([]);
  const open = async (slug: string, lang = '') => {
    await page.goto(`${iss.url}/offices/${slug}/desk${lang}`);
  };
  const fillMelde = async () => {
    for (const [label, value] of MELDE_FORM) await page.getByLabel(label, { exact: true }).fill(value);
  };
  const state = () => page.locator('#state').textContent();
  const error = () => page.getByRole('alert').textContent();
  /** The citizen's wallet (the library's client, in Node) takes the offer shown on the desk. */
  const collectFromDesk = async () => {
    const link = (await page.locator('#link').getAttribute('href'))!;
    const txCode = (await page.locator('#txcode').textContent())!;
    const { client, signer } = testWallet([key]);
    const credentialOffer = await client.resolveCredentialOffer(link);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode });
    const configurationId = credentialOffer.credential_configuration_ids[0]!;
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configurationId, signer: signer(key), nonce: c_nonce });
    return client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configurationId, proofs: { jwt: [jwt] } });
  };

  it('renders the fields from the type definition; derived claims are explained, not ticked, and never sent', async () => {
    await open('buergerbuero');
    expect(await page.getAttribute('html', 'lang')).toBe('de');
    expect(await page.getByLabel('Geburtsdatum').getAttribute('type')).toBe('date');
    expect(await page.getByRole('group', { name: 'Anschrift' }).count()).toBe(1);
    // The hint from the definition, tied to its field.
    expect(await page.getByLabel('Postleitzahl').getAttribute('aria-describedby')).toBeTruthy();
    expect(await page.locator(`#${await page.getByLabel('Postleitzahl').getAttribute('aria-describedby')}`).textContent()).toBe('eine fünfstellige Postleitzahl');
    // No box to tick for what the issuer computes.
    expect(await page.getByLabel('Über 18 Jahre').count()).toBe(0);
    expect(await page.getByLabel('Wohnsitz in Leipzig').count()).toBe(0);
    const derived = page.locator('p.derived');
    expect(await derived.allTextContents()).toEqual([expect.stringContaining('Wohnsitz in Leipzig: wird aus „Ort“ berechnet'), expect.stringContaining('Über 18 Jahre: wird aus „Geburtsdatum“ berechnet (ja ab 18 Jahren)')]);
    await page.getByLabel('Zugangsschlüssel des Amts').fill(ISSUER_TOKEN);
    await fillMelde();
    // A preview of what the issuer will compute.
    expect(await derived.nth(1).locator('output').textContent()).toBe('Ergebnis: ja');
    expect(await derived.nth(0).locator('output').textContent()).toBe('Ergebnis: ja');
    await page.getByLabel('Geburtsdatum').fill('2015-01-01');
    expect(await derived.nth(1).locator('output').textContent()).toBe('Ergebnis: nein');
    await page.getByLabel('Geburtsdatum').fill('1990-04-01');
    await axe();
    await shot('form-filled');

    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/offices/buergerbuero/offers'));
    await page.getByRole('button', { name: 'Angebot erstellen' }).click();
    const body = JSON.parse((await sent).postData()!);
    expect(body).toEqual({ credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: { vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01', anschrift: { strasse: 'Markt', hausnummer: '1', postleitzahl: '04109', ort: 'Leipzig' } } });
    await page.locator('#qr[src^="blob:"]').waitFor();
    expect(await state()).toBe('Wartet auf die Bürgerin / den Bürger: QR-Code scannen und Code eingeben.');
    expect(await page.locator('#txcode').textContent()).toMatch(/^\d{6}$/);
    await axe();
    await shot('waiting');

    // The citizen takes it: the desk says so by itself, and the claims leave the page.
    await collectFromDesk();
    await expect.poll(state, { timeout: 10_000 }).toBe('Abgeholt: der Nachweis ist in der Wallet. Die Angaben sind aus dieser Seite entfernt.');
    const values = await Promise.all((await page.locator('fieldset.conf input').all()).map((l) => l.inputValue()));
    expect(values.length).toBeGreaterThan(0);
    expect(values.every((v) => v === '')).toBe(true);
    expect(await page.content()).not.toContain('Mustermann');
    expect(await page.locator('#txcode').textContent()).toBe('');
    expect(await page.locator('#handover').isHidden()).toBe(true);
    expect(await page.locator('#credential-status').textContent()).toBe('Nachweis: gültig (1 Kopie)');
    // The server computed the derived claims (the credential carries them).
    await axe();
    await shot('collected');

    // Suspend and reinstate from the desk; revoking asks first, and "Abbrechen" changes nothing.
    await page.getByRole('button', { name: 'Sperren' }).click();
    await expect.poll(() => page.locator('#credential-status').textContent()).toBe('Nachweis: gesperrt (1 Kopie)');
    await page.getByRole('button', { name: 'Entsperren' }).click();
    await expect.poll(() => page.locator('#credential-status').textContent()).toBe('Nachweis: gültig (1 Kopie)');
    await page.getByRole('button', { name: 'Widerrufen …' }).click();
    const dialog = page.getByRole('dialog', { name: 'Nachweis endgültig widerrufen?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('endgültig');
    await axe();
    await shot('confirm-revoke');
    await dialog.getByRole('button', { name: 'Abbrechen' }).click();
    expect(await dialog.isHidden()).toBe(true);
    expect(await page.locator('#credential-status').textContent()).toBe('Nachweis: gültig (1 Kopie)');

    // Next citizen: an empty, enabled form, focus on its first field.
    await page.getByRole('button', { name: 'Nächste Person' }).click();
    expect(await page.locator('#result').isHidden()).toBe(true);
    expect(await page.getByLabel('Vorname').isEnabled()).toBe(true);
    expect(await page.locator(':focus').getAttribute('id')).toBe(await page.getByLabel('Vorname').getAttribute('id'));
    await axe();
  });

  it('names a field by its label and hint, asks for missing ones, and never shows the API’s own text', async () => {
    await open('buergerbuero');
    await page.getByLabel('Zugangsschlüssel des Amts').fill(ISSUER_TOKEN);
    await fillMelde();
    await page.getByLabel('Vorname').fill('');
    await page.getByRole('button', { name: 'Angebot erstellen' }).click();
    expect(await error()).toBe('Bitte füllen Sie „Vorname“ aus.');
    expect(await page.getByLabel('Vorname').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Vorname').fill('Erika');
    await page.getByLabel('Postleitzahl').fill('4109');
    await page.getByRole('button', { name: 'Angebot erstellen' }).click();
    await expect.poll(error).toBe('Bitte prüfen Sie „Postleitzahl“: eine fünfstellige Postleitzahl.');
    expect(await page.getByLabel('Postleitzahl').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(':focus').getAttribute('data-claim')).toBe('anschrift.postleitzahl');
    await axe();
    await shot('field-error');
    // A birth date in the future: the issuer refuses it, named by its label.
    await page.getByLabel('Postleitzahl').fill('04109');
    await page.getByLabel('Geburtsdatum').fill('2099-01-01');
    await page.getByRole('button', { name: 'Angebot erstellen' }).click();
    await expect.poll(error).toBe('Bitte prüfen Sie „Geburtsdatum“.');
    await page.getByLabel('Geburtsdatum').fill('1990-04-01');
    await page.getByLabel('Zugangsschlüssel des Amts').fill('not-the-token');
    await page.getByRole('button', { name: 'Angebot erstellen' }).click();
    await expect.poll(error).toBe('Der Zugangsschlüssel ist nicht gültig. Bitte prüfen Sie ihn.');
    expect(await page.locator('#result').isHidden()).toBe(true);

    // English behind the switch, the same mapping.
    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.getByLabel('Office access key').fill(ISSUER_TOKEN);
    for (const [label, value] of [['Given name', 'Erika'], ['Family name', 'Mustermann'], ['Date of birth', '1990-04-01'], ['Street', 'Markt'], ['House number', '12 b 7'], ['Postcode', '04109'], ['Town', 'Leipzig']] as const) await page.getByLabel(label, { exact: true }).fill(value);
    expect(await page.locator('p.derived').nth(1).textContent()).toContain('Over 18: computed from “Date of birth” (yes from the age of 18)');
    await page.getByRole('button', { name: 'Create offer' }).click();
    await expect.poll(error).toBe('Please check “House number”: a house number such as 12, 12a or 12-14.');
    expect(await error()).not.toMatch(/claims\.|must be/);
    await axe();
    await shot('field-error-english');
  });

  it('shows a locked offer and an expired one, and explains a clerk key that may not revoke', async () => {
    await open('buergerbuero');
    await page.getByLabel('Zugangsschlüssel des Amts').fill(ISSUER_TOKEN);
    await fillMelde();
    await page.getByRole('button', { name: 'Angebot erstellen' }).click();
    await page.locator('#qr[src^="blob:"]').waitFor();
    const uri = new URL((await page.locator('#link').getAttribute('href'))!).searchParams.get('credential_offer_uri')!;
    const code = (await (await fetch(uri)).json()).grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
    const wrong = (await page.locator('#txcode').textContent()) === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      await fetch(`${iss.url}/offices/buergerbuero/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: wrong }) });
    }
    await expect.poll(state, { timeout: 10_000 }).toBe('Gesperrt: der Code wurde zu oft falsch eingegeben. Bitte ein neues Angebot erstellen.');
    expect(await page.locator('#handover').isHidden()).toBe(true);
    await axe();
    await shot('locked');

    await page.getByRole('button', { name: 'Nächste Person' }).click();
    await fillMelde();
    await page.getByRole('button', { name: 'Angebot erstellen' }).click();
    await page.locator('#qr[src^="blob:"]').waitFor();
    shift = 31 * 60_000;
    try {
      await expect.poll(state, { timeout: 10_000 }).toBe('Abgelaufen: das Angebot wurde nicht rechtzeitig abgeholt. Bitte ein neues Angebot erstellen.');
    } finally {
      shift = 0;
    }
    await axe();
    await shot('expired');

    // A clerk's key creates and watches offers; suspending needs the office's administrator.
    await page.getByRole('button', { name: 'Nächste Person' }).click();
    await page.getByLabel('Zugangsschlüssel des Amts').fill(clerkKey);
    await fillMelde();
    await page.getByRole('button', { name: 'Angebot erstellen' }).click();
    await page.locator('#qr[src^="blob:"]').waitFor();
    await collectFromDesk();
    await expect.poll(state, { timeout: 10_000 }).toContain('Abgeholt');
    await page.getByRole('button', { name: 'Sperren' }).click();
    await expect.poll(error).toBe('Sperren und Widerrufen darf nur ein Zugangsschlüssel mit der Rolle „administrator“ für dieses Amt.');
    expect(await page.locator('#credential-status').textContent()).toBe('Nachweis: gültig (1 Kopie)');
    await axe();

    // A case number from the file: incomplete or unknown here, in our own words.
    await page.getByRole('button', { name: 'Nächste Person' }).click();
    await page.getByLabel('Vorgangsnummer', { exact: true }).fill('fbb2fbc7-1eb3');
    await page.getByRole('button', { name: 'Vorgang öffnen' }).click();
    expect(await error()).toBe('Bitte geben Sie eine vollständige Vorgangsnummer ein.');
    expect(await page.getByLabel('Vorgangsnummer', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Vorgangsnummer', { exact: true }).fill(randomUUID());
    await page.getByRole('button', { name: 'Vorgang öffnen' }).click();
    await expect.poll(error).toBe('Zu dieser Vorgangsnummer gibt es hier kein Angebot.');
    expect(await page.locator('#result').isHidden()).toBe(true);
    await axe();
  });

  it('offers only revocation for VC-JWT copies, and the enum with its labels', async () => {
    await open('bibliothek');
    await page.getByLabel('Zugangsschlüssel des Amts').fill(ISSUER_TOKEN);
    await page.getByLabel('Welcher Nachweis?').selectOption('bibliotheksausweis_jwt_vc');
    const conf = page.locator('fieldset.conf[data-config="bibliotheksausweis_jwt_vc"]');
    expect(await conf.getByLabel('Nutzergruppe').locator('option').allTextContents()).toEqual(['– bitte wählen –', 'Erwachsene', 'Ermäßigt', 'Kind', 'Jugendliche']);
    await conf.getByLabel('Ausweisnummer').fill('LSB-4711');
    await conf.getByLabel('Nutzergruppe').selectOption({ label: 'Ermäßigt' });
    await conf.getByLabel('Gültig bis').fill('2028-06-30');
    await conf.getByLabel('Vorname').fill('Erika');
    await conf.getByLabel('Familienname').fill('Mustermann');
    await conf.getByLabel('Geburtsdatum').fill('1990-04-01');
    await axe();
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/offers'));
    await page.getByRole('button', { name: 'Angebot erstellen' }).click();
    expect(JSON.parse((await sent).postData()!).claims.nutzergruppe).toBe('ermaessigt');
    await page.locator('#qr[src^="blob:"]').waitFor();
    await collectFromDesk();
    await expect.poll(state, { timeout: 10_000 }).toContain('Abgeholt');
    expect(await page.getByRole('button', { name: 'Sperren' }).isHidden()).toBe(true);
    expect(await page.getByRole('button', { name: 'Widerrufen …' }).isVisible()).toBe(true);
    await axe();
  });
});
