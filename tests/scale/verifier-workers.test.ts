import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { freePort } from '../helpers/net.ts';
import { spawnService, type ChildService } from '../helpers/spawn-service.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';
import { NO_RATE_LIMITS } from './flows.ts';

/**
 * VERIFIER_WORKERS=2 (core/service/clustered.ts): the verifier as a cluster of two workers on one
 * port, on the stack's database and public URL. Verifications through it succeed, one response
 * posted concurrently is accepted exactly once across the workers, and SIGTERM ends it with 0.
 */
describe('verifier with VERIFIER_WORKERS=2', () => {
  let stack: Stack;
  let cluster: ChildService;
  let base: string;
  beforeAll(async () => {
    stack = await startStack({ env: { ...NO_RATE_LIMITS } });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    cluster = await spawnService(
      'verifier/main.ts',
      {
        ...NO_RATE_LIMITS,
        DATA_DIR: stack.dataDir,
        VERIFIER_PORT: String(port),
        VERIFIER_WORKERS: '2',
        REGISTRY_PUBLIC_URL: stack.urls.registry,
        ISSUER_PUBLIC_URL: stack.urls.issuer,
        VERIFIER_PUBLIC_URL: stack.urls.verifier,
        VERIFIER_ADMIN_TOKEN: TOKENS.verifier,
        KEY_ENCRYPTION_SECRET: 'c'.repeat(64),
      },
      base,
    );
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop('SIGKILL');
    await stack?.close();
  });

  /** A request created at the cluster, its request object and response endpoint pointed at the cluster too. */
  const request = async () => {
    const res = await fetch(`${base}/api/verifiers/buergerbuero/requests`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.verifier}`, 'content-type': 'application/json' }, body: '{"template":"meldebescheinigung"}' });
    expect(res.status).toBe(201);
    const r = await res.json();
    const req = await resolveRequest(r.authorization_request.replace(encodeURIComponent(stack.urls.verifier), encodeURIComponent(base)));
    req.payload.response_uri = String(req.payload.response_uri).replace(stack.urls.verifier, base);
    return { id: r.request_id as string, req };
  };
  const verdict = async (id: string) => (await fetch(`${base}/api/verifiers/buergerbuero/requests/${id}`, { headers: { authorization: `Bearer ${TOKENS.verifier}` } })).json();

  it('verifies through both workers and takes one response exactly once', async () => {
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const runs = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const { id, req } = await request();
        const res = await postResponse(req, { meldebescheinigung: [await present(credential, key, req, 'meldebescheinigung')] });
        return { status: res.status, verdict: await verdict(id) };
      }),
    );
    for (const r of runs) {
      expect(r.status).toBe(200);
      expect(r.verdict.status, JSON.stringify(r.verdict.result?.errors)).toBe('verified');
    }

    const { id, req } = await request();
    const vp = await present(credential, key, req, 'meldebescheinigung');
    const statuses = await Promise.all(Array.from({ length: 8 }, () => postResponse(req, { meldebescheinigung: [vp] }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(7);
    expect((await verdict(id)).status).toBe('verified');
  });

  it('stops on SIGTERM with exit code 0', async () => {
    expect(await cluster.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
