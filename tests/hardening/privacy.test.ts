import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SecretBox } from '@veramo/kms-local';
import { freePort } from '../helpers/net.ts';

/**
 * Privacy as a test (issue 9): the whole Leipzig scenario runs with personal values that occur
 * nowhere else, through the real processes of `npm start` at the most verbose log level and the
 * wallet CLI, and a city back-end over the W3C VC-API with API keys. Afterwards none of those
 * values, no SD-JWT, no transaction code, no admin token and no API key secret
 * appears in any log line of any service; none of them is readable in any database file (the
 * verifier's included, WAL files too); and no service's private key is stored in clear anywhere.
 */
const letters = (n: number) => Array.from(randomBytes(n), (b) => String.fromCharCode(65 + (b % 26))).join('');
const tag = letters(8);
const P = {
  vorname: `Quirin${tag}`,
  familienname: `Zwetschke${tag}`,
  geburtsname: `Xaverl${tag}`,
  geburtsdatum: `1931-0${1 + (randomBytes(1)[0]! % 9)}-1${randomBytes(1)[0]! % 9}`,
  strasse: `Geheimgasse${tag}`,
  passnummer: `LP-${tag}`,
  ausweisnummer: `LSB-${tag}`,
  registernummer: `G ${tag}/1931`,
  geburtsort: `Dorf${tag}`,
};
const MELDE = { vorname: P.vorname, familienname: P.familienname, geburtsdatum: P.geburtsdatum, anschrift: { strasse: P.strasse, hausnummer: '7b', postleitzahl: '04109', ort: 'Leipzig' }, wohnsitz_leipzig: true, alter_ueber_18: true };
const PASS = { ermaessigungsberechtigt: true, gueltig_bis: '2027-12-31', passnummer: P.passnummer, vorname: P.vorname, familienname: P.familienname, geburtsdatum: P.geburtsdatum };
const CARD = { ausweisnummer: P.ausweisnummer, nutzergruppe: 'ermaessigt', gueltig_bis: '2028-12-31', vorname: P.vorname, familienname: P.familienname, geburtsdatum: P.geburtsdatum };
const BIRTH = { vorname: P.vorname, familienname: P.familienname, geburtsname: P.geburtsname, geburtsdatum: P.geburtsdatum, geburtsort: P.geburtsort, registernummer: P.registernummer, standesamt: 'Leipzig' };

const TOKENS = { REGISTRY_ADMIN_TOKEN: `reg-${letters(24)}`, ISSUER_ADMIN_TOKEN: `iss-${letters(24)}`, VERIFIER_ADMIN_TOKEN: `ver-${letters(24)}` };
const SECRET = randomBytes(32).toString('hex');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}


/** Every private key the services keep, decrypted with the key-encryption secret (Veramo's SecretBox). */
async function privateKeysOf(sqliteFile: string): Promise<string[]> {
  const db = new Database(sqliteFile, { readonly: true });
  try {
    const rows = db.prepare('SELECT privateKeyHex FROM "private-key"').all() as { privateKeyHex: string }[];
    const box = new SecretBox(SECRET);
    return Promise.all(rows.map((r) => box.decrypt(r.privateKeyHex!)));
  } finally {
    db.close();
  }
}

describe('privacy', () => {
  it('keeps personal data out of every log line and database, and private keys out of clear text', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'idideal-privacy-'));
    const walletDir = join(dataDir, 'wallet');
    const [r, i, v, w] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const urls = { registry: `http://localhost:${r}`, issuer: `http://localhost:${i}`, verifier: `http://localhost:${v}` };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...TOKENS,
      KEY_ENCRYPTION_SECRET: SECRET,
      DATA_DIR: dataDir,
      REGISTRY_PORT: String(r),
      ISSUER_PORT: String(i),
      VERIFIER_PORT: String(v),
      WALLET_PORT: String(w),
      LOG_LEVEL: 'trace',
      STATUS_LIST_MAX_AGE: '0',
    };
    for (const k of ['REGISTRY_PUBLIC_URL', 'ISSUER_PUBLIC_URL', 'VERIFIER_PUBLIC_URL', 'WALLET_PUBLIC_URL', 'NODE_ENV', 'DATABASE_URL']) delete env[k];
    const child = spawn('npm', ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let logs = '';
    child.stdout.on('data', (d) => (logs += d));
    child.stderr.on('data', (d) => (logs += d));
    const exited = new Promise((res) => child.once('exit', res));
    const txCodes: string[] = [];
    const secretsSeen: string[] = [];
    try {
      const deadline = Date.now() + 60_000;
      const up = async (port: number) => fetch(`http://localhost:${port}/health`).then((x) => x.status === 200, () => false);
      while (!(await Promise.all([r, i, v, w].map(up))).every(Boolean)) {
        if (Date.now() > deadline) throw new Error(`services did not start:\n${logs}`);
        await new Promise((res) => setTimeout(res, 250));
      }
      const admin = async (svc: keyof typeof urls, path: string, body?: unknown) => {
        const token = svc === 'registry' ? TOKENS.REGISTRY_ADMIN_TOKEN : svc === 'issuer' ? TOKENS.ISSUER_ADMIN_TOKEN : TOKENS.VERIFIER_ADMIN_TOKEN;
        const res = await fetch(urls[svc] + path, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        return res.json();
      };
      const cli = (args: string[]) =>
        new Promise<{ code: number; out: string }>((resolve) =>
          execFile('npx', ['tsx', 'wallet-demo/cli.ts', ...args], { env: { ...process.env, WALLET_DIR: walletDir, WALLET_PASSPHRASE: 'korrekt-pferd-batterie', REGISTRY_PUBLIC_URL: urls.registry }, timeout: 60_000 }, (e, stdout, stderr) =>
            resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
          ),
        );
      const receive = async (office: string, configuration: string, claims: unknown, approval?: 'manual') => {
        const o = await admin('issuer', `/api/offices/${office}/offers`, { credential_configuration_id: configuration, claims, ...(approval ? { approval } : {}) });
        txCodes.push(o.tx_code);
        const res = await cli(['receive', o.credential_offer, '--tx-code', o.tx_code]);
        expect(res.code, res.out).toBe(0);
        return o.offer_id as string;
      };
      const presentTo = async (rp: string, template: string) => {
        const q = await admin('verifier', `/api/verifiers/${rp}/requests`, { template });
        const res = await cli(['present', q.authorization_request, '--yes']);
        return { res, verdict: await admin('verifier', `/api/verifiers/${rp}/requests/${q.request_id}`) };
      };

      // The Leipzig story: residence, Leipzig-Pass, library registration, library card, birth certificate.
      await receive('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
      const passOffer = await receive('sozialamt', 'leipzig_pass_sd_jwt', PASS);
      expect((await presentTo('bibliothek', 'anmeldung_bibliothek')).verdict.status).toBe('verified');
      await receive('bibliothek', 'bibliotheksausweis_sd_jwt', CARD);
      await receive('bibliothek', 'bibliotheksausweis_jwt_vc', CARD);
      expect((await presentTo('bibliothek', 'bibliotheksausweis')).verdict.status).toBe('verified');
      const birth = await receive('standesamt', 'geburtsurkunde_sd_jwt', BIRTH, 'manual');
      await admin('issuer', `/api/offices/standesamt/offers/${birth}/approve`, {});
      expect((await cli(['list'])).code).toBe(0);
      expect((await presentTo('buergerbuero', 'meldebescheinigung')).verdict.status).toBe('verified');
      // An office back-end over the W3C VC-API with a clerk's API key (VCDM 2.0, VC-JOSE-COSE), verified by a counter's key.
      const apikey = (service: string, scope: string) =>
        new Promise<string>((resolve, reject) =>
          execFile('npx', ['tsx', 'scripts/api-keys.ts', 'create', '--service', service, '--role', 'clerk', '--scope', scope, '--json'], { env: { ...env, LOG_LEVEL: 'warn' }, timeout: 60_000 }, (e, stdout) => (e ? reject(e) : resolve(JSON.parse(stdout).token))),
        );
      const [issuerKey, verifierKey] = [await apikey('issuer', 'office:bibliothek'), await apikey('verifier', 'verifier:bibliothek')];
      secretsSeen.push(issuerKey, verifierKey);
      const post = (url: string, key: string, body: unknown) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const credential = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential', 'Bibliotheksausweis'], credentialSubject: { id: 'did:example:citizen', ...CARD } };
      const issued = await post(`${urls.issuer}/offices/bibliothek/credentials/issue`, issuerKey, { credential, options: {} });
      expect(issued.status, await issued.clone().text()).toBe(201);
      const checked = await (await post(`${urls.verifier}/credentials/verify`, verifierKey, { verifiableCredential: (await issued.json()).verifiableCredential })).json();
      expect(checked.verified, JSON.stringify(checked.errors)).toBe(true);

      // A rejection too: the Leipzig-Pass is revoked, the next registration at the library fails.
      const pass = await admin('issuer', `/api/offices/sozialamt/offers/${passOffer}`);
      for (const c of pass.credentials) await admin('issuer', `/api/offices/sozialamt/credentials/${c.credential_id}/status`, { status: 'revoked' });
      const rejected = await presentTo('bibliothek', 'anmeldung_bibliothek');
      // Not verified: `rejected` with the reason, not final (the request stays open, verifier/last-attempt.ts).
      expect(rejected.verdict).toMatchObject({ status: 'rejected', final: false });
      expect(rejected.verdict.last_attempt.errors.map((e: { code: string }) => e.code)).toContain('credential_revoked');
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
      // npm may exit before the services have closed their databases: wait until none answers.
      const down = async (port: number) => fetch(`http://localhost:${port}/health`).then(() => false, () => true);
      for (let t = Date.now(); Date.now() - t < 15_000 && !(await Promise.all([r, i, v, w].map(down))).every(Boolean); ) await new Promise((res) => setTimeout(res, 200));
      await new Promise((res) => setTimeout(res, 500));
    }

    // 1. Logs: every line of every service, at trace level.
    const lines = logs.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(50);
    const secrets = [...Object.values(P), ...txCodes, ...Object.values(TOKENS), SECRET, ...secretsSeen.map((t) => t.split('.')[1]!)];
    const leaked = lines.filter((l) => secrets.some((s) => l.includes(s)));
    expect(leaked.slice(0, 5), 'log lines with personal data, codes or secrets').toEqual([]);
    expect(lines.filter((l) => /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*~/.test(l)).slice(0, 3), 'an SD-JWT in a log line').toEqual([]);

    // 2. Databases: no personal value readable in any file of any service (SQLite, WAL, shm).
    const dbFiles = filesUnder(dataDir).filter((f) => !f.startsWith(walletDir) && /\.sqlite(-wal|-shm)?$/.test(f));
    expect(dbFiles.some((f) => f.endsWith('verifier.sqlite'))).toBe(true);
    for (const f of dbFiles.filter((x) => existsSync(x))) {
      const bytes = readFileSync(f);
      for (const s of Object.values(P)) expect(bytes.includes(Buffer.from(s)), `${s} in ${f}`).toBe(false);
    }
    // The wallet's own store is encrypted under the passphrase as well.
    for (const f of filesUnder(walletDir)) for (const s of Object.values(P)) expect(readFileSync(f).includes(Buffer.from(s)), `${s} in ${f}`).toBe(false);

    // 3. Private keys: decrypted here with the secret, then searched for in clear in every file.
    const keys = (await Promise.all(dbFiles.filter((f) => f.endsWith('.sqlite')).map(privateKeysOf))).flat();
    expect(keys.length).toBeGreaterThanOrEqual(7);
    const everything = filesUnder(dataDir).filter((f) => statSync(f).isFile());
    for (const hex of keys) {
      const raw = Buffer.from(hex, 'hex');
      const forms = [raw, Buffer.from(hex), Buffer.from(hex.toUpperCase()), Buffer.from(raw.toString('base64url')), Buffer.from(raw.toString('base64'))];
      for (const f of everything) {
        const bytes = readFileSync(f);
        expect(forms.some((k) => bytes.includes(k)), `a private key in clear in ${f}`).toBe(false);
      }
      expect(logs.includes(hex) || logs.includes(raw.toString('base64url')), 'a private key in the logs').toBe(false);
    }
  }, 240_000);
});
