import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { startStack, type Stack } from '../helpers/stack.ts';
import { startRogueVerifier } from '../helpers/rogue-verifier.ts';
import { startWebWallet } from '../helpers/web-wallet.ts';
import { MELDE } from '../helpers/fixtures.ts';

/** The web wallet over plain HTTP: bad input gives a clear page, nothing crosses sites, deletion works. */
describe('web wallet (HTTP)', () => {
  let stack: Stack;
  let url: string;
  let close: () => Promise<void>;
  /** The session cookie of this test's browser (POST /unlock). */
  let cookie: string;
  beforeAll(async () => {
    stack = await startStack();
    ({ url, close } = await startWebWallet({ registryUrl: stack.urls.registry }));
    const unlocked = await fetch(url + '/unlock', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams({ passphrase: 'korrekt-pferd-batterie', passphrase_repeat: 'korrekt-pferd-batterie' }), redirect: 'manual' });
    expect(unlocked.status).toBe(303);
    cookie = unlocked.headers.getSetCookie().find((c) => c.startsWith('wallet_session='))!.split(';')[0]!;
  });
  afterAll(async () => {
    await close();
    await stack.close();
  });

  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', cookie, ...headers }, body: new URLSearchParams(form), redirect: 'manual' });
  const get = (path: string, headers: Record<string, string> = {}) => fetch(url + path, { headers: { cookie, ...headers } });

  it('shows a clear message for a malformed offer, a wrong code and a malformed request', async () => {
    const bad = await post('/receive', { offer: 'not an offer', tx_code: '123456' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Das ist kein Credential-Angebot');
    const o = await (await stack.admin('issuer', '/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: { vorname: 'A', familienname: 'B', geburtsdatum: '1990-01-01', anschrift: { strasse: 'S', hausnummer: '1', postleitzahl: '04109', ort: 'Leipzig' }, wohnsitz_leipzig: true, alter_ueber_18: true } })).json();
    const wrong = await post('/receive', { offer: o.credential_offer, tx_code: o.tx_code === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    const first = await wrong.text();
    // Each failure in the citizen's language, never the office's English text.
    expect(first).toContain('Der Code ist falsch. Noch 4 Versuche.');
    expect(first).not.toMatch(/attempts left|invalid_grant/);
    const bad2 = o.tx_code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) await post('/receive', { offer: o.credential_offer, tx_code: bad2 });
    expect(await (await post('/receive', { offer: o.credential_offer, tx_code: bad2 })).text()).toContain('gesperrt');
    // Locked: the right digits now get "locked", not "wrong" and not a generic "invalid or expired".
    const right = await (await post('/receive', { offer: o.credential_offer, tx_code: o.tx_code })).text();
    expect(right).toContain('Das Angebot ist nach zu vielen falschen Codes gesperrt, auch für den richtigen Code.');
    const en = await (await fetch(url + '/receive', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', cookie: `lang=en; ${cookie}` }, body: new URLSearchParams({ offer: o.credential_offer, tx_code: o.tx_code }) })).text();
    expect(en).toContain('The offer is locked after too many wrong codes');
    const req = await post('/present', { request: 'openid4vp://?client_id=x&amp;request_uri=nope' });
    expect(req.status).toBe(400);
    expect(await req.text()).toMatch(/ungültig|keine Vorlage-Anfrage/);
  });

  it('refuses form posts from another site', async () => {
    const r = await post('/receive', { offer: 'x' }, { 'sec-fetch-site': 'cross-site' });
    expect(r.status).toBe(403);
    const o = await fetch(url + '/credentials/x/delete', { method: 'POST', headers: { origin: 'https://evil.example', cookie }, redirect: 'manual' });
    expect(o.status).toBe(403);
  });

  it('receives, deletes a credential with its keys, and serves pages with a strict CSP in German and English', async () => {
    const o = await (await stack.admin('issuer', '/api/offices/bibliothek/offers', { credential_configuration_id: 'bibliotheksausweis_sd_jwt', claims: { ausweisnummer: 'LSB-9', nutzergruppe: 'kind', gueltig_bis: '2030-01-01', vorname: 'A', familienname: 'B', geburtsdatum: '2018-01-01' } })).json();
    const ok = await post('/receive', { offer: o.credential_offer, tx_code: o.tx_code });
    expect(ok.status).toBe(200);
    const home = await ok.text();
    expect(home).toContain('Bibliotheksausweis');
    const group = /action="\/credentials\/([0-9a-f-]{36})\/delete"/.exec(home)![1]!;
    // Deleting asks first: without the confirmation nothing is deleted.
    const ask = await post(`/credentials/${group}/delete`, {});
    expect(ask.status).toBe(200);
    const question = await ask.text();
    expect(question).toContain('Nachweis löschen?');
    expect(question).toContain('name="confirm" value="1"');
    expect(await (await get('/')).text()).toContain('LSB-9');
    const del = await post(`/credentials/${group}/delete`, { confirm: '1' });
    expect(await del.text()).toContain('Nachweis gelöscht');
    expect(await (await get('/')).text()).not.toContain('LSB-9');
    const page = await get('/');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const en = await get('/', { cookie: `lang=en; ${cookie}` });
    expect(await en.text()).toContain('<html lang="en">');
  });

  it('shares nothing with a relying party the registry does not know: only access_denied reaches it, no share button, the history says declined', async () => {
    // The citizen holds a Meldebescheinigung, so the request could be answered.
    const o = await (await stack.admin('issuer', '/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE })).json();
    expect((await post('/receive', { offer: o.credential_offer, tx_code: o.tx_code })).status).toBe(200);
    // A self-made "verifier" with its own did:jwk signs a correct-looking request.
    const rogue = await startRogueVerifier([['vorname'], ['anschrift']]);
    const { did, posted } = rogue;
    try {
      const res = await post('/present', { request: rogue.link });
      const page = await res.text();
      expect(page).toContain('Nicht geteilt');
      expect(page).toContain('nicht im Vertrauensregister eingetragen');
      expect(page).not.toMatch(/\/present\/[0-9a-f-]{36}\/share/);
      expect(page).not.toContain('Teilen</button>');
      // The only thing that reached the rogue party is the refusal.
      expect(posted).toHaveLength(1);
      expect(posted[0]).toContain('error=access_denied');
      expect(posted[0]).not.toContain('vp_token');
      expect(posted[0]).not.toContain(encodeURIComponent(String(MELDE.vorname)));
      const { history } = await (await get('/history.json')).json();
      expect(history.at(-1)).toMatchObject({ verifier: did, outcome: 'declined', shared: [] });
    } finally {
      rogue.close();
    }
  });
  it('first use sets the wallet up with the passphrase twice and refuses a weak or mistyped one, creating nothing', async () => {
    const fresh = await startWebWallet({ registryUrl: stack.urls.registry });
    const { dir, url: base } = fresh;
    try {
      const first = await (await fetch(base + '/')).text();
      expect(first).toContain('Wallet einrichten');
      expect(first).toContain('name="passphrase_repeat"');
      const setUp = (passphrase: string, passphrase_repeat: string) =>
        fetch(base + '/unlock', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams({ passphrase, passphrase_repeat }), redirect: 'manual' });
      const mismatch = await setUp('korrekt-pferd-batterie', 'korrekt-pferd-batteri');
      expect(mismatch.status).toBe(400);
      expect(await mismatch.text()).toContain('stimmen nicht überein');
      for (const weak of ['kurz-12345', 'abababababababab']) {
        const r = await setUp(weak, weak);
        expect(r.status, weak).toBe(400);
        expect(await r.text()).toContain('zu schwach');
      }
      expect(readdirSync(dir)).toEqual([]);
      const ok = await setUp('korrekt-pferd-batterie', 'korrekt-pferd-batterie');
      expect(ok.status).toBe(303);
      expect(readdirSync(dir).length).toBeGreaterThan(0);
      // Once set up, the page asks for the passphrase once (unlock), not twice.
      const again = await (await fetch(base + '/')).text();
      expect(again).toContain('Wallet entsperren');
      expect(again).not.toContain('passphrase_repeat');
    } finally {
      await fresh.close();
    }
  });
});
