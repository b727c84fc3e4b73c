import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, generateKeyPair } from 'jose';
import { VCT } from '../../core/demo/leipzig.ts';
import { startRogueVerifier } from '../helpers/rogue-verifier.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const MELDE = { vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01', anschrift: { strasse: 'Markt', hausnummer: '1', postleitzahl: '04109', ort: 'Leipzig' }, wohnsitz_leipzig: true, alter_ueber_18: true };
const PASS = { ermaessigungsberechtigt: true, gueltig_bis: '2027-12-31', passnummer: 'LP-2026-0099', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };

// Each test starts several CLI processes (tsx compiles on start): give them room on a loaded CI machine.
describe('wallet CLI (receive, present, list) against the real services', { timeout: 120_000 }, () => {
  let stack: Stack;
  let walletDir: string;
  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0', VERIFIER_TRUST_MAX_AGE: '0' } });
    walletDir = mkdtempSync(join(tmpdir(), 'idideal-wallet-'));
  });
  afterAll(async () => {
    await stack.close();
  });

  const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile('npx', ['tsx', 'wallet-demo/cli.ts', ...args], { env: { ...process.env, WALLET_DIR: walletDir, WALLET_PASSPHRASE: 'korrekt-pferd-batterie', REGISTRY_PUBLIC_URL: stack.urls.registry, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
      );
    });
  const offer = async (office: string, configuration: string, claims: unknown) => (await stack.admin('issuer', `/api/offices/${office}/offers`, { credential_configuration_id: configuration, claims })).json();
  const request = async (slug: string, template: string) => (await stack.admin('verifier', `/api/verifiers/${slug}/requests`, { template })).json();
  const verdict = async (slug: string, id: string) => (await stack.admin('verifier', `/api/verifiers/${slug}/requests/${id}`)).json();

  it('receives a Meldebescheinigung and a Leipzig-Pass, lists them, and registers at the library sharing only what is asked', async () => {
    const o1 = await offer('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const r1 = await cli(['receive', o1.credential_offer, '--tx-code', o1.tx_code]);
    expect(r1.code, r1.err).toBe(0);
    expect(r1.out).toContain('Bürgerbüro Leipzig');
    const o2 = await offer('sozialamt', 'leipzig_pass_sd_jwt', PASS);
    expect((await cli(['receive', o2.credential_offer, `--tx-code=${o2.tx_code}`])).code).toBe(0);

    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.out).toContain('2 Nachweis(e)');
    expect(list.out).toContain(VCT.meldebescheinigung);
    expect(list.out).toContain('3 Kopie(n)');

    const req = await request('bibliothek', 'anmeldung_bibliothek');
    const p = await cli(['present', req.authorization_request, '--yes']);
    expect(p.code, p.err + p.out).toBe(0);
    expect(p.out).toContain('Leipziger Städtische Bibliotheken');
    expect(p.out).toContain('Anmeldung für einen Bibliotheksausweis');
    const v = await verdict('bibliothek', req.request_id);
    expect(v.status, JSON.stringify(v.result?.errors)).toBe('verified');
    const pass = v.result.credentials.find((c: { vct: string }) => c.vct === VCT.leipzig_pass);
    expect(pass.claims).toEqual({ ermaessigungsberechtigt: true, gueltig_bis: '2027-12-31' });
    expect(JSON.stringify(v)).not.toContain('LP-2026-0099');
    expect((await cli(['list'])).out).toContain('1 Vorlage(n)');
  });

  it('collects a deferred credential once the office approves it', async () => {
    const res = await stack.admin('issuer', '/api/offices/standesamt/offers', { credential_configuration_id: 'geburtsurkunde_sd_jwt', approval: 'manual', claims: { vorname: 'Erika', familienname: 'Mustermann', geburtsname: 'Gabler', geburtsdatum: '1990-04-01', geburtsort: 'Leipzig', registernummer: 'G 77/1990', standesamt: 'Leipzig' } });
    const o = await res.json();
    const r = await cli(['receive', o.credential_offer, '--tx-code', o.tx_code]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('muss den Nachweis noch freigeben');
    const waiting = await cli(['list']);
    expect(waiting.out).toContain('warten noch auf Freigabe');
    expect((await stack.admin('issuer', `/api/offices/standesamt/offers/${o.offer_id}/approve`, {})).status).toBe(200);
    const done = await cli(['list']);
    expect(done.out).toContain('ausstehende(r) Nachweis(e) abgeholt');
    expect(done.out).toContain(VCT.geburtsurkunde);
  });

  it('explains a wrong code, a malformed offer and a malformed request, and sends nothing', async () => {
    const o = await offer('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const wrong = await cli(['receive', o.credential_offer, '--tx-code', o.tx_code === '000000' ? '111111' : '000000']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/Code ist falsch/);
    const noCode = await cli(['receive', o.credential_offer]);
    expect(noCode.code).toBe(1);
    expect(noCode.err).toMatch(/--tx-code/);
    const bad = await cli(['receive', 'openid-credential-offer://?credential_offer_uri=http%3A%2F%2Flocalhost%3A1%2Fnothing', '--tx-code', '123456']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/ungültig oder abgelaufen/);
    const notAnOffer = await cli(['receive', 'hello world']);
    expect(notAnOffer.code).toBe(1);
    const badReq = await cli(['present', 'openid4vp://?client_id=x&request_uri=http%3A%2F%2Flocalhost%3A1%2Fx', '--yes']);
    expect(badReq.code).toBe(1);
    expect(badReq.err).toMatch(/ungültig oder nicht korrekt signiert/);
  });

  it('refuses a request object that is not signed by the client’s DID', async () => {
    // A request claiming to come from the library counter, signed with some other key.
    const { privateKey } = await generateKeyPair('ES256');
    const clientId = `decentralized_identifier:${stack.rpDid('bibliothek')}`;
    const jwt = await new SignJWT({ client_id: clientId, response_type: 'vp_token', response_mode: 'direct_post', response_uri: `${stack.urls.verifier}/verifiers/bibliothek/response`, nonce: 'n'.repeat(32), state: 's'.repeat(32), dcql_query: { credentials: [{ id: 'm', format: 'dc+sd-jwt', meta: { vct_values: [VCT.meldebescheinigung] }, claims: [{ path: ['vorname'] }] }] }, client_metadata: { vp_formats_supported: { 'dc+sd-jwt': {} } } })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-authz-req+jwt', kid: `${stack.rpDid('bibliothek')}#forged` })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const server: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/oauth-authz-req+jwt');
      res.end(jwt);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const uri = `openid4vp://?client_id=${encodeURIComponent(clientId)}&request_uri=${encodeURIComponent(`http://localhost:${port}/forged`)}`;
      const r = await cli(['present', uri, '--yes']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/nicht korrekt signiert/);
    } finally {
      server.close();
    }
  });

  it('warns about and refuses a relying party that is not in the registry, telling it nothing but a refusal', async () => {
    // A self-made "verifier" with its own did:jwk signs a correct-looking request for the Meldebescheinigung.
    const rogue = await startRogueVerifier([['vorname'], ['geburtsdatum']]);
    try {
      const r = await cli(['present', rogue.link, '--yes']);
      expect(r.code).toBe(1);
      expect(r.out).toContain('nicht im Vertrauensregister eingetragen');
      expect(r.err).toMatch(/Nicht gesendet/);
      // The only thing that reached the rogue party is the refusal, no presentation.
      const posted = rogue.posted.join('');
      expect(posted).toContain('error=access_denied');
      expect(posted).not.toContain('vp_token');
    } finally {
      rogue.close();
    }
  });

  it('does not send when the wallet lacks what is asked, and refuses without a passphrase or with a wrong one', async () => {
    const req = await request('bibliothek', 'bibliotheksausweis');
    const r = await cli(['present', req.authorization_request, '--yes']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nichts wird gesendet|nothing is sent/);
    expect((await verdict('bibliothek', req.request_id)).status).toBe('pending');
    const none = await cli(['list'], { WALLET_PASSPHRASE: undefined });
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/WALLET_PASSPHRASE/);
    const wrong = await cli(['list'], { WALLET_PASSPHRASE: 'falsche-passphrase' });
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/falsche|wrong passphrase/i);
  });
  it('without a terminal and without --yes or --no it sends nothing and leaves the request open; --no declines', async () => {
    // The wallet holds a Meldebescheinigung from the first test.
    const req = await request('buergerbuero', 'meldebescheinigung');
    const r = await cli(['present', req.authorization_request]);
    expect(r.code, r.err + r.out).toBe(2);
    expect(r.err).toContain('Keine Entscheidung');
    const v = await verdict('buergerbuero', req.request_id);
    expect(v.status).toBe('pending');
    expect(v.last_attempt).toBeUndefined();
    const no = await cli(['present', req.authorization_request, '--no']);
    expect(no.code).toBe(1);
    expect(no.out).toContain('Abgelehnt');
    expect(await verdict('buergerbuero', req.request_id)).toMatchObject({ status: 'rejected', final: false, last_attempt: { kind: 'wallet_error', error: 'access_denied' } });
    // Still open for a decision: the citizen shares after all.
    expect((await cli(['present', req.authorization_request, '--yes'])).code).toBe(0);
    expect((await verdict('buergerbuero', req.request_id)).status).toBe('verified');
  });
});
