import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyCli } from '../../scripts/api-keys.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';

/**
 * Access control (issue 9): API keys per office, relying party and registry operator, created with
 * the CLI on the service's database; clerk and administrator roles; 403 problem JSON outside a key's
 * scope or role; every admin action and every key change in the audit trail under the key id.
 * On SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set (as .ci/run does).
 */
const pgUrl = process.env.TEST_DATABASE_URL;
const databases: [string, string | undefined][] = [['SQLite', undefined], ...(pgUrl ? [['PostgreSQL', pgUrl] as [string, string]] : [])];
describe.each(databases)('hardening: API keys, roles, scopes, audit (%s)', (_name, databaseUrl) => {
  let stack: Stack;
  let env: Record<string, string>;
  const keys: Record<string, { id: string; token: string }> = {};

  /** Runs the CLI in-process on the stack's databases; returns its exit code and stdout. */
  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await apiKeyCli(argv, { env, out: (l) => lines.push(l), err: (l) => errors.push(l) });
    return { code, out: lines.join('\n'), err: errors.join('\n') };
  };
  const create = async (name: string, ...argv: string[]) => {
    const r = await cli('create', ...argv, '--json');
    expect(r.code, r.err).toBe(0);
    keys[name] = JSON.parse(r.out) as { id: string; token: string };
  };
  const call = (base: string, path: string, token: string, body?: unknown) =>
    fetch(base + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const expectProblem = async (res: Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await res.json();
    expect(body).toMatchObject({ type: `urn:id-ideal:problem:${code}`, status });
    return body;
  };
  const audit = async (service: 'issuer' | 'verifier' | 'registry') => {
    const res = await stack.admin(service, '/api/audit');
    expect(res.status).toBe(200);
    return (await res.json()).entries as { actor: string; action: string; target: string; details: Record<string, unknown> }[];
  };
  const offer = { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE };

  beforeAll(async () => {
    const db: Record<string, string> = databaseUrl ? { DATABASE_URL: databaseUrl, DATABASE_SCHEMA_PREFIX: `t${randomBytes(4).toString('hex')}_` } : {};
    stack = await startStack({ env: db });
    env = { ...db, DATA_DIR: stack.dataDir, KEY_ENCRYPTION_SECRET: 'c'.repeat(64), REGISTRY_ADMIN_TOKEN: TOKENS.registry, ISSUER_ADMIN_TOKEN: TOKENS.issuer, VERIFIER_ADMIN_TOKEN: TOKENS.verifier, REGISTRY_PUBLIC_URL: stack.urls.registry, ISSUER_PUBLIC_URL: stack.urls.issuer, VERIFIER_PUBLIC_URL: stack.urls.verifier };
    await create('clerk', '--service', 'issuer', '--scope', 'office:buergerbuero', '--role', 'clerk', '--label', 'Bürgerbüro Schalter 1');
    await create('officeAdmin', '--service', 'issuer', '--scope', 'office:buergerbuero', '--role', 'administrator');
    await create('counter', '--service', 'verifier', '--scope', 'verifier:bibliothek', '--role', 'clerk');
    await create('registryAdmin', '--service', 'registry', '--role', 'administrator');
    await create('registryClerk', '--service', 'registry', '--role', 'clerk');
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('prints a bearer token once, stores only its hash, and lists keys without secrets', async () => {
    expect(keys.clerk!.id).toMatch(/^issuer_[0-9a-f]{16}$/);
    expect(keys.clerk!.token).toMatch(/^issuer_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    // Through the npm script entry point, as an operator runs it.
    const run = spawnSync(join('node_modules', '.bin', 'tsx'), ['scripts/api-keys.ts', 'list', '--service', 'issuer', '--json'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const listed = JSON.parse(run.stdout).keys as { id: string; role: string; scopes: string[]; label: string | null; revoked_at: string | null }[];
    expect(listed.map((k) => k.id).sort()).toEqual([keys.clerk!.id, keys.officeAdmin!.id].sort());
    expect(listed.find((k) => k.id === keys.clerk!.id)).toMatchObject({ role: 'clerk', scopes: ['office:buergerbuero'], label: 'Bürgerbüro Schalter 1', revoked_at: null });
    const secret = keys.clerk!.token.split('.')[1]!;
    expect(run.stdout).not.toContain(secret);
    expect(JSON.stringify(await audit('issuer'))).not.toContain(secret);
  });

  it('refuses scopes a service does not have', async () => {
    expect((await cli('create', '--service', 'issuer', '--scope', 'office:nirgendwo', '--role', 'clerk')).code).toBe(1);
    expect((await cli('create', '--service', 'issuer', '--scope', 'verifier:bibliothek', '--role', 'clerk')).code).toBe(1);
    expect((await cli('create', '--service', 'registry', '--scope', 'office:buergerbuero', '--role', 'administrator')).code).toBe(1);
    expect((await cli('create', '--service', 'issuer', '--scope', 'office:buergerbuero', '--role', 'root')).code).toBe(1);
    expect((await cli('revoke', 'issuer_0000000000000000')).code).toBe(1);
  });

  it('lets an office clerk offer and read at its own office, with 403 elsewhere and for administrator actions', async () => {
    const { issuer } = stack.urls;
    const t = keys.clerk!.token;
    const created = await call(issuer, '/api/offices/buergerbuero/offers', t, offer);
    expect(created.status).toBe(201);
    const { offer_id } = await created.json();
    expect((await call(issuer, `/api/offices/buergerbuero/offers/${offer_id}`, t)).status).toBe(200);

    const elsewhere = await call(issuer, '/api/offices/bibliothek/offers', t, { credential_configuration_id: 'bibliotheksausweis_sd_jwt', claims: {} });
    expect(elsewhere.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    await expectProblem(elsewhere, 403, 'out-of-scope');
    await expectProblem(await call(issuer, `/api/offices/bibliothek/offers/${offer_id}`, t), 403, 'out-of-scope');
    await expectProblem(await call(issuer, '/api/offices/buergerbuero/keys', t), 403, 'insufficient-role');
    await expectProblem(await call(issuer, '/api/offices/buergerbuero/keys/rotate', t, {}), 403, 'insufficient-role');
    await expectProblem(await call(issuer, `/api/offices/buergerbuero/credentials/${offer_id}/status`, t, { status: 'revoked' }), 403, 'insufficient-role');
    await expectProblem(await call(issuer, '/api/audit', t), 403, 'insufficient-role');

    // The office administrator manages its own office only; the audit trail spans all offices.
    expect((await call(issuer, '/api/offices/buergerbuero/keys', keys.officeAdmin!.token)).status).toBe(200);
    expect((await call(issuer, '/api/offices/buergerbuero/offers', keys.officeAdmin!.token, offer)).status).toBe(201);
    await expectProblem(await call(issuer, '/api/offices/sozialamt/keys', keys.officeAdmin!.token), 403, 'out-of-scope');
    await expectProblem(await call(issuer, '/api/audit', keys.officeAdmin!.token), 403, 'out-of-scope');

    const entries = await audit('issuer');
    expect(entries.find((e) => e.action === 'offer.create' && e.target === offer_id)?.actor).toBe(keys.clerk!.id);
    expect(entries.filter((e) => e.action === 'apikey.create').map((e) => e.target)).toEqual([keys.clerk!.id, keys.officeAdmin!.id]);
    expect(entries.find((e) => e.target === keys.clerk!.id)).toMatchObject({ actor: expect.stringMatching(/^cli:/), details: { role: 'clerk', scopes: ['office:buergerbuero'] } });
    expect(await (await stack.admin('issuer', '/api/audit/check')).json()).toMatchObject({ valid: true });
  });

  it('keeps the bootstrap token an administrator of everything', async () => {
    expect((await stack.admin('issuer', '/api/offices/sozialamt/keys')).status).toBe(200);
    expect((await stack.admin('issuer', '/api/offices/bibliothek/offers', { credential_configuration_id: 'bibliotheksausweis_sd_jwt', claims: { nope: 1 } })).status).toBe(400);
    const entries = await audit('issuer');
    expect(entries.every((e) => e.actor === 'admin:bootstrap' || e.actor.startsWith('issuer_') || e.actor.startsWith('cli:') || e.actor === 'seed:demo')).toBe(true);
  });

  it('does not accept a key at another service', async () => {
    await expectProblem(await call(stack.urls.verifier, '/api/verifiers/bibliothek/requests', keys.clerk!.token, { template: 'bibliotheksausweis' }), 401, 'unauthorized');
    await expectProblem(await call(stack.urls.registry, '/api/grants', keys.clerk!.token), 401, 'unauthorized');
  });

  it('gives the verifier per-counter keys and an audit trail of its admin actions', async () => {
    const { verifier } = stack.urls;
    const t = keys.counter!.token;
    const res = await call(verifier, '/api/verifiers/bibliothek/requests', t, { template: 'bibliotheksausweis' });
    expect(res.status).toBe(201);
    const { request_id } = await res.json();
    expect((await call(verifier, `/api/verifiers/bibliothek/requests/${request_id}`, t)).status).toBe(200);
    await expectProblem(await call(verifier, '/api/verifiers/buergerbuero/requests', t, { template: 'meldebescheinigung' }), 403, 'out-of-scope');
    await expectProblem(await call(verifier, `/api/verifiers/buergerbuero/requests/${request_id}`, t), 403, 'out-of-scope');
    await expectProblem(await call(verifier, '/api/audit', t), 403, 'insufficient-role');

    // The demo seed's catalogue entries (issue 15, actor seed:demo) come first; the admin actions follow.
    const entries = (await audit('verifier')).filter((e) => e.actor !== 'seed:demo');
    expect(entries.map((e) => [e.action, e.actor, e.target])).toEqual([
      ['apikey.create', expect.stringMatching(/^cli:/), keys.counter!.id],
      ['request.create', keys.counter!.id, request_id],
    ]);
    expect(entries[1]!.details).toEqual({ verifier: 'bibliothek', template: 'bibliotheksausweis' });
    expect(await (await stack.admin('verifier', '/api/audit/check')).json()).toMatchObject({ valid: true });
  });

  it('lets registry clerks read and registry administrators write, audited under the key id', async () => {
    const { registry } = stack.urls;
    const entity = { id: 'did:web:localhost%3A3001:offices:ortsamt-test', kind: 'issuer', name: { de: 'Ortsamt', en: 'Local office' } };
    expect((await call(registry, '/api/grants', keys.registryClerk!.token)).status).toBe(200);
    await expectProblem(await call(registry, '/api/entities', keys.registryClerk!.token, entity), 403, 'insufficient-role');
    await expectProblem(await call(registry, '/api/audit', keys.registryClerk!.token), 403, 'insufficient-role');
    expect((await call(registry, '/api/entities', keys.registryAdmin!.token, entity)).status).toBe(201);
    const entries = await audit('registry');
    expect(entries.at(-1)).toMatchObject({ actor: keys.registryAdmin!.id });
    expect(entries.filter((e) => e.action === 'apikey.create').map((e) => e.target)).toEqual([keys.registryAdmin!.id, keys.registryClerk!.id]);
    expect(await (await stack.admin('registry', '/api/audit/check')).json()).toMatchObject({ valid: true });
  });

  it('rotates a key (the old secret stops working) and revokes it, both audited', async () => {
    const { issuer } = stack.urls;
    const old = keys.clerk!.token;
    const rotated = await cli('rotate', keys.clerk!.id, '--json');
    expect(rotated.code, rotated.err).toBe(0);
    const { token } = JSON.parse(rotated.out) as { token: string };
    expect(token.split('.')[0]).toBe(keys.clerk!.id);
    await expectProblem(await call(issuer, '/api/offices/buergerbuero/offers', old, offer), 401, 'unauthorized');
    expect((await call(issuer, '/api/offices/buergerbuero/offers', token, offer)).status).toBe(201);

    const revoked = await cli('revoke', keys.clerk!.id, '--reason', 'Schalter 1 aufgelöst');
    expect(revoked.code, revoked.err).toBe(0);
    await expectProblem(await call(issuer, '/api/offices/buergerbuero/offers', token, offer), 401, 'unauthorized');
    expect((await cli('rotate', keys.clerk!.id)).code).toBe(1);

    const entries = (await audit('issuer')).filter((e) => e.target === keys.clerk!.id);
    expect(entries.map((e) => e.action)).toEqual(['apikey.create', 'apikey.rotate', 'apikey.revoke']);
    expect(entries[2]!.details).toEqual({ reason: 'Schalter 1 aufgelöst' });
    const listed = JSON.parse((await cli('list', '--service', 'issuer', '--json')).out).keys as { id: string; revoked_at: string | null }[];
    expect(listed.find((k) => k.id === keys.clerk!.id)?.revoked_at).toEqual(expect.any(String));
    expect(await (await stack.admin('issuer', '/api/audit/check')).json()).toMatchObject({ valid: true });
  });
});
