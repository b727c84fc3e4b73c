import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import { randomUUID } from 'node:crypto';
import { VCT } from '../../core/demo/leipzig.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';
import { CLASSES, algNone, generate, hs256WithPublicKey, tamperJwt, tamperSdJwt, type Case, type Template } from './fuzz/corpus.ts';
import { KeyObject } from 'node:crypto';
import { presentSdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { sqliteDigest } from './fuzz/db-digest.ts';
import { createRng, seedFromEnv, type Rng } from './fuzz/rng.ts';
import { describeCase, percentile, sendAll, type Outcome } from './fuzz/send.ts';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBaseApp, finish } from '../../core/http/app.ts';
import { createLogger } from '../../core/log/logger.ts';
import { closeServer, listen } from '../../core/service/run.ts';
import { walletRoutes } from '../../wallet-demo/web/app.ts';
import { freePort } from '../helpers/net.ts';

/**
 * Hostile input (issue 9): at least 2,000 generated malformed requests per service, of the classes
 * in fuzz/corpus.ts. For each: no 5xx, no stack trace, errors in the service's error media type;
 * the service stays healthy and serves a real flow afterwards; and the rejected requests leave every
 * table of every database as it was. The seed is printed; FUZZ_SEED=<seed> replays a run.
 */
const SEED = seedFromEnv();
const PER_SERVICE = Number(process.env.FUZZ_CASES ?? 2000);
const GET_CLASSES = new Set(['odd-path', 'odd-unicode', 'wrong-method', 'huge-array']);
console.info(`hostile-input: FUZZ_SEED=${SEED} (${PER_SERVICE} cases per service)`);

function build(rng: Rng, templates: Template[], n: number, keyMaterial: string): Case[] {
  const cases: Case[] = [];
  for (let guard = 0; cases.length < n && guard < n * 50; guard++) {
    const t = rng.pick(templates);
    const cls = rng.pick(CLASSES);
    if (t.method === 'GET' && !GET_CLASSES.has(cls)) continue;
    const c = generate(rng, t, cls, keyMaterial);
    if (c) cases.push(c);
  }
  return cases;
}

function report(service: string, outcomes: Outcome[]): void {
  const byClass = new Map<string, Map<number, number>>();
  for (const o of outcomes) {
    const m = byClass.get(o.c.cls) ?? new Map<number, number>();
    m.set(o.status, (m.get(o.status) ?? 0) + 1);
    byClass.set(o.c.cls, m);
  }
  const ms = outcomes.map((o) => o.ms);
  const lines = [...byClass].map(([cls, m]) => `  ${cls.padEnd(22)} ${[...m].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`);
  const statuses = new Map<number, number>();
  for (const o of outcomes) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
  const summary = [...statuses].sort((a, b) => a[0] - b[0]).map(([st, n]) => `${st}×${n}`).join(' ');
  // FUZZ_VERBOSE=1 adds the answers per class of input.
  console.info(`hostile-input ${service}: ${outcomes.length} requests (${summary}), p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, FUZZ_SEED=${SEED}${process.env.FUZZ_VERBOSE ? '\n' + lines.join('\n') : ''}`);
}

function expectClean(outcomes: Outcome[]): void {
  const bad = outcomes.filter((o) => o.problem).map((o) => `${o.problem}\n    ${describeCase(o.c)}`);
  expect(bad.slice(0, 8), `${bad.length} answers broke the error contract (FUZZ_SEED=${SEED})`).toEqual([]);
}

async function healthy(url: string): Promise<void> {
  const res = await fetch(`${url}/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
}

/** A statement in the shape of a trust grant, signed by a key nobody registered (a self-made authority). */
async function foreignStatement(iss: string, sub: string): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256');
  return new SignJWT({ entity_id: sub, action: 'issue', resource: VCT.meldebescheinigung, valid_from: new Date().toISOString() })
    .setProtectedHeader({ alg: 'ES256', typ: 'trust-grant+jwt', kid: `${iss}#key-1` })
    .setIssuer(iss)
    .setSubject(sub)
    .setIssuedAt()
    .setJti(randomUUID())
    .sign(privateKey);
}

describe('hostile input', () => {
  let stack: Stack;
  const rng = createRng(SEED);
  // startStack raises the rate limits: this suite measures validation, not the limiter (tested on its own).
  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(`registry: ${PER_SERVICE} malformed requests, no 5xx, nothing changed`, async () => {
    const reg = stack.urls.registry;
    const root = (await (await fetch(`${reg}/.well-known/trust-registry`)).json()).authority_id as string;
    const office = stack.officeDid('buergerbuero');
    const keyMaterial = JSON.stringify((await (await fetch(`${reg}/.well-known/did.json`)).json()).verificationMethod?.[0]?.publicKeyJwk ?? {});
    // A grant to revoke, so status changes on it are refused whatever the body (revocation is final).
    const grants = (await (await stack.admin('registry', `/api/grants?entity_id=${encodeURIComponent(office)}&action=issue`)).json()).grants as { id: string }[];
    expect(grants.length).toBeGreaterThan(0);
    const entity = (await (await stack.admin('registry', '/api/entities')).json()).entities.find((e: { id: string }) => e.id === office);
    const created = await stack.admin('registry', '/api/grants', { entity_id: office, action: 'issue', resource: VCT.bibliotheksausweis });
    expect(created.status, await created.clone().text()).toBe(201);
    const revoked = (await created.json()).id as string;
    expect((await stack.admin('registry', `/api/grants/${revoked}/status`, { status: 'revoked', reason: 'test: revoked for the hostile-input suite' })).status).toBe(200);

    const T = TOKENS.registry;
    const templates: Template[] = [
      { name: 'trqp-authorization', method: 'POST', path: '/trqp/authorization', kind: 'json', limit: 65_536, body: { entity_id: office, authority_id: root, action: 'issue', resource: VCT.meldebescheinigung, context: { time: new Date().toISOString() } } },
      { name: 'trqp-recognition', method: 'POST', path: '/trqp/recognition', kind: 'json', limit: 65_536, body: { entity_id: root, authority_id: root, action: 'recognize', resource: 'urn:id-ideal:ecosystem', context: { time: new Date().toISOString() } } },
      // Valid as sent, still refused: the entity exists (409), so no mutation can create one.
      { name: 'create-entity', method: 'POST', path: '/api/entities', token: T, kind: 'json', limit: 65_536, body: { id: entity.id, kind: entity.kind, name: entity.name } },
      // For an entity nobody registered (404), and one signed by a self-made authority (403).
      { name: 'create-grant', method: 'POST', path: '/api/grants', token: T, kind: 'json', limit: 65_536, body: { entity_id: 'did:web:unknown.example', action: 'issue', resource: VCT.meldebescheinigung, valid_from: '2026-01-01T00:00:00Z', constraints: {} } },
      { name: 'create-grant-statement', method: 'POST', path: '/api/grants', token: T, kind: 'json', limit: 65_536, body: { statement: await foreignStatement(root, office) }, jwtFields: ['statement'] },
      { name: 'grant-status', method: 'POST', path: `/api/grants/${revoked}/status`, token: T, kind: 'json', limit: 65_536, body: { status: 'active', reason: 'reinstated by the suite', effective_at: '2026-01-01T00:00:00Z' } },
      { name: 'grants-query', method: 'GET', path: `/api/grants?entity_id=${encodeURIComponent(office)}`, token: T, kind: 'none', limit: 65_536 },
      { name: 'grant', method: 'GET', path: `/api/grants/${grants[0]!.id}`, token: T, kind: 'none', limit: 65_536 },
      { name: 'snapshot', method: 'GET', path: '/snapshots/latest', kind: 'none', limit: 65_536 },
      { name: 'authority-did', method: 'GET', path: '/authorities/leipzig/did.json', kind: 'none', limit: 65_536 },
    ];
    const before = await sqliteDigest(stack.dataDir);
    const outcomes = await sendAll(reg, build(rng, templates, PER_SERVICE, keyMaterial));
    report('registry', outcomes);
    expectClean(outcomes);
    expect(outcomes.filter((o) => (o.c.template.startsWith('create') || o.c.template === 'grant-status') && o.c.method !== 'OPTIONS' && o.c.method !== 'GET' && o.status < 400).map((o) => `${o.status} ${describeCase(o.c)}`)).toEqual([]);
    expect(await sqliteDigest(stack.dataDir)).toEqual(before);
    await healthy(reg);
    expect((await (await stack.admin('registry', '/api/audit/check')).json()).valid).toBe(true);
  }, 180_000);

  it(`issuer: ${PER_SERVICE} malformed requests, no 5xx, nothing changed, issuance still works`, async () => {
    const iss = stack.urls.issuer;
    const keyMaterial = JSON.stringify((await (await fetch(`${iss}/offices/buergerbuero/jwks.json`)).json()).keys[0]);
    // A redeemed code (refused whatever else the request says) and a live access token whose offer
    // waits for its credential; proofs carry a nonce the issuer never gave out, so none is accepted.
    const received = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const { client, signer, key, offer, accessToken, code } = await openAccessToken(stack);
    const { jwt: proof } = await client.createCredentialRequestJwtProof({ issuerMetadata: offer.issuerMetadata, credentialConfigurationId: 'meldebescheinigung_sd_jwt', signer: signer(key), nonce: 'never-issued-nonce-0123456789' });
    const credentialId = (await (await stack.admin('issuer', `/api/offices/buergerbuero/offers/${received.offerId}`)).json()).credentials[0].credential_id as string;
    const bad = (token: string) => ({ token });
    const T = TOKENS.issuer;
    const templates: Template[] = [
      { name: 'token', method: 'POST', path: '/offices/buergerbuero/token', kind: 'form', limit: 65_536, body: { grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: '123456' } },
      { name: 'credential', method: 'POST', path: '/offices/buergerbuero/credential', token: accessToken, kind: 'json', limit: 65_536, body: { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [proof] } }, jwtFields: ['proofs.jwt'] },
      { name: 'credential-none-token', method: 'POST', path: '/offices/buergerbuero/credential', ...bad(algNone(accessToken)), kind: 'json', limit: 65_536, body: { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [proof] } } },
      { name: 'credential-hs256-token', method: 'POST', path: '/offices/buergerbuero/credential', ...bad(hs256WithPublicKey(accessToken, keyMaterial)), kind: 'json', limit: 65_536, body: { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [proof] } } },
      { name: 'credential-tampered-token', method: 'POST', path: '/offices/buergerbuero/credential', ...bad(tamperJwt(rng, accessToken)), kind: 'json', limit: 65_536, body: { credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [proof] } } },
      { name: 'deferred', method: 'POST', path: '/offices/buergerbuero/deferred_credential', token: accessToken, kind: 'json', limit: 65_536, body: { transaction_id: 'never-issued-transaction-id' } },
      { name: 'credential-status', method: 'POST', path: `/api/offices/buergerbuero/credentials/${randomUUID()}/status`, token: T, kind: 'json', limit: 65_536, body: { status: 'revoked' } },
      { name: 'approve', method: 'POST', path: `/api/offices/buergerbuero/offers/${randomUUID()}/approve`, token: T, kind: 'json', limit: 65_536, body: {} },
      { name: 'key-revoke', method: 'POST', path: `/api/offices/buergerbuero/keys/${'A'.repeat(43)}/revoke`, token: T, kind: 'json', limit: 65_536, body: { reason: 'suspected compromise', effective_at: '2026-01-01T00:00:00Z' } },
      { name: 'offer-object', method: 'GET', path: `/offices/buergerbuero/credential-offers/${randomUUID()}`, kind: 'none', limit: 65_536 },
      { name: 'offer-admin', method: 'GET', path: `/api/offices/buergerbuero/offers/${received.offerId}`, token: T, kind: 'none', limit: 65_536 },
      { name: 'metadata', method: 'GET', path: '/.well-known/openid-credential-issuer/offices/buergerbuero', kind: 'none', limit: 65_536 },
      { name: 'status-list', method: 'GET', path: '/offices/buergerbuero/status-lists/1', kind: 'none', limit: 65_536 },
      { name: 'desk', method: 'GET', path: '/offices/buergerbuero/desk', kind: 'none', limit: 65_536 },
    ];
    const before = await sqliteDigest(stack.dataDir);
    const outcomes = await sendAll(iss, build(rng, templates, PER_SERVICE, keyMaterial));
    report('issuer', outcomes);
    expectClean(outcomes);
    expect(outcomes.filter((o) => o.c.method !== 'OPTIONS' && o.c.method !== 'GET' && o.status < 400).map((o) => describeCase(o.c))).toEqual([]);
    expect(await sqliteDigest(stack.dataDir)).toEqual(before);
    await healthy(iss);
    // The credential the suite hammered at is untouched and the offer still issues to its wallet.
    expect((await (await stack.admin('issuer', `/api/offices/buergerbuero/offers/${received.offerId}`)).json()).credentials[0]).toMatchObject({ credential_id: credentialId });
    const { c_nonce } = await client.requestNonce({ issuerMetadata: offer.issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata: offer.issuerMetadata, credentialConfigurationId: 'meldebescheinigung_sd_jwt', signer: signer(key), nonce: c_nonce });
    const r = await client.retrieveCredentials({ issuerMetadata: offer.issuerMetadata, accessToken, credentialConfigurationId: 'meldebescheinigung_sd_jwt', proofs: { jwt: [jwt] } });
    expect((r.credentialResponse.credentials as { credential: string }[])[0]!.credential).toMatch(/^ey[^~]+~/);
  }, 180_000);

  it('issuer: malformed offers are refused, and only accepted ones are stored', async () => {
    const templates: Template[] = [
      { name: 'create-offer', method: 'POST', path: '/api/offices/buergerbuero/offers', token: TOKENS.issuer, kind: 'json', limit: 65_536, body: { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE } },
      { name: 'create-offer-manual', method: 'POST', path: '/api/offices/standesamt/offers', token: TOKENS.issuer, kind: 'json', limit: 65_536, body: { credential_configuration_id: 'geburtsurkunde_sd_jwt', approval: 'manual', claims: { vorname: 'Erika', familienname: 'Mustermann', geburtsname: 'Gabler', geburtsdatum: '1990-04-01', geburtsort: 'Leipzig', registernummer: 'G 123/1990', standesamt: 'Leipzig' } } },
    ];
    const before = await sqliteDigest(stack.dataDir);
    const outcomes = await sendAll(stack.urls.issuer, build(rng, templates, 600, '{}'));
    report('issuer offers', outcomes);
    expectClean(outcomes);
    const accepted = outcomes.filter((o) => o.status === 201).length;
    const after = await sqliteDigest(stack.dataDir);
    const rows = (d: Record<string, string>, k: string) => Number(d[k]?.split('/')[1] ?? NaN);
    expect(rows(after, 'issuer.sqlite:issuer_offers') - rows(before, 'issuer.sqlite:issuer_offers')).toBe(accepted);
  }, 120_000);

  it(`verifier: ${PER_SERVICE} malformed requests, no 5xx, nothing changed`, async () => {
    const ver = stack.urls.verifier;
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    // One answered request: its state is spent, so no response can change it again.
    const r = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const req = await resolveRequest(r.authorization_request);
    const vp = await present(credential, key, req, 'meldebescheinigung');
    expect((await postResponse(req, { meldebescheinigung: [vp] })).status).toBe(200);
    const keyMaterial = JSON.stringify((await (await fetch(`${ver}/verifiers/buergerbuero/did.json`)).json()).verificationMethod[0].publicKeyJwk);
    const T = TOKENS.verifier;
    const templates: Template[] = [
      { name: 'response', method: 'POST', path: '/verifiers/buergerbuero/response', kind: 'form', limit: 524_288, body: { vp_token: JSON.stringify({ meldebescheinigung: [vp] }), state: req.payload.state } },
      { name: 'response-vp', method: 'POST', path: '/verifiers/buergerbuero/response', kind: 'json', limit: 524_288, body: { vp_token: { meldebescheinigung: [vp] }, state: req.payload.state }, jwtFields: ['vp_token.meldebescheinigung.0'] },
      { name: 'response-jwt', method: 'POST', path: '/verifiers/buergerbuero/response', kind: 'form', limit: 524_288, body: { response: `${vp.split('.').slice(0, 2).join('.')}.AAAA.BBBB.CCCC` } },
      { name: 'wallet-error', method: 'POST', path: '/verifiers/buergerbuero/response', kind: 'form', limit: 524_288, body: { error: 'access_denied', error_description: 'declined', state: req.payload.state } },
      { name: 'request-object', method: 'GET', path: `/verifiers/buergerbuero/requests/${r.request_id}/request.jwt`, kind: 'none', limit: 524_288 },
      { name: 'result', method: 'GET', path: `/api/verifiers/buergerbuero/requests/${r.request_id}`, token: T, kind: 'none', limit: 524_288 },
      { name: 'counter', method: 'GET', path: '/verifiers/buergerbuero/counter', kind: 'none', limit: 524_288 },
    ];
    const before = await sqliteDigest(stack.dataDir);
    const outcomes = await sendAll(ver, build(rng, templates, PER_SERVICE, keyMaterial));
    report('verifier', outcomes);
    expectClean(outcomes);
    expect(outcomes.filter((o) => o.c.method !== 'OPTIONS' && o.c.method !== 'GET' && o.status < 400).map((o) => describeCase(o.c))).toEqual([]);
    expect(await sqliteDigest(stack.dataDir)).toEqual(before);
    await healthy(ver);
    expect((await (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${r.request_id}`)).json()).status).toBe('verified');
  }, 180_000);

  it(`verifier: ${PER_SERVICE} mutated presentations to one live request reach the verification code: no 5xx, never verified, the request still open`, async () => {
    // A failed answer no longer ends a request (verifier/last-attempt.ts), so every case below goes
    // through parsing, signature, disclosures, key binding, status and trust. The base presentation
    // is correct in every respect but one: it leaves out one claim the query asks for, so even a case
    // the mutation left intact fails at the very end (DCQL) instead of ending the request.
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const other = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', { ...MELDE, vorname: 'Mallory' });
    const r = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const req = await resolveRequest(r.authorization_request);
    const paths = req.payload.dcql_query.credentials[0].claims.map((c: { path: string[] }) => c.path);
    const base = await presentSdJwtVc({ sdJwt: credential, disclose: paths.slice(1), holderKey: KeyObject.from(key.privateKey as never), aud: req.clientId, nonce: req.payload.nonce, iat: Math.floor(Date.now() / 1000) });
    const status = async () => (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${r.request_id}`)).json();
    expect((await postResponse(req, { meldebescheinigung: [base] })).status).toBe(200);
    expect(await status()).toMatchObject({ status: 'rejected', final: false, result: { errors: [{ code: 'query_not_satisfied' }] } });

    const issuerKey = JSON.stringify((await (await fetch(`${stack.urls.issuer}/offices/buergerbuero/jwks.json`)).json()).keys[0]);
    const holderKey = JSON.stringify(key.publicJwk);
    const foreign = other.credential.split('~').slice(1).filter(Boolean);
    const flip = (x: string) => {
      const i = rng.int(x.length);
      return x.slice(0, i) + String.fromCharCode(x.charCodeAt(i) ^ (1 << rng.int(7))) + x.slice(i + 1);
    };
    const mutate = (vp: string): string => {
      const parts = vp.split('~');
      const kb = parts[parts.length - 1]!;
      const ds = parts.slice(1, -1);
      switch (rng.int(12)) {
        case 0: return tamperJwt(rng, vp);
        case 1: return [...parts.slice(0, -1), tamperJwt(rng, kb)].join('~');
        case 2: return tamperSdJwt(rng, vp);
        case 3: return algNone(vp);
        case 4: return [...parts.slice(0, -1), algNone(kb)].join('~');
        case 5: return hs256WithPublicKey(vp, issuerKey);
        case 6: return [...parts.slice(0, -1), hs256WithPublicKey(kb, holderKey)].join('~');
        case 7: return flip(vp);
        case 8: return vp.slice(0, rng.int(vp.length));
        case 9: return [parts[0], ...ds, rng.pick(foreign), kb].join('~');
        case 10: return [parts[0], ...ds.filter(() => rng.int(2) === 0), kb].join('~');
        default: return [other.credential.split('~')[0], ...ds, kb].join('~');
      }
    };
    const wrap = (vp: string): unknown => {
      switch (rng.int(8)) {
        case 0: return { meldebescheinigung: vp };
        case 1: return { meldebescheinigung: [vp, vp] };
        case 2: return { meldebescheinigung: [vp], extra: [vp] };
        case 3: return { meldebescheinigung: [{ vp }] };
        default: return { meldebescheinigung: [vp] };
      }
    };
    const path = new URL(req.payload.response_uri).pathname;
    const cases: Case[] = Array.from({ length: PER_SERVICE }, (_, i) => {
      let vp = mutate(base);
      if (i % 5 === 0) vp = mutate(vp);
      return { cls: 'live-presentation', template: 'response-live', method: 'POST', path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ vp_token: JSON.stringify(wrap(vp)), state: req.payload.state }).toString() };
    });
    const before = await sqliteDigest(stack.dataDir, ['verifier_requests']);
    const outcomes = await sendAll(stack.urls.verifier, cases);
    report('verifier live presentations', outcomes);
    expectClean(outcomes);
    expect(await sqliteDigest(stack.dataDir, ['verifier_requests'])).toEqual(before);
    const after = await status();
    expect(after.status, JSON.stringify(after)).toBe('rejected');
    expect(after.final).toBe(false);
    console.info(`hostile-input live presentations: last reasons ${JSON.stringify(after.result.errors.map((e: { code: string }) => e.code))}`);
    // Still open: the citizen's correct presentation ends it.
    expect((await postResponse(req, { meldebescheinigung: [await present(credential, key, req, 'meldebescheinigung')] })).status).toBe(200);
    expect((await status()).status).toBe('verified');
    await healthy(stack.urls.verifier);
  }, 300_000);

  it('verifier: tampered presentations to live requests are refused with a reason, never verified', async () => {
    const { credential, key } = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const keyMaterial = JSON.stringify((await (await fetch(`${stack.urls.issuer}/offices/buergerbuero/jwks.json`)).json()).keys[0]);
    const kinds = ['issuer-jwt', 'kb-jwt', 'disclosures', 'alg-none', 'hs256'] as const;
    const seen = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const r = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
      const req = await resolveRequest(r.authorization_request);
      const vp = await present(credential, key, req, 'meldebescheinigung');
      const kind = kinds[i % kinds.length]!;
      const parts = vp.split('~');
      // The first issuer-JWT and KB-JWT cases are fixed: one real bit of the signature changed, so
      // that `invalid_signature` and `holder_binding_failed` are met on every seed (random mutations
      // may all be malformed, or flip only the padding bits of the last base64url character).
      const bad =
        kind === 'issuer-jwt' && i === 0 ? [flipSignatureBit(parts[0]!), ...parts.slice(1)].join('~')
        : kind === 'issuer-jwt' ? tamperJwt(rng, vp)
        : kind === 'kb-jwt' && i === 1 ? [...parts.slice(0, -1), flipSignatureBit(parts[parts.length - 1]!)].join('~')
        : kind === 'kb-jwt' ? [...parts.slice(0, -1), tamperJwt(rng, parts[parts.length - 1]!)].join('~')
        : kind === 'disclosures' ? tamperSdJwt(rng, vp)
        : kind === 'alg-none' ? algNone(vp)
        : hs256WithPublicKey(vp, keyMaterial);
      const res = await postResponse(req, { meldebescheinigung: [bad] });
      expect(res.status, `${kind}: ${bad.slice(0, 120)}`).toBeLessThan(500);
      const out = await (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${r.request_id}`)).json();
      // Never verified: `rejected` with the reasons, not final (the request stays open, verifier/last-attempt.ts).
      expect(out.status, `${kind} (seed ${SEED}): ${JSON.stringify(out.last_attempt)}`).toBe('rejected');
      expect(out.final).toBe(false);
      expect(out.result.credentials).toEqual([]);
      expect(out.last_attempt.errors.length).toBeGreaterThan(0);
      for (const e of out.last_attempt.errors) seen.set(e.code, (seen.get(e.code) ?? 0) + 1);
    }
    console.info(`hostile-input tampered presentations: ${JSON.stringify(Object.fromEntries(seen))}`);
    expect([...seen.keys()]).toEqual(expect.arrayContaining(['invalid_signature', 'holder_binding_failed']));
  }, 180_000);
});

/** The web wallet's store files, hashed: a refused request must leave them byte for byte. */
function walletDigest(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex').slice(0, 16)]));
}

describe('hostile input: web wallet', () => {
  let stack: Stack;
  let url: string;
  let dir: string;
  let close: () => Promise<void>;
  const rng = createRng(SEED ^ 0x5eed);
  beforeAll(async () => {
    stack = await startStack();
    const port = await freePort();
    url = `http://localhost:${port}`;
    dir = mkdtempSync(join(tmpdir(), 'idideal-fuzz-wallet-'));
    const logger = createLogger('wallet-demo', 'silent');
    const app = createBaseApp({ logger });
    app.use(walletRoutes({ dir, registryUrl: stack.urls.registry, allowLocalHttp: true, publicUrl: url, logger }));
    finish(app, logger);
    const { server } = await listen(app, '127.0.0.1', port);
    close = () => closeServer(server);
  });
  afterAll(async () => {
    await close?.();
    await stack?.close();
  });

  it(`web wallet: ${PER_SERVICE} malformed requests, no 5xx, store unchanged`, async () => {
    // A credential in the wallet, a spent offer and an answered request: nothing the fuzz sends can succeed.
    const o = await (await stack.admin('issuer', '/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE })).json();
    // The fuzz runs inside an unlocked session (without one every personal route is a 401 anyway).
    const unlocked = await fetch(url + '/unlock', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams({ passphrase: 'korrekt-pferd-batterie', passphrase_repeat: 'korrekt-pferd-batterie' }), redirect: 'manual' });
    const cookie = unlocked.headers.getSetCookie().find((c) => c.startsWith('wallet_session='))!.split(';')[0]!;
    const form = (path: string, body: Record<string, string>) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', cookie }, body: new URLSearchParams(body), redirect: 'manual' });
    expect((await form('/receive', { offer: o.credential_offer, tx_code: o.tx_code })).status).toBe(200);
    const q = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const consent = await (await form('/present', { request: q.authorization_request })).text();
    const planId = /\/present\/([0-9a-f-]{36})\/share/.exec(consent)?.[1];
    expect(planId, consent.slice(0, 300)).toBeTruthy();
    expect((await form(`/present/${planId}/share`, {})).status).toBe(200);
    const headers = { 'sec-fetch-site': 'same-origin', cookie };
    const templates: Template[] = [
      { name: 'receive', method: 'POST', path: '/receive', kind: 'form', limit: 65_536, body: { offer: o.credential_offer, tx_code: o.tx_code } },
      { name: 'present', method: 'POST', path: '/present', kind: 'form', limit: 65_536, body: { request: q.authorization_request } },
      { name: 'share', method: 'POST', path: `/present/${randomUUID()}/share`, kind: 'form', limit: 65_536, body: { choice_meldebescheinigung: 'x', include_meldebescheinigung: '1' } },
      { name: 'delete', method: 'POST', path: `/credentials/${randomUUID()}/delete`, kind: 'form', limit: 65_536, body: {} },
      { name: 'home', method: 'GET', path: `/?offer=${encodeURIComponent(o.credential_offer)}`, kind: 'none', limit: 65_536 },
      { name: 'history', method: 'GET', path: '/history.json', kind: 'none', limit: 65_536 },
    ];
    const cases = build(rng, templates, PER_SERVICE, '{}').map((c) => ({ ...c, headers: { ...c.headers, ...headers } }));
    const before = walletDigest(dir);
    const outcomes = await sendAll(url, cases);
    report('web wallet', outcomes);
    expectClean(outcomes);
    expect(outcomes.filter((x) => x.c.method === 'POST' && x.status < 400).map((x) => describeCase(x.c))).toEqual([]);
    expect(walletDigest(dir)).toEqual(before);
    await healthy(url);
  }, 180_000);
});

/** An offer taken up to its access token (the credential not yet requested). */
async function openAccessToken(stack: Stack) {
  const { newHolderKey, testWallet } = await import('../helpers/oid4vci-wallet.ts');
  const key = await newHolderKey();
  const res = await stack.admin('issuer', '/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE });
  const o = await res.json();
  const { client, signer } = testWallet([key]);
  const credentialOffer = await client.resolveCredentialOffer(o.credential_offer);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const code = (credentialOffer.grants as Record<string, { 'pre-authorized_code': string }>)['urn:ietf:params:oauth:grant-type:pre-authorized_code']!['pre-authorized_code'];
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code });
  return { client, signer, key, offer: { issuerMetadata }, accessToken: accessTokenResponse.access_token, code };
}

/** The JWT with the first byte of its signature changed: well-formed, but not signed by its key. */
function flipSignatureBit(jwt: string): string {
  const [h, p, sig] = jwt.split('.');
  const bytes = Buffer.from(sig!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  return `${h}.${p}.${bytes.toString('base64url')}`;
}
