import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createBaseApp, finish } from '../../core/http/app.ts';
import { VCT } from '../../core/demo/leipzig.ts';
import { createLogger } from '../../core/log/logger.ts';
import { closeServer, listen } from '../../core/service/run.ts';
import { walletRoutes } from '../../wallet-demo/web/app.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { freePort } from '../helpers/net.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * What the citizen's wallet refuses, in real Chromium: a relying party the registry does not know
 * gets nothing but `access_denied`, whatever the citizen clicks; a wrong code is explained in German;
 * a credential is deleted only after the citizen confirms. axe-core on each page.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs Debian's chromium`);
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASS = 'korrekt-pferd-batterie-heftklammer';

describe.skipIf(!available)('browser: what the wallet refuses', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let walletUrl: string;
  let closeWallet: () => Promise<void>;

  beforeAll(async () => {
    const port = await freePort();
    walletUrl = `http://localhost:${port}`;
    stack = await startStack({ env: { WALLET_PUBLIC_URL: walletUrl } });
    const logger = createLogger('wallet-demo', process.env.TEST_LOG_LEVEL ?? 'silent');
    const app = createBaseApp({ logger });
    app.use(walletRoutes({ dir: mkdtempSync(join(tmpdir(), 'idideal-webwallet-refusals-')), registryUrl: stack.urls.registry, allowLocalHttp: true, publicUrl: walletUrl, logger }));
    finish(app, logger);
    const { server } = await listen(app, '127.0.0.1', port);
    closeWallet = () => closeServer(server);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
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

  const axe = async () => {
    await page.addScriptTag({ content: AXE });
    const result = await page.evaluate(async () => (globalThis as unknown as { axe: { run: () => Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }).axe.run());
    expect(result.violations.map((v) => `${v.id} (${v.nodes.length})`), `axe on ${page.url()}`).toEqual([]);
  };

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
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const { kty, crv, x, y } = await exportJWK(publicKey);
    const did = `did:jwk:${Buffer.from(JSON.stringify({ crv, kty, x, y })).toString('base64url')}`;
    const posted: string[] = [];
    let jwt = '';
    const rogue: Server = createServer((req, res) => {
      if (req.method !== 'POST') {
        res.setHeader('content-type', 'application/oauth-authz-req+jwt');
        res.end(jwt);
        return;
      }
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        posted.push(body);
        res.end('{}');
      });
    });
    await new Promise<void>((r) => rogue.listen(0, '127.0.0.1', () => r()));
    const port = (rogue.address() as { port: number }).port;
    jwt = await new SignJWT({ client_id: `decentralized_identifier:${did}`, response_type: 'vp_token', response_mode: 'direct_post', response_uri: `http://localhost:${port}/response`, nonce: 'n'.repeat(32), state: 's'.repeat(32), dcql_query: { credentials: [{ id: 'm', format: 'dc+sd-jwt', meta: { vct_values: [VCT.meldebescheinigung] }, claims: [{ path: ['vorname'] }, { path: ['anschrift'] }] }] }, client_metadata: { vp_formats_supported: { 'dc+sd-jwt': {} } } })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-authz-req+jwt', kid: `${did}#0` })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    try {
      const link = `openid4vp://?client_id=${encodeURIComponent(`decentralized_identifier:${did}`)}&request_uri=${encodeURIComponent(`http://localhost:${port}/request`)}`;
      await page.goto(`${walletUrl}/?request=${encodeURIComponent(link)}`);
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
