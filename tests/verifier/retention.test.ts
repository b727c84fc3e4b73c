import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/** Verifiers keep verdicts, not presentations, and not for long: VERIFIER_RESULT_TTL. */
describe('verifier retention', () => {
  let stack: Stack;
  let shift = 0;
  beforeAll(async () => {
    stack = await startStack({ env: { VERIFIER_RESULT_TTL: '60' }, clock: () => Date.now() + shift });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('deletes a verdict once its retention time is over', async () => {
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const r = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const req = await resolveRequest(r.authorization_request);
    expect((await postResponse(req, { meldebescheinigung: [await present(credential, key, req, 'meldebescheinigung')] })).status).toBe(200);
    const path = `/api/verifiers/buergerbuero/requests/${r.request_id}`;
    expect((await (await stack.admin('verifier', path)).json()).status).toBe('verified');
    shift = 61_000;
    const gone = await stack.admin('verifier', path);
    expect(gone.status).toBe(404);
    shift = 0;
    // Deleted, not hidden: back in time it is still gone.
    expect((await stack.admin('verifier', path)).status).toBe(404);
  });

  it('reports a response that was taken but never finished (a crash mid-verification) as expired, not pending for ever', async () => {
    const r = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const path = `/api/verifiers/buergerbuero/requests/${r.request_id}`;
    // What a process killed between taking the response and storing the verdict leaves behind.
    const db = new Database(join(stack.dataDir, 'verifier.sqlite'));
    try {
      expect(db.prepare("UPDATE verifier_requests SET status = 'processing' WHERE id = ?").run(r.request_id).changes).toBe(1);
    } finally {
      db.close();
    }
    expect((await (await stack.admin('verifier', path)).json()).status).toBe('pending');
    shift = Date.parse(r.expires_at) - Date.now() + 61_000;
    expect((await (await stack.admin('verifier', path)).json()).status).toBe('expired');
    shift = 0;
  });
});
