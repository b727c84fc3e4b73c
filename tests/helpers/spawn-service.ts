import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ChildService {
  proc: ChildProcess;
  /** Resolves when the process has exited (code, or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Sends a signal (SIGTERM, SIGKILL) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs a service's main.ts as a child process with `node --import tsx` (one process, so a signal
 * reaches the service itself and not a wrapper), and waits until `GET <healthUrl>/health` answers.
 */
export async function spawnService(entry: string, env: Record<string, string>, healthUrl: string, timeoutMs = 60_000): Promise<ChildService> {
  const proc = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-20_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const service: ChildService = {
    proc,
    exited,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (!done) proc.kill(signal);
      return exited;
    },
  };
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (done) throw new Error(`${entry} exited before it was healthy:\n${out}`);
    try {
      if ((await fetch(`${healthUrl}/health`)).ok) return service;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await service.stop('SIGKILL');
  throw new Error(`${entry} did not become healthy within ${timeoutMs} ms:\n${out}`);
}
