import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VCT } from '../../core/demo/leipzig.ts';
import { freePort } from '../helpers/net.ts';
import { spawnService, type ChildService } from '../helpers/spawn-service.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';

/**
 * Issue 15: a catalogue change made through one verifier process takes effect in another process on
 * the same database within CATALOG_REFRESH seconds (it polls the revision), without a restart: the
 * new relying party's did:web document, counter page and request API.
 */
const SLUG = 'stadtarchiv-magazin';
const REFRESH_SECONDS = 1;

describe('verifier catalogue across processes', () => {
  let stack: Stack;
  let second: ChildService;
  let base: string;
  beforeAll(async () => {
    stack = await startStack();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    second = await spawnService(
      'verifier/main.ts',
      {
        DATA_DIR: stack.dataDir,
        VERIFIER_PORT: String(port),
        REGISTRY_PUBLIC_URL: stack.urls.registry,
        ISSUER_PUBLIC_URL: stack.urls.issuer,
        VERIFIER_PUBLIC_URL: stack.urls.verifier,
        VERIFIER_ADMIN_TOKEN: TOKENS.verifier,
        KEY_ENCRYPTION_SECRET: 'c'.repeat(64),
        CATALOG_REFRESH: String(REFRESH_SECONDS),
      },
      base,
    );
  }, 120_000);
  afterAll(async () => {
    await second?.stop('SIGKILL');
    await stack?.close();
  });

  it('a relying party PUT at one process is served by the other within CATALOG_REFRESH', async () => {
    const did = stack.rpDid(SLUG);
    expect((await stack.admin('registry', '/api/entities', { id: did, kind: 'verifier', name: { de: 'Stadtarchiv – Magazin', en: 'City Archives – stacks' } })).status).toBe(201);
    const purpose = { de: 'Ausleihe aus dem Magazin', en: 'Lending from the stacks' };
    expect((await stack.admin('registry', '/api/grants', { entity_id: did, action: 'verify', resource: VCT.meldebescheinigung, constraints: { claims: [['vorname'], ['familienname']], purpose } })).status).toBe(201);
    // The second process has not heard of it yet.
    expect((await fetch(`${base}/verifiers/${SLUG}/did.json`)).status).toBe(404);

    const body = {
      slug: SLUG,
      name: { de: 'Stadtarchiv Leipzig – Magazin', en: 'Leipzig City Archives – stacks' },
      may_ask: [{ vct: VCT.meldebescheinigung, claims: [['vorname'], ['familienname']], purpose }],
      templates: [{ id: 'magazin', name: { de: 'Ausleihe prüfen', en: 'Check lending' }, dcql_query: { credentials: [{ id: 'm', format: 'dc+sd-jwt', meta: { vct_values: [VCT.meldebescheinigung] }, claims: [{ path: ['vorname'] }, { path: ['familienname'] }] }] } }],
    };
    const res = await fetch(`${stack.urls.verifier}/api/catalog/relying-parties/${SLUG}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKENS.verifier}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(201);
    const stored = Date.now();

    let seenAfter: number | undefined;
    while (Date.now() - stored < 10_000) {
      if ((await fetch(`${base}/verifiers/${SLUG}/did.json`)).status === 200) {
        seenAfter = Date.now() - stored;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seenAfter, 'the second process never saw the new relying party').toBeDefined();
    // One poll interval plus a reload; a margin for a loaded machine, far below "never".
    expect(seenAfter!).toBeLessThan(REFRESH_SECONDS * 1000 + 3000);

    // Same key as the process that created it: one identity, not two.
    const there = await (await fetch(`${base}/verifiers/${SLUG}/did.json`)).json();
    const here = await (await fetch(`${stack.urls.verifier}/verifiers/${SLUG}/did.json`)).json();
    expect(there).toEqual(here);
    expect((await fetch(`${base}/verifiers/${SLUG}/counter`)).status).toBe(200);
    const created = await fetch(`${base}/api/verifiers/${SLUG}/requests`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.verifier}`, 'content-type': 'application/json' }, body: '{"template":"magazin"}' });
    expect(created.status, await created.clone().text()).toBe(201);
    const catalog = await (await fetch(`${base}/api/catalog`, { headers: { authorization: `Bearer ${TOKENS.verifier}` } })).json();
    expect(catalog.relying_parties.map((r: { slug: string }) => r.slug)).toContain(SLUG);
  });
});
