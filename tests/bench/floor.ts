import { fork, type ChildProcess } from 'node:child_process';
import express from 'express';
import { createBaseApp, finish } from '../../core/http/app.ts';
import { createFastLane } from '../../core/http/fast-lane.ts';
import { createLogger } from '../../core/log/logger.ts';
import { listen } from '../../core/service/run.ts';
import { freePort } from '../helpers/net.ts';
import { cpuSeconds } from './server-cpu.ts';
import { loadFetch, runLoad, type BenchResult } from './stats.ts';

/**
 * The floor of the stack on this machine: four trivial requests per "flow" (about the number a full
 * issuance or verification takes), without database, crypto or validation, driven by the same load
 * generator on the same cores. Two stacks: a bare Express app (the same JSON and form body parsers),
 * and the services' fast lane (core/http/fast-lane.ts: Fastify with the services' request stamp,
 * limiter, body parsers and error exit, Express behind it) on which the hot routes now run. No real
 * flow can be faster than its lane's floor; the bench prints both beside the real figures.
 */
if (process.argv[2] === 'floor-server' && process.argv[4] === 'lane') {
  const logger = createLogger('floor', 'silent');
  const app = createBaseApp({ logger, bodyLimit: '64kb' });
  finish(app, logger);
  const lane = createFastLane({ logger, bodyLimit: '64kb', fallback: app });
  let n = 0;
  lane.app.post('/a', async (req, reply) => {
    reply.code(201);
    return { id: ++n, body: req.body };
  });
  lane.app.post('/b', async () => ({ access_token: 'x'.repeat(400), token_type: 'Bearer' }));
  lane.app.post('/c', async () => ({ c_nonce: 'n'.repeat(32) }));
  lane.app.post('/d', async (req) => ({ credentials: [{ credential: 'y'.repeat(1500) }], echo: req.body }));
  await listen(await lane.handler(), '127.0.0.1', Number(process.argv[3]));
  process.send?.('up');
} else if (process.argv[2] === 'floor-server') {
  const app = express();
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  let n = 0;
  app.post('/a', (req, res) => res.status(201).json({ id: ++n, body: req.body }));
  app.post('/b', (_req, res) => res.json({ access_token: 'x'.repeat(400), token_type: 'Bearer' }));
  app.post('/c', (_req, res) => res.json({ c_nonce: 'n'.repeat(32) }));
  app.post('/d', (req, res) => res.json({ credentials: [{ credential: 'y'.repeat(1500) }], echo: req.body }));
  app.listen(Number(process.argv[3]), '127.0.0.1', () => process.send?.('up'));
}

export async function benchFloor(opts: { seconds: number; concurrency: number; servers: number; stack?: 'express' | 'lane' }): Promise<BenchResult> {
  const ports = await Promise.all(Array.from({ length: opts.servers }, () => freePort()));
  const stack = opts.stack ?? 'express';
  const children: ChildProcess[] = ports.map((p) => fork(new URL(import.meta.url).pathname, ['floor-server', String(p), stack], { execArgv: ['--import', 'tsx'], stdio: 'ignore' }));
  try {
    await Promise.all(children.map((c) => new Promise((r) => c.once('message', r))));
    let k = 0;
    const body = JSON.stringify({ credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: { vorname: 'Erika', familienname: 'Mustermann', anschrift: { strasse: 'Markt', ort: 'Leipzig' } } });
    const json = { 'content-type': 'application/json' };
    const flow = async () => {
      const b = `http://127.0.0.1:${ports[k++ % ports.length]}`;
      await (await loadFetch(`${b}/a`, { method: 'POST', headers: json, body })).json();
      await (await loadFetch(`${b}/b`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=x&pre-authorized_code=y&tx_code=123456' })).json();
      await (await loadFetch(`${b}/c`, { method: 'POST' })).json();
      await (await loadFetch(`${b}/d`, { method: 'POST', headers: json, body })).json();
    };
    // Server CPU per flow as in the real runs: what the HTTP stack and Node cost for four requests,
    // the part of a real flow's CPU that no change inside our handlers can remove.
    return await runLoad(stack === 'lane' ? 'fast-lane floor' : 'Express floor', flow, { seconds: opts.seconds, concurrency: opts.concurrency, warmup: 50, cpu: () => cpuSeconds(children.map((c) => c.pid!).filter(Boolean)) });
  } finally {
    for (const c of children) c.kill();
  }
}
