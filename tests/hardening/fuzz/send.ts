import type { Case } from './corpus.ts';

export interface Outcome {
  c: Case;
  status: number;
  ms: number;
  /** Set when the answer breaks the error contract (5xx, stack trace, wrong error media type). */
  problem?: string;
}

const STACK = /\bat [\w.<>]+ \(|node_modules|\.ts:\d+:\d+/;

/** Sends the cases with a few in flight at once; checks each answer against the error contract. */
export async function sendAll(base: string, cases: Case[], concurrency = 6): Promise<Outcome[]> {
  const out: Outcome[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      const t0 = performance.now();
      let status = 0;
      let problem: string | undefined;
      try {
        const res = await fetch(base + c.path, { method: c.method, headers: c.headers, ...(c.body !== undefined && c.method !== 'GET' ? { body: c.body } : {}), redirect: 'manual' });
        status = res.status;
        const text = await res.text();
        if (status >= 500) problem = `HTTP ${status}: ${text.slice(0, 300)}`;
        else if (STACK.test(text)) problem = `stack trace in the answer: ${text.slice(0, 300)}`;
        else if (status >= 400 && text.length > 0) {
          const type = res.headers.get('content-type') ?? '';
          if (!/^application\/(problem\+)?json/.test(type) && !/^text\/html/.test(type)) problem = `error answered as ${type}`;
        }
      } catch (e) {
        problem = `no answer: ${(e as Error).message}`;
      }
      out[i] = { c, status, ms: performance.now() - t0, ...(problem ? { problem } : {}) };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

export function describeCase(c: Case): string {
  const body = c.body === undefined ? '' : typeof c.body === 'string' ? c.body : c.body.toString('latin1');
  return `[${c.cls}] ${c.template}: ${c.method} ${c.path.slice(0, 200)} ${JSON.stringify(c.headers['content-type'] ?? null)} ${body.slice(0, 200)}${body.length > 200 ? `… (${body.length} bytes)` : ''}`;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}
