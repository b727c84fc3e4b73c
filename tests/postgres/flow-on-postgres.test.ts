import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * The three services on PostgreSQL (DATABASE_URL; schemas registry/issuer/verifier under a prefix of
 * this run): issue, verify, and single use of a pre-authorized code under concurrent requests.
 */
const url = process.env.TEST_DATABASE_URL;
if (process.env.CI && !url) throw new Error('TEST_DATABASE_URL is not set: .ci/run starts PostgreSQL');

describe.skipIf(!url)('flows on PostgreSQL', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { DATABASE_URL: url!, DATABASE_SCHEMA_PREFIX: `t${randomBytes(4).toString('hex')}_`, STATUS_LIST_MAX_AGE: '0' } });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('issues and verifies a Meldebescheinigung with every service on PostgreSQL', async () => {
    const c = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const r = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const req = await resolveRequest(r.authorization_request);
    expect((await postResponse(req, { meldebescheinigung: [await present(c.credential, c.key, req, 'meldebescheinigung')] })).status).toBe(200);
    const out = await (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${r.request_id}`)).json();
    expect(out.status, JSON.stringify(out.result?.errors)).toBe('verified');
    expect((await (await stack.admin('registry', '/api/audit/check')).json()).valid).toBe(true);
  });

  it('gives exactly one access token for one code under 20 concurrent requests', async () => {
    const o = await (await stack.admin('issuer', '/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE })).json();
    const offer = await (await fetch(o.credential_offer_uri)).json();
    const code = offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () =>
        (
          await fetch(`${stack.urls.issuer}/offices/buergerbuero/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: o.tx_code }),
          })
        ).status,
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
  });
});
