import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { LEIPZIG, OFFICES, RELYING_PARTIES } from '../core/demo/leipzig.ts';

/**
 * `npm start`: runs the four services on loopback with demo data, each as its own process (as in
 * production), prefixing their output. Stops all when one exits or on SIGINT/SIGTERM.
 * Compiled (`node dist/scripts/start-all.js`, after `npm run build`) it starts the compiled services
 * with node; from the sources, with tsx.
 */
const here = fileURLToPath(import.meta.url);
const compiled = here.endsWith('.js');
const root = join(dirname(here), '..');
// Compiled, root is dist/ (rebuilt from scratch by `npm run build`): the services then run in the caller's folder, so that `./.data` never lies inside it.
const cwd = compiled ? process.cwd() : root;
const services = [
  ['registry', 'trust-registry/main.ts'],
  ['issuer', 'issuer/main.ts'],
  ['verifier', 'verifier/main.ts'],
  ['wallet', 'wallet-demo/main.ts'],
] as [string, string][];
// Demo mode: the demo identity provider for the self-service login (docs/self-service.md), unless a
// real one is configured. Optional: if it cannot start (e.g. IDP_PORT taken), the others keep running.
const demoIdp = process.env.NODE_ENV !== 'production' && !process.env.ISSUER_OIDC_ISSUER;
if (demoIdp) services.push(['idp', 'core/demo/idp/main.ts']);
const optional = new Set(['idp']);

const command = (entry: string): [string, string[]] =>
  compiled ? [process.execPath, [join(root, entry.replace(/\.ts$/, '.js'))]] : [join(root, 'node_modules', '.bin', 'tsx'), [join(root, entry)]];
const children: ChildProcess[] = [];
let stopping = false;

const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))))).then(() => process.exit(code));
};

for (const [name, entry] of services) {
  const [bin, args] = command(entry);
  const child = spawn(bin, args, { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const prefix = `[${name.padEnd(8)}] `;
  const pipe = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) => {
    let buf = '';
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        out.write(prefix + buf.slice(0, i) + '\n');
        buf = buf.slice(i + 1);
      }
    });
  };
  pipe(child.stdout!, process.stdout);
  pipe(child.stderr!, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping && optional.has(name)) {
      console.error(`${prefix}exited (${signal ?? code}); online self-service is unavailable, the other services keep running`);
      return;
    }
    if (!stopping) {
      console.error(`${prefix}exited (${signal ?? code}); stopping the others`);
      stop(code ?? 1);
    }
  });
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

/** Where each service is, as the services themselves read it (docs/contract.md defaults). */
const urlOf = (name: 'REGISTRY' | 'ISSUER' | 'VERIFIER' | 'WALLET', port: number) =>
  (process.env[`${name}_PUBLIC_URL`] ?? `http://localhost:${process.env[`${name}_PORT`] ?? port}`).replace(/\/$/, '');
const urls = { registry: urlOf('REGISTRY', 3003), issuer: urlOf('ISSUER', 3001), verifier: urlOf('VERIFIER', 3002), wallet: urlOf('WALLET', 3004) };

/** Once all four answer /health: a short summary of what to open, for a newcomer's first minutes. */
async function summary(): Promise<void> {
  const deadline = Date.now() + 120_000;
  const up = (u: string) => fetch(`${u}/health`).then((r) => r.ok, () => false);
  while (!stopping && Date.now() < deadline) {
    if ((await Promise.all(Object.values(urls).map(up))).every(Boolean)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (stopping || Date.now() >= deadline) return;
  const dataDir = process.env.DATA_DIR ?? './.data';
  const tokens = ['ISSUER_ADMIN_TOKEN', 'VERIFIER_ADMIN_TOKEN', 'REGISTRY_ADMIN_TOKEN'].every((k) => process.env[k])
    ? 'aus der Umgebung / from the environment (*_ADMIN_TOKEN)'
    : `${join(dataDir, 'secrets')}/ (issuer-admin-token, verifier-admin-token, registry-admin-token)`;
  const rows: [string, string][] = [
    ['Wallet (Bürgerinnen und Bürger / citizens)', urls.wallet],
    ...OFFICES.map((o): [string, string] => [`Schreibtisch / desk: ${o.name.de}`, `${urls.issuer}/offices/${o.slug}/desk`]),
    ...RELYING_PARTIES.map((rp): [string, string] => [`Theke / counter: ${rp.name.de}`, `${urls.verifier}/verifiers/${rp.slug}/counter`]),
    ['Vertrauensregister / trust registry', `${urls.registry}/`],
    ...(demoIdp
      ? LEIPZIG.offices.filter((o) => o.self_service).map((o): [string, string] => [`Online-Abruf / self-service: ${o.name.de}`, `${urls.issuer}/offices/${o.slug}/self-service`])
      : []),
    ...(demoIdp ? [['Demo-Bürgerkonto / demo IdP', (process.env.IDP_PUBLIC_URL ?? `http://localhost:${process.env.IDP_PORT ?? 3005}`).replace(/\/$/, '')] as [string, string]] : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(
    ['', 'ID-Ideal läuft / is running:', ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`), `  Zugangsschlüssel / admin tokens: ${tokens}`, '  Beenden / stop: Strg+C / Ctrl+C', ''].join('\n') + '\n',
  );
}
void summary();
