import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * `npm start`: runs the four services on loopback with demo data, each as its own process (as in
 * production), prefixing their output. Stops all when one exits or on SIGINT/SIGTERM.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = [
  ['registry', 'trust-registry/main.ts'],
  ['issuer', 'issuer/main.ts'],
  ['verifier', 'verifier/main.ts'],
  ['wallet', 'wallet-demo/main.ts'],
] as const;

const tsx = join(root, 'node_modules', '.bin', 'tsx');
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
  const child = spawn(tsx, [join(root, entry)], { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
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
    if (!stopping) {
      console.error(`${prefix}exited (${signal ?? code}); stopping the others`);
      stop(code ?? 1);
    }
  });
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
