import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../core/log/logger.ts';
import { loadIssuerConfig } from '../../issuer/config.ts';
import { startIssuer } from '../../issuer/service.ts';
import { loadVerifierConfig } from '../../verifier/config.ts';
import { startVerifier } from '../../verifier/service.ts';
import { loadRegistryConfig } from '../../trust-registry/config.ts';
import { startRegistry } from '../../trust-registry/service.ts';
import { decodeJwt } from 'jose';
import { decompressStatusList, STATUS, statusAt } from '../../core/status-list/token-status-list.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { freePort } from '../helpers/net.ts';
import { dropSchemas } from '../helpers/pg-schemas.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';
import { NO_RATE_LIMITS, adminOffer, cNonce, createOffer, credentialRequest, holderKey, issueOnce, preAuthorizedCode, proofJwt, tokenRequest } from './flows.ts';

/**
 * Two issuer and two verifier instances on one PostgreSQL (the way a city runs several behind a
 * load balancer): same DATABASE_URL and schema prefix, same key-encryption secret, same public URL
 * (so the same DIDs and issuer identifiers), different listen ports. Every single-use rule must
 * hold across the instances, because it rests on the database, not on process memory.
 */
const url = process.env.TEST_DATABASE_URL;
if (process.env.CI && !url) throw new Error('TEST_DATABASE_URL is not set: .ci/run starts PostgreSQL');

describe.skipIf(!url)('two issuer and two verifier instances on one PostgreSQL', () => {
  let stack: Stack;
  let issuers: [string, string];
  let verifiers: [string, string];
  let registries: [string, string];
  const closers: (() => Promise<void>)[] = [];
  const prefix = `t${randomBytes(4).toString('hex')}_`;

  beforeAll(async () => {
    // A small status list makes concurrent draws of the same index likely, so the test can see
    // whether the database, not luck, keeps indices apart.
    const shared = { DATABASE_URL: url!, DATABASE_SCHEMA_PREFIX: prefix, STATUS_LIST_MAX_AGE: '0', ISSUER_STATUS_LIST_SIZE: '1024', ...NO_RATE_LIMITS };
    stack = await startStack({ env: shared });
    const [pi, pv, pr] = await Promise.all([freePort(), freePort(), freePort()]);
    // Instance B: everything as instance A (public URLs included), only the listen port differs. The
    // same DATA_DIR, so the same demo city CA (docs/haip.md): instances of one city trust one CA, and a
    // verifier with another refuses the office's x5c chain, as it must.
    const env = {
      ...shared,
      DATA_DIR: stack.dataDir,
      REGISTRY_PUBLIC_URL: stack.urls.registry,
      ISSUER_PUBLIC_URL: stack.urls.issuer,
      VERIFIER_PUBLIC_URL: stack.urls.verifier,
      REGISTRY_ADMIN_TOKEN: TOKENS.registry,
      ISSUER_ADMIN_TOKEN: TOKENS.issuer,
      VERIFIER_ADMIN_TOKEN: TOKENS.verifier,
      KEY_ENCRYPTION_SECRET: 'c'.repeat(64),
    };
    const level = process.env.TEST_LOG_LEVEL ?? 'silent';
    const issuerB = await startIssuer(loadIssuerConfig({ ...env, ISSUER_PORT: String(pi) }), createLogger('issuer', level));
    closers.push(issuerB.close);
    const verifierB = await startVerifier(loadVerifierConfig({ ...env, VERIFIER_PORT: String(pv) }), createLogger('verifier', level));
    closers.push(verifierB.close);
    const registryB = await startRegistry(loadRegistryConfig({ ...env, REGISTRY_PORT: String(pr) }), createLogger('trust-registry', level));
    closers.push(registryB.close);
    registries = [stack.urls.registry, `http://127.0.0.1:${pr}`];
    issuers = [stack.urls.issuer, `http://127.0.0.1:${pi}`];
    verifiers = [stack.urls.verifier, `http://127.0.0.1:${pv}`];
  }, 120_000);
  afterAll(async () => {
    for (const c of closers) await c();
    await stack?.close();
    if (url) await dropSchemas(url, prefix);
  });

  const publicUrl = () => stack.urls.issuer;

  it('gives exactly one access token for one pre-authorized code under 50 concurrent requests across both instances', async () => {
    const o = await createOffer(issuers[0], TOKENS.issuer);
    const code = await preAuthorizedCode(issuers[1], publicUrl(), o.credential_offer_uri);
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res = await tokenRequest(issuers[i % 2]!, code, o.tx_code);
        return { status: res.status, body: await res.json() };
      }),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(49);
    for (const a of refused) {
      expect(a.status).toBe(400);
      expect(a.body.error).toBe('invalid_grant');
    }
  });

  it('counts wrong transaction codes across both instances and locks the offer at five', async () => {
    const o = await createOffer(issuers[1], TOKENS.issuer);
    const code = await preAuthorizedCode(issuers[0], publicUrl(), o.credential_offer_uri);
    const wrong = o.tx_code === '000000' ? '111111' : '000000';
    const statuses = await Promise.all(Array.from({ length: 12 }, async (_, i) => (await tokenRequest(issuers[i % 2]!, code, wrong)).status));
    expect(statuses.every((s) => s === 400)).toBe(true);
    // The right code no longer helps, on either instance: twelve failures were counted, not six per process.
    for (const base of issuers) {
      const res = await tokenRequest(base, code, o.tx_code);
      expect(res.status).toBe(400);
      expect((await res.json()).error_description).toMatch(/locked/);
    }
  });

  it('accepts a c_nonce once across both instances', async () => {
    const tokens = await Promise.all(
      issuers.map(async (base) => {
        const o = await createOffer(base, TOKENS.issuer);
        const code = await preAuthorizedCode(base, publicUrl(), o.credential_offer_uri);
        return (await (await tokenRequest(base, code, o.tx_code)).json()).access_token as string;
      }),
    );
    const nonce = await cNonce(issuers[0]);
    const answers = await Promise.all(
      issuers.map(async (base, i) => {
        const res = await credentialRequest(base, tokens[i]!, await proofJwt(await holderKey(), publicUrl(), nonce));
        return { status: res.status, body: await res.json() };
      }),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    expect(answers.find((a) => a.status === 400)!.body.error).toBe('invalid_nonce');
  });

  it('never gives two credentials the same status index when both instances issue at once', async () => {
    // 40 flows at once, each alternating instances step by step (offer on one, token on the other, …).
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => issueOnce(i % 2 ? [issuers[0], issuers[1]] : [issuers[1], issuers[0]], publicUrl(), TOKENS.issuer)));
    const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    expect(failures).toEqual([]);
    const issued = results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof issueOnce>>>).value);
    const indices = issued.map((c) => c.status.idx);
    expect(new Set(indices).size).toBe(indices.length);
    // What each instance records agrees with what the wallets received.
    for (const [i, c] of issued.entries()) {
      const { httpStatus, body } = await adminOffer(issuers[i % 2]!, TOKENS.issuer, c.offerId);
      expect(httpStatus).toBe(200);
      expect(body.status).toBe('issued');
      expect(body.credentials.map((x: { status_list: { idx: number } }) => x.status_list.idx)).toEqual([c.status.idx]);
    }
    // The offers' audit entries, written by both instances at once, form one valid chain.
    const check = await (await fetch(`${issuers[1]}/api/audit/check`, { headers: { authorization: `Bearer ${TOKENS.issuer}` } })).json();
    expect(check.valid).toBe(true);
  });

  it('serves a status change made on one instance at once from the other, which keeps the signed list in memory', async () => {
    const c = await issueOnce([issuers[0]], publicUrl(), TOKENS.issuer);
    const list = async (base: string) => {
      const res = await fetch(c.status.uri.replace(publicUrl(), base));
      expect(res.status).toBe(200);
      const token = await res.text();
      return { token, status: statusAt(decompressStatusList((decodeJwt(token) as { status_list: { lst: string } }).status_list.lst), 2, c.status.idx) };
    };
    const before = await list(issuers[1]);
    expect(before.status).toBe(STATUS.VALID);
    expect((await list(issuers[1])).token).toBe(before.token);
    const { body } = await adminOffer(issuers[0], TOKENS.issuer, c.offerId);
    const res = await fetch(`${issuers[0]}/api/offices/buergerbuero/credentials/${body.credentials[0].credential_id}/status`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.issuer}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'suspended' }) });
    expect(res.status).toBe(200);
    expect((await list(issuers[1])).status).toBe(STATUS.SUSPENDED);
  });

  it('accepts one OpenID4VP response posted concurrently to both verifier instances exactly once, without a 5xx', async () => {
    const c = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const r = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const req = await resolveRequest(r.authorization_request);
    const vpToken = JSON.stringify({ meldebescheinigung: [await present(c.credential, c.key, req, 'meldebescheinigung')] });
    const responsePath = new URL(req.payload.response_uri).pathname;
    const answers = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const res = await fetch(verifiers[i % 2] + responsePath, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ vp_token: vpToken, state: req.payload.state }),
        });
        return { status: res.status, body: await res.json().catch(() => null) };
      }),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status).toBe(400);
      expect(a.body?.error).toBe('invalid_request');
    }
    // Both instances read the same single verdict.
    for (const base of verifiers) {
      const out = await (await fetch(`${base}/api/verifiers/buergerbuero/requests/${r.request_id}`, { headers: { authorization: `Bearer ${TOKENS.verifier}` } })).json();
      expect(out.status, JSON.stringify(out.result?.errors)).toBe('verified');
    }
  });

  it('keeps one audit chain and one snapshot sequence when both registry instances write at once', async () => {
    const seqAt = async (base: string) => (decodeJwt(await (await fetch(`${base}/snapshots/latest`, { headers: { accept: 'application/jwt' } })).text()) as { seq: number }).seq;
    const before = await seqAt(registries[0]);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await fetch(`${registries[i % 2]}/api/entities`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKENS.registry}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id: `did:web:example.org:scale:${prefix}${i}`, kind: 'issuer', name: { de: `Amt ${i}`, en: `Office ${i}` } }),
        });
        return res.status;
      }),
    );
    expect(statuses.every((s) => s === 201)).toBe(true);
    // One snapshot per write, numbered without gaps or repeats, seen alike by both instances.
    for (const base of registries) expect(await seqAt(base)).toBe(before + 20);
    for (const base of registries) {
      const check = await (await fetch(`${base}/api/audit/check`, { headers: { authorization: `Bearer ${TOKENS.registry}` } })).json();
      expect(check.valid).toBe(true);
    }
    const audit = (await (await fetch(`${registries[1]}/api/audit`, { headers: { authorization: `Bearer ${TOKENS.registry}` } })).json()).entries as { seq: number }[];
    expect(audit.map((e) => e.seq)).toEqual(audit.map((_, i) => i + 1));
  });
});
