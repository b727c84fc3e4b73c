import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { LEIPZIG } from '../../core/demo/leipzig.ts';
import { clerkAssets, sendClerkPage } from '../../core/http/pages.ts';
import { COUNTER_CSS, COUNTER_JS, counterPage, type CounterView } from '../../verifier/pages/counter.ts';
import { axeViolations, chromiumAvailable, launchChromium } from '../helpers/browser.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';

/**
 * The counter page a clerk reads at a glance (issue 15), in real Chromium against the real stack:
 * values as people write them, claims in the type's order with the type's labels, German by default
 * and English behind the switch, an expired request that says so, a wrong access key that says so
 * (and no broken QR image). A second part serves the same page against a scripted counter API for
 * what the real API cannot be made to answer on demand (a final red verdict, unknown claims, every
 * problem type). axe-core runs on each state; screenshots go to test-artifacts/counter-page/.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'counter-page');
const CARD = { ausweisnummer: 'LSB-2026-0001', nutzergruppe: 'ermaessigt', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };

let browser: Browser;
let context: BrowserContext;
let step = 0;
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true });
const axe = async (page: Page) => expect(await axeViolations(page), `axe on ${page.url()}`).toEqual([]);
const texts = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => e.textContent));
/** Images on screen that did not load: what a clerk sees as a broken picture. */
const brokenImages = (page: Page) =>
  page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { images: ArrayLike<{ offsetParent: unknown; complete: boolean; naturalWidth: number }> } }).document;
    return Array.from(doc.images).filter((i) => i.offsetParent !== null && !(i.complete && i.naturalWidth > 0)).length;
  });
const focusedId = (page: Page) => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id);

describe.skipIf(!chromiumAvailable)('browser: the counter page', () => {
  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    // bypassCSP lets the test inject axe-core; the page itself keeps its strict CSP.
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 900 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  describe('against the real stack', () => {
    let stack: Stack;
    // The services' clock: moved forward only to let a request expire, and moved back afterwards.
    let offset = 0;
    let melde: Awaited<ReturnType<typeof receiveCredential>>;

    beforeAll(async () => {
      stack = await startStack({ clock: () => Date.now() + offset, env: { STATUS_LIST_MAX_AGE: '0', VERIFIER_TRUST_MAX_AGE: '0' } });
      melde = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    }, 120_000);
    afterAll(async () => {
      await stack?.close();
    });

    const counter = async (slug: string) => {
      const page = await context.newPage();
      await page.goto(`${stack.urls.verifier}/verifiers/${slug}/counter`);
      return page;
    };
    const start = async (page: Page, template: string, token = TOKENS.verifier) => {
      await page.locator('#token').fill(token);
      await page.locator('#template').selectOption(template);
      await page.locator('#start button[type=submit]').click();
    };
    /** The citizen's wallet answers the request the page shows, with exactly the claims asked for. */
    const answer = async (page: Page, credential: string, key: typeof melde.key, queryId: string, opts: { nonce?: string } = {}) => {
      await page.locator('#qr[src^="blob:"]').waitFor();
      const req = await resolveRequest((await page.locator('#link').getAttribute('href'))!);
      expect((await postResponse(req, { [queryId]: [await present(credential, key, req, queryId, opts)] })).status).toBe(200);
    };

    it('shows a verified Meldebescheinigung as people write it, in the type’s order, with its type and issuer by name', async () => {
      const page = await counter('buergerbuero');
      expect(await page.getAttribute('html', 'lang')).toBe('de');
      await axe(page);
      await page.getByLabel('Zugangsschlüssel der Theke').fill(TOKENS.verifier);
      await page.getByLabel('Was soll geprüft werden?').selectOption('meldebescheinigung');
      await page.getByRole('button', { name: 'Prüfung starten' }).click();
      await answer(page, melde.credential, melde.key, 'meldebescheinigung');
      await expect.poll(() => page.locator('#verdict-title').textContent(), { timeout: 10_000 }).toBe('Geprüft: gültig');
      expect(await page.locator('#verdict').getAttribute('class')).toBe('ok');
      expect(await page.locator('#request').isHidden()).toBe(true);
      expect(await texts(page, '#verdict-body article > h3')).toEqual(['Meldebescheinigung']);
      expect(await page.locator('#verdict-body article > p').textContent()).toBe('Ausgestellt von: Bürgerbüro Leipzig');
      expect(await texts(page, '#verdict-body article > dl > dt')).toEqual(['Vorname', 'Familienname', 'Geburtsdatum', 'Anschrift', 'Wohnsitz in Leipzig', 'Über 18 Jahre']);
      expect(await texts(page, '#verdict-body article > dl > dd')).toEqual(['Erika', 'Mustermann', '01.04.1990', 'Markt 1, 04109 Leipzig', 'ja', 'ja']);
      const shown = (await page.locator('#verdict').textContent())!;
      for (const raw of ['{', 'true', 'urn:', '1990-04-01', 'did:']) expect(shown).not.toContain(raw);
      await axe(page);
      await shot(page, 'meldebescheinigung-verified-de');
      // The clerk closes the result before the next citizen: no personal data stays on the screen.
      await page.getByRole('button', { name: 'Ergebnis schließen' }).click();
      expect(await page.locator('#verdict').isHidden()).toBe(true);
      expect(await page.locator('#verdict-body').textContent()).toBe('');
      await page.close();
    }, 60_000);

    it('switches to English: English labels, type name and values', async () => {
      const page = await counter('buergerbuero');
      await page.getByRole('link', { name: 'English' }).click();
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      await page.getByLabel('Counter access key').fill(TOKENS.verifier);
      await page.getByLabel('What do you want to check?').selectOption('meldebescheinigung');
      await page.getByRole('button', { name: 'Start check' }).click();
      await answer(page, melde.credential, melde.key, 'meldebescheinigung');
      await expect.poll(() => page.locator('#verdict-title').textContent(), { timeout: 10_000 }).toBe('Checked: valid');
      expect(await texts(page, '#verdict-body article > h3')).toEqual(['Certificate of registration']);
      expect(await page.locator('#verdict-body article > p').textContent()).toMatch(/^Issued by: Leipzig Citizens’ Office$/);
      expect(await texts(page, '#verdict-body article > dl > dt')).toEqual(['Given name', 'Family name', 'Date of birth', 'Address', 'Resident of Leipzig', 'Over 18']);
      expect(await texts(page, '#verdict-body article > dl > dd')).toEqual(['Erika', 'Mustermann', '1 April 1990', 'Markt 1, 04109 Leipzig', 'yes', 'yes']);
      await axe(page);
      await shot(page, 'meldebescheinigung-verified-en');
      await page.close();
    }, 60_000);

    it('shows enum values by their label and labels with umlauts from the type definition', async () => {
      const card = await receiveCredential(stack, 'bibliothek', 'bibliotheksausweis_sd_jwt', CARD);
      const page = await counter('bibliothek');
      await start(page, 'bibliotheksausweis');
      await answer(page, card.credential, card.key, 'bibliotheksausweis');
      await expect.poll(() => page.locator('#verdict-title').textContent(), { timeout: 10_000 }).toBe('Geprüft: gültig');
      expect(await texts(page, '#verdict-body article > h3')).toEqual(['Bibliotheksausweis']);
      expect(await texts(page, '#verdict-body article > dl > dt')).toEqual(['Ausweisnummer', 'Nutzergruppe', 'Gültig bis', 'Vorname', 'Familienname']);
      expect(await texts(page, '#verdict-body article > dl > dd')).toEqual(['LSB-2026-0001', 'Ermäßigt', '31.12.2028', 'Erika', 'Mustermann']);
      await axe(page);
      await shot(page, 'library-card-verified');
      await page.close();
    }, 60_000);

    it('says a wrong access key is wrong, with no broken QR image', async () => {
      const page = await counter('buergerbuero');
      await start(page, 'meldebescheinigung', 'falscher-schluessel-0123');
      await expect.poll(() => page.getByRole('alert').textContent()).toBe('Zugangsschlüssel falsch – bitte prüfen und neu eingeben.');
      expect(await page.locator('#request').isHidden()).toBe(true);
      expect(await page.locator('#qr').getAttribute('src')).toBeNull();
      expect(await brokenImages(page)).toBe(0);
      expect(await page.locator('#token').getAttribute('aria-invalid')).toBe('true');
      expect(await focusedId(page)).toBe('token');
      expect(await page.locator('main').textContent()).not.toMatch(/401|bearer|Unauthorized|Fehler \/ Error/i);
      await axe(page);
      await shot(page, 'wrong-access-key');
      // The right key clears the message and the check starts.
      await start(page, 'meldebescheinigung');
      await page.locator('#qr[src^="blob:"]').waitFor();
      expect(await page.locator('#error').textContent()).toBe('');
      expect(await page.locator('#token').getAttribute('aria-invalid')).toBeNull();
      expect(await brokenImages(page)).toBe(0);
      await page.close();
    }, 60_000);

    it('says an expired request has expired, not what a failed answer before it said', async () => {
      const page = await counter('buergerbuero');
      await start(page, 'meldebescheinigung');
      // An answer for another request's nonce: a non-final hint in our words while the request is open.
      await answer(page, melde.credential, melde.key, 'meldebescheinigung', { nonce: 'nicht-diese-anfrage' });
      await expect.poll(() => page.locator('#hint').textContent(), { timeout: 10_000 }).toContain('Die Antwort gehört zu einer anderen Prüfung.');
      expect(await page.locator('#verdict').isHidden()).toBe(true);
      await axe(page);
      await shot(page, 'failed-answer-hint');
      // The request's lifetime (VERIFIER_REQUEST_TTL, 300 s by default) passes.
      offset = 301_000;
      try {
        await expect.poll(() => page.locator('#verdict-title').textContent(), { timeout: 10_000 }).toBe('Anfrage abgelaufen – bitte neu starten');
      } finally {
        offset = 0;
      }
      expect(await page.locator('#verdict').getAttribute('class')).toBe('expired');
      expect(await page.locator('#request').isHidden()).toBe(true);
      expect(await page.locator('#hint').isHidden()).toBe(true);
      // What is on the screen, and what a screen reader could still reach.
      const shown = `${await page.locator('main').innerText()} ${await page.locator('main').textContent()}`;
      expect(shown).not.toContain('anderen Prüfung');
      expect(shown).not.toMatch(/Signatur|signiert|Nicht bestätigt/);
      await axe(page);
      await shot(page, 'request-expired');
      await page.close();
    }, 60_000);
  });

  describe('against a scripted counter API', () => {
    // What GET/POST under /api answer next, by path suffix; the page is the real one, served as the verifier serves it.
    let answers: Record<string, { status: number; type?: string; body: unknown }> = {};
    let url = '';
    let close: () => void = () => {};
    const view: CounterView = {
      templates: [{ id: 'pruefung', name: { de: 'Testprüfung', en: 'Test check' } }],
      types: [
        {
          ...LEIPZIG.credential_types.find((t) => t.id === 'meldebescheinigung')!,
          claims: [
            { name: 'familienname', type: 'string', max_length: 100, mandatory: true, sd: 'always', label: { de: 'Familienname', en: 'Family name' } },
            {
              name: 'eltern',
              type: 'object',
              mandatory: true,
              sd: 'always',
              label: { de: 'Eltern', en: 'Parents' },
              claims: [
                { name: 'mutter', type: 'string', max_length: 100, mandatory: true, sd: 'always', label: { de: 'Mutter', en: 'Mother' } },
                { name: 'geprueft', type: 'boolean', mandatory: true, sd: 'always', label: { de: 'Geprüft', en: 'Checked' } },
              ],
            },
          ],
        },
      ],
    };

    beforeAll(async () => {
      const app = express();
      app.get('/verifiers/test/counter', (req, res) => sendClerkPage(res, counterPage({ slug: 'test', name: { de: 'Testtheke', en: 'Test counter' } }, req.query.lang === 'en' ? 'en' : 'de', 'http://wallet.invalid', view)));
      const assets = express.Router();
      clerkAssets(assets, 'counter', COUNTER_JS, COUNTER_CSS);
      app.use(assets);
      app.use('/api/verifiers/test', (req, res) => {
        const key = req.path.endsWith('qr.svg') ? 'qr' : req.method === 'POST' ? 'create' : 'status';
        const a = answers[key];
        if (!a) return void res.status(500).end();
        res.status(a.status).type(a.type ?? 'application/json').send(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((done) => server.once('listening', done));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      close = () => server.close();
    });
    afterAll(() => close());

    const ID = '00000000-0000-4000-8000-000000000001';
    const created = { status: 201, body: { request_id: ID, authorization_request: 'openid4vp://?client_id=x&request_uri=y', expires_at: '2030-01-01T00:00:00Z' } };
    const svg = { status: 200, type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>' };
    const problem = (status: number, code: string, detail: string) => ({ status, type: 'application/problem+json', body: { type: `urn:id-ideal:problem:${code}`, title: 'x', status, detail } });
    const startCheck = async (lang: 'de' | 'en' = 'de') => {
      const page = await context.newPage();
      await page.goto(`${url}/verifiers/test/counter${lang === 'en' ? '?lang=en' : ''}`);
      await page.locator('#token').fill('irgendein-schluessel');
      await page.locator('#start button[type=submit]').click();
      return page;
    };

    it('shows claims in the type’s order, nested claims as a list, unknown claims last by their name', async () => {
      answers = {
        create: created,
        qr: svg,
        status: {
          status: 200,
          body: {
            request_id: ID,
            status: 'verified',
            result: {
              verified: true,
              errors: [],
              warnings: [],
              credentials: [{ credential_query_id: 'q', vct: view.types[0]!.vct, issuer: 'did:web:x', issuer_name: 'Standesamt Test', issuer_name_i18n: { de: 'Standesamt Test', en: 'Test registry office' }, claims: { zusatz: { a: 1, b: true }, eltern: { extra: 'x', geprueft: false, mutter: 'Anna' }, familienname: 'Mustermann' } }],
            },
          },
        },
      };
      const page = await startCheck();
      await expect.poll(() => page.locator('#verdict-title').textContent(), { timeout: 10_000 }).toBe('Geprüft: gültig');
      expect(await texts(page, '#verdict-body article > dl > dt')).toEqual(['Familienname', 'Eltern', 'zusatz']);
      expect(await texts(page, '#verdict-body article > dl > dd > dl > dt')).toEqual(['Mutter', 'Geprüft', 'extra', 'a', 'b']);
      expect(await texts(page, '#verdict-body article > dl > dd > dl > dd')).toEqual(['Anna', 'nein', 'x', '1', 'ja']);
      expect(await page.locator('#verdict-body').textContent()).not.toMatch(/[{}"]/);
      await axe(page);
      await page.close();
    }, 60_000);

    it('shows a final rejection in red with the reasons in our words, never the API’s text', async () => {
      const raw = 'RAW-API-TEXT sig check failed at step 3';
      answers = {
        create: created,
        qr: svg,
        status: { status: 200, body: { request_id: ID, status: 'rejected', result: { verified: false, errors: [{ code: 'credential_revoked', message: raw }, { code: 'invalid_signature', message: raw }, { code: 'something_new', message: raw }], warnings: [], credentials: [] } } },
      };
      const page = await startCheck();
      await expect.poll(() => page.locator('#verdict-title').textContent(), { timeout: 10_000 }).toBe('Nicht bestätigt');
      expect(await page.locator('#verdict').getAttribute('class')).toBe('bad');
      expect(await texts(page, '#verdict-body li')).toEqual(['Der Nachweis wurde widerrufen.', 'Die Signatur des Nachweises stimmt nicht – er könnte verändert worden sein.', 'Der Nachweis konnte nicht bestätigt werden.']);
      expect(await page.locator('main').textContent()).not.toContain('RAW-API-TEXT');
      await axe(page);
      await shot(page, 'rejected-de');
      await page.close();
    }, 60_000);

    it('maps each API problem to a message by its type, with a generic fallback, never the detail', async () => {
      const cases: [keyof typeof answers | string, { status: number; type?: string; body: unknown }, string][] = [
        ['create', problem(403, 'out-of-scope', 'RAW-DETAIL key scope'), 'Dieser Zugangsschlüssel gilt nicht für diese Theke.'],
        ['create', problem(403, 'exceeds-registration', 'RAW-DETAIL urn:x'), 'Diese Theke ist im Vertrauensregister nicht für diese Prüfung eingetragen.'],
        ['create', problem(503, 'trust-registry-unavailable', 'RAW-DETAIL'), 'Das Vertrauensregister ist gerade nicht erreichbar – bitte gleich noch einmal versuchen.'],
        ['create', problem(429, 'rate-limited', 'RAW-DETAIL'), 'Zu viele falsche Zugangsschlüssel – bitte eine Minute warten und erneut versuchen.'],
        ['create', problem(500, 'server-error', 'RAW-DETAIL'), 'Das hat nicht geklappt (Fehler 500). Bitte erneut versuchen; wenn es wieder nicht klappt, die IT verständigen.'],
        ['create', { status: 401, type: 'text/plain', body: 'RAW-DETAIL' }, 'Zugangsschlüssel falsch – bitte prüfen und neu eingeben.'],
        ['qr', problem(401, 'unauthorized', 'RAW-DETAIL'), 'Zugangsschlüssel falsch – bitte prüfen und neu eingeben.'],
        ['qr', { status: 200, type: 'text/html', body: '<p>RAW-DETAIL</p>' }, 'Das hat nicht geklappt (Fehler 200). Bitte erneut versuchen; wenn es wieder nicht klappt, die IT verständigen.'],
        ['status', problem(404, 'unknown-request', 'RAW-DETAIL'), 'Die Anfrage ist nicht mehr vorhanden (abgelaufen oder Ergebnis gelöscht) – bitte neu starten.'],
      ];
      for (const [where, answer, message] of cases) {
        answers = { create: created, qr: svg, [where]: answer };
        const page = await startCheck();
        await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000, message: `${where} ${answer.status}` }).toBe(message);
        expect(await page.locator('main').textContent()).not.toContain('RAW-DETAIL');
        expect(await page.locator('#request').isHidden()).toBe(true);
        expect(await brokenImages(page)).toBe(0);
        await page.close();
      }
      // In English too.
      answers = { create: problem(403, 'out-of-scope', 'RAW-DETAIL'), qr: svg };
      const page = await startCheck('en');
      await expect.poll(() => page.getByRole('alert').textContent()).toBe('This access key is not valid for this counter.');
      await axe(page);
      await page.close();
    }, 120_000);
  });
});
