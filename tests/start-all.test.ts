import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/net.ts';

/** The README's first command: `npm start` brings up all four services with demo data. */
describe('npm start', () => {
  it('starts registry, issuer, verifier and wallet, each answering /health, and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'idideal-all-'));
    const [r, i, v, w] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, REGISTRY_PORT: String(r), ISSUER_PORT: String(i), VERIFIER_PORT: String(v), WALLET_PORT: String(w), LOG_LEVEL: 'warn' };
    for (const k of ['REGISTRY_PUBLIC_URL', 'ISSUER_PUBLIC_URL', 'VERIFIER_PUBLIC_URL', 'WALLET_PUBLIC_URL', 'REGISTRY_ADMIN_TOKEN', 'ISSUER_ADMIN_TOKEN', 'VERIFIER_ADMIN_TOKEN', 'KEY_ENCRYPTION_SECRET', 'NODE_ENV']) delete env[k];
    const child = spawn('npm', ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const deadline = Date.now() + 45_000;
      const healthy = async (port: number) => {
        try {
          const res = await fetch(`http://localhost:${port}/health`);
          return res.status === 200 && (await res.json()).status === 'ok';
        } catch {
          return false;
        }
      };
      let all = false;
      while (!all && Date.now() < deadline) {
        all = (await Promise.all([r, i, v, w].map(healthy))).every(Boolean);
        if (!all) await new Promise((res) => setTimeout(res, 250));
      }
      expect(all, out).toBe(true);

      // Demo data: the registry knows the offices on this issuer's port; the issuer serves their DID documents.
      const office = `did:web:localhost%3A${i}:offices:buergerbuero`;
      const q = await fetch(`http://localhost:${r}/trqp/authorization`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ entity_id: office, authority_id: `did:web:localhost%3A${r}:authorities:leipzig`, action: 'issue', resource: 'urn:id-ideal:vct:meldebescheinigung' }),
      });
      expect((await q.json()).authorized).toBe(true);
      const doc = await (await fetch(`http://localhost:${i}/offices/buergerbuero/did.json`)).json();
      expect(doc.id).toBe(office);
      expect((await (await fetch(`http://localhost:${v}/verifiers/bibliothek/did.json`)).json()).id).toBe(`did:web:localhost%3A${v}:verifiers:bibliothek`);

      // Admin tokens were generated once, printed, and written owner-only under DATA_DIR.
      const token = readFileSync(join(dataDir, 'secrets', 'registry-admin-token'), 'utf8').trim();
      expect(out).toContain(token);
      expect(statSync(join(dataDir, 'secrets', 'registry-admin-token')).mode & 0o077).toBe(0);
      expect(statSync(join(dataDir, 'registry.sqlite')).mode & 0o077).toBe(0);
      const audit = await fetch(`http://localhost:${r}/api/audit`, { headers: { authorization: `Bearer ${token}` } });
      expect(audit.status).toBe(200);

      // A newcomer's first minutes: a summary of what to open, and a small index page on every service.
      const deadlineSummary = Date.now() + 20_000;
      while (!out.includes('ID-Ideal läuft / is running:') && Date.now() < deadlineSummary) await new Promise((res) => setTimeout(res, 200));
      expect(out).toContain('ID-Ideal läuft / is running:');
      expect(out).toContain(`http://localhost:${w}`);
      expect(out).toContain(`http://localhost:${i}/offices/buergerbuero/desk`);
      expect(out).toContain(`http://localhost:${v}/verifiers/bibliothek/counter`);
      expect(out).toContain(join(dataDir, 'secrets'));
      // The web wallet keeps its own store (WALLET_WEB_DIR), apart from the CLI's WALLET_DIR: each with its own passphrase.
      const created = await fetch(`http://localhost:${w}/unlock`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams({ passphrase: 'korrekt-pferd-batterie', passphrase_repeat: 'korrekt-pferd-batterie' }), redirect: 'manual' });
      expect(created.status).toBe(303);
      expect(readdirSync(join(dataDir, 'wallet-web')).length).toBeGreaterThan(0);
      expect(existsSync(join(dataDir, 'wallet'))).toBe(false);
      for (const [port, link] of [[r, '/snapshots/latest'], [i, '/offices/buergerbuero/desk'], [v, '/verifiers/bibliothek/counter']] as const) {
        const index = await fetch(`http://localhost:${port}/`);
        expect(index.status).toBe(200);
        expect(index.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await index.text()).toContain(`href="${link}"`);
      }
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await new Promise((res) => child.once('exit', res));
    }
  }, 90_000);
});
