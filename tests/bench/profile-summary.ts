import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a sample's own time goes: a package under node_modules, a file of ours, node itself, or idle/GC. */
function bucketOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)' ? functionName : `(native) ${functionName || 'anonymous'}`;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url;
  const ours = /\/(core|issuer|verifier|trust-registry|wallet-demo)\/(.+)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

/**
 * Self time of every `.cpuprofile` in `dir` (V8's `--cpu-prof`), summed by package or file, busy
 * time only (idle left out): the top entries, as share of busy time. With `window` only the samples
 * stamped inside it count: V8 stamps them on the monotonic clock (µs), the clock of the bench's
 * `process.hrtime`, so start-up, warm-up and the later half-load run are left out. Printed by
 * `npm run bench -- --profile`.
 */
export function summarizeProfiles(dir: string, top = 15, window?: { startUs: number; endUs: number }): string[] {
  const totals = new Map<string, number>();
  let busy = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    let t = p.startTime;
    p.samples.forEach((id, i) => {
      const us = p.timeDeltas[i] ?? 0;
      // timeDeltas[i] is the time from the previous sample to sample i: sample i is stamped t.
      t += us;
      if (window && (t < window.startUs || t > window.endUs)) return;
      const bucket = bucketOf(byId.get(id)!.callFrame);
      if (bucket === '(idle)') return;
      busy += us;
      totals.set(bucket, (totals.get(bucket) ?? 0) + us);
    });
  }
  if (busy === 0) return ['  (no samples)'];
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
}

/** The top functions by self time (name, file of ours or package, line), busy time in `window`: where inside a package the time goes. */
export function topFunctions(dir: string, top = 25, window?: { startUs: number; endUs: number }): string[] {
  const totals = new Map<string, number>();
  let busy = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    let t = p.startTime;
    p.samples.forEach((id, i) => {
      const us = p.timeDeltas[i] ?? 0;
      t += us;
      if (window && (t < window.startUs || t > window.endUs)) return;
      const frame = byId.get(id)!.callFrame as ProfileNode['callFrame'] & { lineNumber?: number };
      const bucket = bucketOf(frame);
      if (bucket === '(idle)') return;
      busy += us;
      const key = `${frame.functionName || '(anonymous)'}  ${bucket}${frame.url ? `:${(frame.lineNumber ?? -1) + 1}` : ''}`;
      totals.set(key, (totals.get(key) ?? 0) + us);
    });
  }
  if (busy === 0) return ['  (no samples)'];
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
}
