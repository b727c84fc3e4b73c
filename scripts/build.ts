import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run build [-- --outDir <dir>]`: compiles the services, scripts and core to JavaScript
 * (tsconfig.build.json; relative `.ts` imports become `.js`) and copies the files the code reads at
 * run time next to their modules (`core/demo/leipzig.city.yaml`, the JSON-LD contexts under
 * core/formats, …: every non-TypeScript file of the compiled folders). Production then runs
 * `node dist/<service>/main.js`, without a TypeScript loader (docs/deployment.md).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['core', 'issuer', 'verifier', 'wallet-demo', 'trust-registry', 'scripts'];

function outDirArg(argv: string[]): string {
  const i = argv.indexOf('--outDir');
  if (i < 0) return join(root, 'dist');
  const value = argv[i + 1];
  if (!value) throw new Error('--outDir needs a directory');
  const dir = resolve(value);
  // Never compile over the sources: not the repository or a folder above it, nor a source folder.
  const up = relative(dir, root);
  if (up === '' || !up.startsWith('..') || SOURCES.some((s) => (dir + sep).startsWith(join(root, s) + sep)))
    throw new Error(`--outDir ${dir} would overwrite the sources`);
  return dir;
}

/** Every file under `dir` that the compiler does not turn into JavaScript (assets read at run time). */
function assets(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...assets(p));
    else if (e.isFile() && !e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const outDir = outDirArg(process.argv.slice(2));
// The default dist/ is rebuilt from scratch, so that no module of a deleted source stays behind.
if (outDir === join(root, 'dist')) rmSync(outDir, { recursive: true, force: true });

const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) {
  console.error(`build: tsc failed (${tsc.status ?? tsc.signal})`);
  process.exit(1);
}

let copied = 0;
for (const src of SOURCES.flatMap((s) => assets(join(root, s)))) {
  const dest = join(outDir, relative(root, src));
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(src, dest);
  copied++;
}
// The compiled modules are ES modules wherever the folder is put (Node reads "type" from the nearest package.json).
writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module', private: true }, null, 2) + '\n');
const shown = relative(root, outDir);
console.log(`build: compiled to ${shown.startsWith('..') ? outDir : shown}, ${copied} asset file(s) copied`);
