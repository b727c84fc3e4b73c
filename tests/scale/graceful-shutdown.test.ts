import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/net.ts';
import { startTestRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { spawnService, type ChildService } from '../helpers/spawn-service.ts';
import { NO_RATE_LIMITS, cNonce, createOffer, credentialRequest, holderKey, preAuthorizedCode, proofJwt, tokenRequest } from './flows.ts';

/**
 * Graceful shutdown (core/service/run.ts shutdownOnSignals): SIGTERM while a credential request is
 * in flight. The request is held inside the issuer deterministically, not by timing: the issuer
 * asks the trust registry before it signs (ISSUER_TRUST_MAX_AGE=0: on every request), and the
 * registry sits behind a gate this test opens only after the signal. The request must complete,
 * new connections must be refused meanwhile, and the process must exit 0. With ISSUER_WORKERS=2
 * the signal goes to the primary, which must wait for its workers to finish.
 */
const TOKEN = 'test-issuer-admin-token-0123456789';

describe.each([
  { workers: 1, what: 'one process' },
  { workers: 2, what: 'ISSUER_WORKERS=2: SIGTERM to the primary' },
])('SIGTERM with a request in flight ($what)', ({ workers }) => {
  let registry: RunningRegistry | undefined;
  let gate: Server | undefined;
  let issuer: ChildService | undefined;
  afterAll(async () => {
    await issuer?.stop('SIGKILL');
    gate?.closeAllConnections();
    await new Promise((r) => (gate ? gate.close(r) : r(undefined)));
    await registry?.close();
  });

  it('finishes the request, refuses new ones, closes the database and exits 0', async () => {
    const [pi, pg, pr] = await Promise.all([freePort(), freePort(), freePort()]);
    const publicUrl = `http://localhost:${pi}`;
    // The registry's public URL (and so its did:web) is the gate's; the gate forwards to it.
    const shared = { ISSUER_PUBLIC_URL: publicUrl, REGISTRY_PUBLIC_URL: `http://localhost:${pg}` };
    registry = await startTestRegistry({ port: pr, env: shared });
    let hold: { arrived: () => void; release: Promise<void> } | undefined;
    gate = createServer(async (req, res) => {
      const h = req.url === '/snapshots/latest' ? hold : undefined;
      if (h) {
        hold = undefined;
        h.arrived();
        await h.release;
      }
      // Forwarded with a retry: a loopback connect was seen to be reset now and then on a busy machine.
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await fetch(`http://127.0.0.1:${pr}${req.url}`, { headers: { accept: req.headers.accept ?? '*/*' } });
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
          res.end(Buffer.from(await r.arrayBuffer()));
          return;
        } catch (e) {
          if (attempt === 3) {
            res.writeHead(502).end(String(e));
            return;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
    await new Promise<void>((r) => gate!.listen(pg, '127.0.0.1', r));

    const env = { ...shared, DATA_DIR: mkdtempSync(join(tmpdir(), 'idideal-term-')), ISSUER_PORT: String(pi), ISSUER_ADMIN_TOKEN: TOKEN, KEY_ENCRYPTION_SECRET: 'f'.repeat(64), ISSUER_TRUST_MAX_AGE: '0', LOG_LEVEL: 'info', ISSUER_WORKERS: String(workers), ...NO_RATE_LIMITS };
    issuer = await spawnService('issuer/main.ts', env, publicUrl);

    const o = await createOffer(publicUrl, TOKEN);
    const code = await preAuthorizedCode(publicUrl, publicUrl, o.credential_offer_uri);
    const token = await (await tokenRequest(publicUrl, code, o.tx_code)).json();
    const proof = await proofJwt(await holderKey(), publicUrl, await cNonce(publicUrl));

    let release!: () => void;
    const arrived = new Promise<void>((resolve) => (hold = { arrived: resolve, release: new Promise<void>((r) => (release = r)) }));
    const inFlight = credentialRequest(publicUrl, token.access_token, proof);
    await arrived; // the issuer is now inside the credential request, waiting for the registry
    issuer.proc.kill('SIGTERM');

    if (workers === 1) {
      // Stopped accepting: a new connection is refused while the old request is still open.
      await expect.poll(async () => fetch(`http://127.0.0.1:${pi}/health`).then(() => 'open', () => 'refused'), { timeout: 10_000, interval: 100 }).toBe('refused');
    } else {
      // In cluster mode the primary owns the listening socket and closes it only once every worker
      // has closed its server, which for the busy worker is after its last request: so here the
      // shutdown is awaited by its log line, not by a refused connection (that would wait on the
      // held request, and the issuer's registry fetch would time out first).
      await expect.poll(() => issuer!.output(), { timeout: 10_000, interval: 100 }).toMatch(/shutting down/);
    }
    let exited = false;
    void issuer.exited.then(() => (exited = true));
    expect(exited).toBe(false);

    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect((await res.json()).credentials).toHaveLength(1);
    // Its keep-alive connection is not kept for further requests: the next one finds the door shut.
    expect(res.headers.get('connection')).toBe('close');
    expect(await fetch(`${publicUrl}/health`).then(() => 'open', () => 'refused')).toBe('refused');
    expect(await issuer.exited).toEqual({ code: 0, signal: null });
    expect(issuer.output()).toMatch(/shutting down/);
  }, 90_000);
});
