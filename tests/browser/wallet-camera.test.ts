import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../helpers/browser.ts';
import { startWebWallet } from '../helpers/web-wallet.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { freePort } from '../helpers/net.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * The web wallet's camera scanner in real Chromium with a fake camera: Chromium plays a Y4M file
 * showing a QR code, exactly as a phone camera would see a printed or on-screen code. An offer's QR
 * fills in the offer and asks for the office's code; a counter's QR leads to the consent screen.
 */
const PASS = 'korrekt-pferd-batterie-heftklammer';

/** A Y4M video (YUV 4:2:0, 640x480, a few frames) of the QR code of `text`, black on white. */
function qrVideo(text: string): string {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'L' });
  const n = qr.modules.size;
  const [w, h] = [640, 480];
  const scale = Math.floor(Math.min(w, h) / (n + 8));
  const left = Math.floor((w - n * scale) / 2);
  const top = Math.floor((h - n * scale) / 2);
  const y = Buffer.alloc(w * h, 235);
  for (let row = 0; row < n; row++)
    for (let col = 0; col < n; col++)
      if (qr.modules.get(row, col))
        for (let dy = 0; dy < scale; dy++) y.fill(16, (top + row * scale + dy) * w + left + col * scale, (top + row * scale + dy) * w + left + (col + 1) * scale);
  const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  const file = join(mkdtempSync(join(tmpdir(), 'idideal-camera-')), 'qr.y4m');
  writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`), ...Array.from({ length: 5 }, () => frame)]));
  return file;
}

describe.skipIf(!chromiumAvailable)('browser: the web wallet scans QR codes with the camera', () => {
  let stack: Stack;
  let walletUrl: string;
  let closeWallet: () => Promise<void>;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    const port = await freePort();
    stack = await startStack({ env: { WALLET_PUBLIC_URL: `http://localhost:${port}` } });
    const wallet = await startWebWallet({ registryUrl: stack.urls.registry, port });
    walletUrl = wallet.url;
    closeWallet = wallet.close;
  }, 120_000);

  afterAll(async () => {
    for (const b of browsers) await b.close();
    await closeWallet?.();
    await stack?.close();
  });

  /** A browser whose camera shows the QR code of `text`, on the wallet, unlocked (set up on first use). */
  const withCamera = async (text: string): Promise<Page> => {
    const browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${qrVideo(text)}`]);
    browsers.push(browser);
    const page = await (await browser.newContext({ viewport: { width: 1000, height: 900 } })).newPage();
    await page.goto(walletUrl);
    if ((await page.locator('h1').textContent()) === 'Wallet einrichten') {
      await page.getByLabel(/Neue Passphrase/).fill(PASS);
      await page.getByLabel('Passphrase wiederholen').fill(PASS);
      await page.getByRole('button', { name: 'Wallet einrichten' }).click();
    } else {
      await page.getByLabel(/Passphrase der Wallet/).fill(PASS);
      await page.getByRole('button', { name: 'Entsperren' }).click();
    }
    await expect.poll(() => page.locator('h1').textContent()).toBe('Meine Wallet');
    return page;
  };

  it('an offer QR fills in the offer and asks for the code; a counter QR leads to the consent screen', async () => {
    const o = await (await stack.admin('issuer', '/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE })).json();
    const page = await withCamera(o.credential_offer);
    // The script shows one scan button per form; without script there are none and pasting works as before.
    await page.getByRole('button', { name: 'Mit der Kamera scannen' }).first().click();
    await expect.poll(() => page.getByLabel(/Link oder QR-Inhalt des Angebots/).inputValue(), { timeout: 15_000 }).toBe(o.credential_offer);
    expect(await page.locator('#scan-status').textContent()).toContain('Bitte geben Sie den Code aus dem Amt ein');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement?: { id: string } } }).document.activeElement?.id)).toBe('tx_code');
    await page.getByLabel('Code aus dem Amt').fill(o.tx_code);
    await page.getByRole('button', { name: 'Empfangen' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Nachweis gespeichert');

    const r = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const counter = await withCamera(r.authorization_request);
    await counter.getByRole('button', { name: 'Mit der Kamera scannen' }).last().click();
    await expect.poll(() => counter.locator('h1').textContent(), { timeout: 15_000 }).toBe('Wer fragt, und was wird geteilt?');
    expect(await counter.locator('main').textContent()).toContain('Mustermann');
  }, 120_000);
});
