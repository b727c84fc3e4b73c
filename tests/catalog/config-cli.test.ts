import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCityConfig } from '../../core/catalog/load-file.ts';
import { LEIPZIG } from '../../core/demo/leipzig.ts';
import { ARCHIVAUSWEIS, ARCHIVE_CITY, archiveCityYaml, LESESAAL } from '../helpers/archive-city.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';

/**
 * Issue 15: `npm run config -- apply city.yaml` against the real registry, issuer and verifier.
 * Leipzig plus a city archive (new department, type, office and counter) is applied from one file;
 * dry-run changes nothing; apply again has nothing to do; then a citizen receives the new document
 * from the new office and shows it at the new counter.
 */
describe('npm run config: apply a city file to the three services', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    stack = await startStack();
    dir = mkdtempSync(join(tmpdir(), 'idideal-config-'));
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'scripts/config.ts', ...args],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            DATA_DIR: stack.dataDir,
            REGISTRY_PUBLIC_URL: stack.urls.registry,
            ISSUER_PUBLIC_URL: stack.urls.issuer,
            VERIFIER_PUBLIC_URL: stack.urls.verifier,
            REGISTRY_ADMIN_TOKEN: TOKENS.registry,
            ISSUER_ADMIN_TOKEN: TOKENS.issuer,
            VERIFIER_ADMIN_TOKEN: TOKENS.verifier,
            ...env,
          },
          timeout: 90_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  /** What each service shows: catalogues, registry entities and grants, audit lengths. */
  const footprint = async () => {
    const get = async (service: 'registry' | 'issuer' | 'verifier', path: string) => (await stack.admin(service, path)).json();
    return JSON.stringify({
      r: await get('registry', '/api/catalog'),
      e: (await get('registry', '/api/entities')).entities.length,
      g: (await get('registry', '/api/grants')).grants.map((g: { id: string; status: string }) => `${g.id}:${g.status}`),
      ra: (await get('registry', '/api/audit')).entries.length,
      i: await get('issuer', '/api/catalog'),
      ia: (await get('issuer', '/api/audit')).entries.length,
      v: await get('verifier', '/api/catalog'),
      va: (await get('verifier', '/api/audit')).entries.length,
    });
  };

  it('finds nothing to change when Demo Leipzig, as seeded, is applied from its file', async () => {
    const out = await run(['apply', file('leipzig.yaml', archiveCityYaml(LEIPZIG))]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe('nichts zu ändern / nothing to change');
  }, 120_000);

  it('--dry-run prints the diff in German and English and changes nothing', async () => {
    const before = await footprint();
    const out = await run(['apply', file('city.yaml', archiveCityYaml()), '--dry-run']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('+ Register: Nachweisart archivausweis anlegen (urn:id-ideal:vct:archivausweis)');
    expect(out.stdout).toContain('  Issuer: create office stadtarchiv');
    expect(out.stdout).toContain('+ Prüfdienst: Prüfstelle stadtarchiv-lesesaal anlegen (1 Vorlagen)');
    expect(out.stdout).toContain('dry run: nothing changed (11 changes planned)');
    expect(await footprint()).toBe(before);
  }, 120_000);

  it('applies the file (registry, then issuer, then verifier), and a second apply has nothing to change', async () => {
    const path = join(dir, 'city.yaml');
    const out = await run(['apply', path]);
    expect(out.code, out.stderr + out.stdout).toBe(0);
    expect(out.stdout).toContain('done: 11 changes');
    const reg = await (await stack.admin('registry', '/api/catalog')).json();
    expect(reg.credential_types.map((t: { id: string }) => t.id)).toContain('archivausweis');
    const iss = await (await stack.admin('issuer', '/api/catalog')).json();
    expect(iss.offices.map((o: { slug: string }) => o.slug)).toContain('stadtarchiv');
    const ver = await (await stack.admin('verifier', '/api/catalog')).json();
    expect(ver.relying_parties.find((r: { slug: string }) => r.slug === LESESAAL.slug)).toMatchObject({ slug: LESESAAL.slug, may_ask: LESESAAL.may_ask });
    expect((await fetch(`${stack.urls.registry}/authorities/dezernat-archiv/did.json`)).status).toBe(200);

    const before = await footprint();
    const again = await run(['apply', path]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('nichts zu ändern / nothing to change');
    expect(await footprint()).toBe(before);
  }, 180_000);

  it('issues the new document at the new office and verifies it at the new counter', async () => {
    const claims = { vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01', lesesaal: 'sondersammlung' };
    const { credential, key } = await receiveCredential(stack, 'stadtarchiv', 'archivausweis_sd_jwt', claims);
    const payload = JSON.parse(Buffer.from(credential.split('~')[0]!.split('.')[1]!, 'base64url').toString());
    expect(payload.vct).toBe(ARCHIVAUSWEIS.vct);
    // HAIP: the https Credential Issuer Identifier, certified together with the office's did:web (the `kid`).
    expect(payload.iss).toBe(`${stack.urls.issuer}/offices/stadtarchiv`);
    const created = await stack.admin('verifier', `/api/verifiers/${LESESAAL.slug}/requests`, { template: 'archivausweis' });
    expect(created.status, await created.clone().text()).toBe(201);
    const r = await created.json();
    const req = await resolveRequest(r.authorization_request);
    expect((await postResponse(req, { archivausweis: [await present(credential, key, req, 'archivausweis')] })).status).toBe(200);
    const verdict = await (await stack.admin('verifier', `/api/verifiers/${LESESAAL.slug}/requests/${r.request_id}`)).json();
    expect(verdict.status, JSON.stringify(verdict.result?.errors)).toBe('verified');
    expect(verdict.result.credentials[0]).toMatchObject({ vct: ARCHIVAUSWEIS.vct, issuer: stack.officeDid('stadtarchiv') });
    // The derived claim was computed by the issuer, not sent.
    expect(verdict.result.credentials[0].claims).toEqual({ vorname: 'Erika', familienname: 'Mustermann', lesesaal: 'sondersammlung', volljaehrig: true });
  }, 120_000);

  it('exports the current state as a file that applies with nothing to change', async () => {
    const out = await run(['export']);
    expect(out.code, out.stderr).toBe(0);
    const exported = parseCityConfig(out.stdout);
    expect(exported.offices.map((o) => o.slug)).toEqual(expect.arrayContaining(ARCHIVE_CITY.offices.map((o) => o.slug)));
    expect(exported.departments.find((d) => d.slug === 'dezernat-archiv')?.accredits).toEqual(['archivausweis']);
    const again = await run(['apply', file('exported.yaml', out.stdout)]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('nichts zu ändern / nothing to change');
  }, 120_000);

  it('stops at a refused change with the service, the item and the problem in German and English (exit 1); a file error names the field (exit 2)', async () => {
    // The registry refuses to move a type to another vct: the first change fails, nothing is written.
    const before = await footprint();
    const moved = structuredClone(ARCHIVE_CITY);
    moved.credential_types.find((t) => t.id === 'archivausweis')!.vct = 'urn:id-ideal:vct:archivausweis-neu';
    const refused = await run(['apply', file('moved.yaml', archiveCityYaml(moved))]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Abgebrochen / stopped: Vertrauensregister / trust registry, credential type archivausweis (HTTP 409, urn:id-ideal:problem:credential-type-vct-immutable)');
    expect(refused.stderr).toContain('  Die Nachweisart archivausweis hat die vct urn:id-ideal:vct:archivausweis;');
    expect(refused.stderr).toContain('  Credential type archivausweis has vct urn:id-ideal:vct:archivausweis;');
    expect(refused.stderr).not.toContain(TOKENS.registry);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(await footprint()).toBe(before);

    // A counter whose template asks for more than its may_ask: the verifier refuses it, the apply stops there.
    const greedy = structuredClone(ARCHIVE_CITY);
    greedy.relying_parties.push({
      ...structuredClone(LESESAAL),
      slug: 'stadtarchiv-magazin',
      templates: [{ id: 'magazin', name: { de: 'Magazin', en: 'Stacks' }, dcql_query: { credentials: [{ id: 'archivausweis', format: 'dc+sd-jwt', meta: { vct_values: [ARCHIVAUSWEIS.vct] }, claims: [{ path: ['geburtsdatum'] }] }] } }],
    });
    const stopped = await run(['apply', file('greedy.yaml', archiveCityYaml(greedy))]);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain('✓ Register: Prüfstelle stadtarchiv-magazin eintragen');
    expect(stopped.stderr).toContain('Abgebrochen / stopped: Prüfdienst / verifier, relying party stadtarchiv-magazin (HTTP 400');
    expect(stopped.stderr).toMatch(/geburtsdatum/);
    expect(stopped.stderr).not.toContain(TOKENS.verifier);
    const ver = await (await stack.admin('verifier', '/api/catalog')).json();
    expect(ver.relying_parties.map((r: { slug: string }) => r.slug)).not.toContain('stadtarchiv-magazin');

    const broken = await run(['apply', file('broken.yaml', archiveCityYaml(LEIPZIG).replace('validity_days: 730', 'validity_days: zwei Jahre'))]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('credential_types.2.validity_days');
    const wrongToken = await run(['apply', join(dir, 'city.yaml')], { ISSUER_ADMIN_TOKEN: 'wrong-token-wrong-token-wrong' });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('HTTP 401');
    expect(wrongToken.stderr).not.toContain('wrong-token-wrong-token-wrong');
  }, 180_000);

  it('the services stayed consistent with Leipzig: its file still applies with nothing to change', async () => {
    const out = await run(['apply', join(dir, 'leipzig.yaml')]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('nichts zu ändern / nothing to change');
    expect(out.stdout).toContain('= Prüfdienst: Prüfstelle stadtarchiv-lesesaal bleibt (nicht in der Datei)');
    expect(LEIPZIG.offices.length).toBe(4);
  }, 120_000);
});
