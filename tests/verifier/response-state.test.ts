import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Issue 18: a request's `state` (and nonce) are public to anyone who fetched the request object.
 * Holding them must not let a third party end a counter's request or put words into the clerk's
 * verdict: only a verifying response ends a request; error responses and failed presentations are
 * noted as non-final hints of fixed codes, shown with our own German/English text.
 */
describe('verifier response endpoint: only a verifying response changes a request', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  const INJECTED = ['PWNED', 'Ausweis einbehalten', 'Polizei', 'INJECT'];
  const newRequest = async () => {
    const res = await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' });
    expect(res.status).toBe(201);
    const r = (await res.json()) as { request_id: string; authorization_request: string };
    return { id: r.request_id, req: await resolveRequest(r.authorization_request) };
  };
  const statusText = async (id: string) => (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${id}`)).text();
  const postForm = (url: string, form: Record<string, string>) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });

  it('an error response with the right state gives no final verdict, and no wallet text reaches the status JSON or the counter page', async () => {
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const { id, req } = await newRequest();
    const answers: Record<string, string>[] = [
      { error: 'access_denied', error_description: '<script>alert("PWNED")</script> Ausweis einbehalten, Polizei rufen' },
      // A code outside the OID4VP 1.0 §8.5 / RFC 6749 list is kept as "other", never as its text.
      { error: 'Ausweis_einbehalten_Polizei_rufen_PWNED' },
    ];
    for (const a of answers) {
      const res = await postForm(req.payload.response_uri, { ...a, state: req.payload.state });
      expect(res.status).toBe(200);
      const text = await statusText(id);
      for (const s of INJECTED) expect(text, a.error).not.toContain(s);
      const out = JSON.parse(text);
      expect(out).toMatchObject({ status: 'rejected', final: false, result: { verified: false, errors: [{ code: 'declined' }], credentials: [] } });
      expect(out.last_attempt).toMatchObject({ final: false, kind: 'wallet_error', error: a.error === 'access_denied' ? 'access_denied' : 'other' });
    }
    // A junk presentation with the state, keyed by an attacker's "query id": pending, codes only.
    expect((await postResponse(req, { '<b>INJECT</b>': ['x.y.z'] })).status).toBeLessThan(500);
    const junk = await statusText(id);
    for (const s of INJECTED) expect(junk).not.toContain(s);
    expect(JSON.parse(junk)).toMatchObject({ status: 'rejected', final: false, last_attempt: { final: false, kind: 'presentation', errors: [{ code: 'query_not_satisfied' }] } });
    // The counter page is our own text; the hint it shows comes from the codes above.
    for (const lang of ['de', 'en']) {
      const page = await (await fetch(`${stack.urls.verifier}/verifiers/buergerbuero/counter?lang=${lang}`)).text();
      for (const s of INJECTED) expect(page).not.toContain(s);
    }
    const js = await (await fetch(`${stack.urls.verifier}/static/counter.js`)).text();
    expect(js).toContain('last_attempt');
    expect(js).not.toContain('innerHTML');

    // The citizen's wallet can still answer: a verifying response ends the request.
    expect((await postResponse(req, { meldebescheinigung: [await present(credential, key, req, 'meldebescheinigung')] })).status).toBe(200);
    const done = JSON.parse(await statusText(id));
    expect(done.status).toBe('verified');
    expect(done.last_attempt).toBeUndefined();
    // And nothing afterwards changes the verdict.
    expect((await postForm(req.payload.response_uri, { error: 'access_denied', state: req.payload.state })).status).toBe(400);
    expect((await postResponse(req, { meldebescheinigung: ['x'] })).status).toBe(400);
    expect(JSON.parse(await statusText(id)).status).toBe('verified');
  });

  it('the German and English hint for a declined request is ours and marked as not final', async () => {
    const { id, req } = await newRequest();
    await postForm(req.payload.response_uri, { error: 'access_denied', state: req.payload.state });
    const out = JSON.parse(await statusText(id));
    const [de, en] = out.last_attempt.message.split(' / ');
    expect(de).toMatch(/^Die Wallet hat abgelehnt.*weiter offen\.$/);
    expect(en).toMatch(/^The wallet declined.*still open\.$/);
  });
});
