import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/net.ts';

/**
 * Production runs compiled JavaScript with plain node, no TypeScript loader (docs/deployment.md,
 * Production): `npm run build` (scripts/build.ts, tsconfig.build.json) compiles into an outDir, and
 * the compiled registry and issuer start from there with `node <service>/main.js`, in a folder of
 * their own (the outDir plus the dependencies, as a deployment has them), with a fresh DATA_DIR.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    p.once('exit', (code) => resolve({ code, out }));
  });
}

interface Started {
  proc: ChildProcess;
  output(): string;
}

/** `node <entry>` (nothing else on the command line), waiting until `/health` answers. */
async function startCompiled(entry: string, cwd: string, env: Record<string, string>, url: string): Promise<Started> {
  const proc = spawn(process.execPath, [entry], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const end = Date.now() + 90_000;
  while (Date.now() < end) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${entry} exited before it was healthy:\n${out}`);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return { proc, output: () => out };
    await new Promise((r) => setTimeout(r, 200));
  }
  proc.kill('SIGKILL');
  throw new Error(`${entry} did not become healthy:\n${out}`);
}

/** The process's command line as the kernel has it (Linux): program and arguments. */
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

/** The processes whose parent is `pid` (from /proc/<pid>/stat; the command name may hold spaces, so read after its ')'). */
const childrenOf = (pid: number) =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);

/** Every file under dir (relative paths). */
const files = (dir: string, base = dir): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? (e.name === 'node_modules' ? [] : files(join(dir, e.name), base)) : [join(dir, e.name).slice(base.length + 1)]));

describe('compiled build (npm run build, then node dist/…)', () => {
  let work: string;
  let out: string;
  const started: Started[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'idideal-build-'));
    out = join(work, 'dist');
    const built = await run(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'build.ts'), '--outDir', out], ROOT);
    expect(built.code, built.out).toBe(0);
    // A deployment: the compiled tree next to the installed dependencies.
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
  }, 600_000);

  afterAll(async () => {
    for (const s of started) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) {
        s.proc.kill('SIGTERM');
        await new Promise((r) => s.proc.once('exit', r));
      }
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('emits JavaScript only, with relative imports to .js, and the run-time assets next to their modules', () => {
    const all = files(out);
    expect(all.filter((f) => f.endsWith('.ts'))).toEqual([]);
    for (const f of ['trust-registry/main.js', 'issuer/main.js', 'verifier/main.js', 'wallet-demo/main.js', 'scripts/start-all.js', 'scripts/config.js', 'core/demo/leipzig.city.yaml', 'core/formats/jsonld-contexts/credentials-v2.jsonld'])
      expect(existsSync(join(out, f)), f).toBe(true);
    // TypeScript 5.7+ rewriteRelativeImportExtensions: no relative specifier may still name a .ts file.
    const tsSpecifier = /(?:from\s*|import\s*\(\s*)['"]\.{1,2}\/[^'"]*\.ts['"]/;
    for (const f of all.filter((f) => f.endsWith('.js'))) expect(tsSpecifier.test(readFileSync(join(out, f), 'utf8')), f).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')).type).toBe('module');
  });

  it('the compiled registry and issuer run under plain node: /health, a TRQP query, an office’s issuer metadata', async () => {
    const [r, i] = await Promise.all([freePort(), freePort()]);
    const urls = { registry: `http://localhost:${r}`, issuer: `http://localhost:${i}` };
    const env = {
      DATA_DIR: mkdtempSync(join(work, 'data-')),
      REGISTRY_PORT: String(r),
      ISSUER_PORT: String(i),
      REGISTRY_PUBLIC_URL: urls.registry,
      ISSUER_PUBLIC_URL: urls.issuer,
      REGISTRY_ADMIN_TOKEN: 'build-test-registry-admin-token-0123456789',
      ISSUER_ADMIN_TOKEN: 'build-test-issuer-admin-token-0123456789',
      KEY_ENCRYPTION_SECRET: 'd'.repeat(64),
    };
    const registry = await startCompiled(join(out, 'trust-registry', 'main.js'), work, env, urls.registry);
    started.push(registry);
    const issuer = await startCompiled(join(out, 'issuer', 'main.js'), work, env, urls.issuer);
    started.push(issuer);

    // No development loader: the kernel's command line is `node <outDir>/<service>/main.js`, nothing more.
    for (const [s, entry] of [
      [registry, 'trust-registry/main.js'],
      [issuer, 'issuer/main.js'],
    ] as const) {
      const argv = cmdline(s.proc.pid!);
      expect(argv).toEqual([process.execPath, join(out, entry)]);
      expect(argv.join(' ')).not.toMatch(/tsx|--import|--loader|--experimental/);
    }

    for (const url of Object.values(urls)) expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });

    // Registry: a TRQP authorization query about a demo office (demo data comes from core/demo/leipzig.city.yaml, a copied asset).
    const office = `did:web:localhost%3A${i}:offices:buergerbuero`;
    const q = await fetch(`${urls.registry}/trqp/authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entity_id: office, authority_id: `did:web:localhost%3A${r}:authorities:leipzig`, action: 'issue', resource: 'urn:id-ideal:vct:meldebescheinigung' }),
    });
    expect(q.status, registry.output()).toBe(200);
    expect((await q.json()).authorized).toBe(true);

    // Issuer: the office's OID4VCI 1.0 Credential Issuer Metadata (section 12.2, well-known path with the issuer's path appended).
    const m = await fetch(`${urls.issuer}/.well-known/openid-credential-issuer/offices/buergerbuero`);
    expect(m.status, issuer.output()).toBe(200);
    const meta = await m.json();
    expect(meta.credential_issuer).toBe(`${urls.issuer}/offices/buergerbuero`);
    expect(Object.keys(meta.credential_configurations_supported ?? {}).length).toBeGreaterThan(0);
  }, 240_000);

  it('node dist/scripts/start-all.js starts the four compiled services with node and prints the summary', async () => {
    const [r, i, v, w, d] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const dataDir = mkdtempSync(join(work, 'all-'));
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', DATA_DIR: dataDir, REGISTRY_PORT: String(r), ISSUER_PORT: String(i), VERIFIER_PORT: String(v), WALLET_PORT: String(w), IDP_PORT: String(d) };
    const all = spawn(process.execPath, [join(out, 'scripts', 'start-all.js')], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let text = '';
    all.stdout!.on('data', (d) => (text += d));
    all.stderr!.on('data', (d) => (text += d));
    const exited = new Promise((res) => all.once('exit', res));
    try {
      const end = Date.now() + 120_000;
      while (!text.includes('ID-Ideal läuft / is running:') && all.exitCode === null && Date.now() < end) await new Promise((res) => setTimeout(res, 250));
      expect(text).toContain('ID-Ideal läuft / is running:');
      expect(text).toContain(`http://localhost:${i}/offices/buergerbuero/desk`);
      for (const port of [r, i, v, w]) expect((await fetch(`http://localhost:${port}/health`)).status).toBe(200);
      const entries = childrenOf(all.pid!).map((pid) => cmdline(pid));
      expect(entries.map((a) => a.slice(1)).sort()).toEqual(['issuer/main.js', 'trust-registry/main.js', 'verifier/main.js', 'wallet-demo/main.js', 'core/demo/idp/main.js'].map((e) => [join(out, e)]).sort());
      for (const argv of entries) expect(argv[0]).toBe(process.execPath);
    } finally {
      process.kill(-all.pid!, 'SIGTERM');
      await exited;
    }
  }, 240_000);
});
