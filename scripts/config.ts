import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { exportCityConfig } from '../core/catalog/export-state.ts';
import { parseCityConfig } from '../core/catalog/load-file.ts';
import type { CityConfig } from '../core/catalog/model.ts';
import { type Change, type CurrentState, formatPlan, type GrantView, PlanError, planApply, type Service } from '../core/catalog/plan.ts';
import { didWebFor } from '../core/did/did-web.ts';
import { ProblemError } from '../core/http/errors.ts';
import type { I18nText } from '../core/trust/model.ts';

/**
 * `npm run config -- apply <file> [--dry-run]` and `npm run config -- export` (issue 15; the file
 * format and the apply order: docs/configuration.md). Talks to the three services' admin APIs only:
 * URLs from REGISTRY_PUBLIC_URL, ISSUER_PUBLIC_URL, VERIFIER_PUBLIC_URL (defaults as the services),
 * tokens from REGISTRY_ADMIN_TOKEN, ISSUER_ADMIN_TOKEN, VERIFIER_ADMIN_TOKEN or, in demo, the files
 * under DATA_DIR/secrets/. Exit codes: 0 done (or nothing to do), 1 a service refused or could not
 * be reached, 2 the command line or the file is wrong. Never prints a token or a stack trace.
 */

const USAGE = `usage: npm run config -- apply <file> [--dry-run]   apply a city configuration (YAML or JSON)
       npm run config -- export > city.yaml           the current configuration as a file`;

const SERVICES: Service[] = ['registry', 'issuer', 'verifier'];
const PREFIX: Record<Service, string> = { registry: 'REGISTRY', issuer: 'ISSUER', verifier: 'VERIFIER' };
const DEFAULT_PORT: Record<Service, number> = { registry: 3003, issuer: 3001, verifier: 3002 };
const SERVICE_NAME: Record<Service, I18nText> = { registry: { de: 'Vertrauensregister', en: 'trust registry' }, issuer: { de: 'Ausgabestelle', en: 'issuer' }, verifier: { de: 'Prüfdienst', en: 'verifier' } };

/** Exit with a message (German / English), no stack trace. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    readonly lines: string[],
  ) {
    super(lines.join('\n'));
  }
}

interface Endpoint {
  url: string;
  token: string;
}

function endpoints(env: NodeJS.ProcessEnv): Record<Service, Endpoint> {
  const dataDir = resolve(env.DATA_DIR ?? './.data');
  const out = {} as Record<Service, Endpoint>;
  for (const s of SERVICES) {
    const p = PREFIX[s];
    const url = (env[`${p}_PUBLIC_URL`] ?? `http://localhost:${env[`${p}_PORT`] ?? DEFAULT_PORT[s]}`).replace(/\/+$/, '');
    try {
      new URL(url);
    } catch {
      throw new CliExit(2, [`${p}_PUBLIC_URL ist keine URL / is not a URL`]);
    }
    let token = env[`${p}_ADMIN_TOKEN`];
    const file = join(dataDir, 'secrets', `${s}-admin-token`);
    if (!token && existsSync(file)) token = readFileSync(file, 'utf8').trim();
    if (!token) throw new CliExit(2, [`Kein Verwaltungs-Token für ${SERVICE_NAME[s].de}: ${p}_ADMIN_TOKEN setzen / no admin token for the ${SERVICE_NAME[s].en}: set ${p}_ADMIN_TOKEN`]);
    out[s] = { url, token };
  }
  return out;
}

/** A problem from a service as German and English lines (its `detail_i18n` when it has one). */
function problemLines(service: Service, item: string, status: number, body: unknown): string[] {
  const p = (body && typeof body === 'object' ? body : {}) as { type?: unknown; detail?: unknown; title?: unknown; detail_i18n?: { de?: unknown; en?: unknown } };
  const de = typeof p.detail_i18n?.de === 'string' ? p.detail_i18n.de : undefined;
  const en = typeof p.detail_i18n?.en === 'string' ? p.detail_i18n.en : typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : `HTTP ${status}`;
  return [
    `Abgebrochen / stopped: ${SERVICE_NAME[service].de} / ${SERVICE_NAME[service].en}, ${item} (HTTP ${status}${typeof p.type === 'string' ? `, ${p.type}` : ''})`,
    ...(de ? [`  ${de}`] : []),
    `  ${en}`,
  ];
}

class Client {
  constructor(private readonly ep: Record<Service, Endpoint>) {}

  async call(service: Service, item: string, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const { url, token } = this.ep[service];
    let res: Response;
    try {
      res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      throw new CliExit(1, [`${SERVICE_NAME[service].de} nicht erreichbar / ${SERVICE_NAME[service].en} unreachable: ${url}`]);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw new CliExit(1, problemLines(service, item, res.status, parsed));
    return parsed;
  }

  /** The current state of the three services (read only). */
  async state(): Promise<{ current: CurrentState; registryDid: string }> {
    const meta = (await this.call('registry', 'metadata', 'GET', '/.well-known/trust-registry')) as { registry_did: string; authority_id: string };
    const catalog = (await this.call('registry', 'catalogue', 'GET', '/api/catalog')) as { credential_types: unknown[] };
    const entities = (await this.call('registry', 'entities', 'GET', '/api/entities')) as { entities: CurrentState['registry']['entities'] };
    const grants = (await this.call('registry', 'grants', 'GET', '/api/grants')) as { grants: GrantView[] };
    const issuer = (await this.call('issuer', 'catalogue', 'GET', '/api/catalog')) as { credential_types?: unknown[]; offices?: unknown[] };
    const verifier = (await this.call('verifier', 'catalogue', 'GET', '/api/catalog')) as { credential_types?: unknown[]; relying_parties?: unknown[] };
    return {
      registryDid: meta.registry_did,
      current: {
        registry: { root: meta.authority_id, credential_types: catalog.credential_types, entities: entities.entities, grants: grants.grants },
        issuer: { credential_types: issuer.credential_types ?? [], offices: issuer.offices ?? [] },
        verifier: { credential_types: verifier.credential_types ?? [], relying_parties: verifier.relying_parties ?? [] },
      },
    };
  }
}

function readFile(file: string): CityConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliExit(2, [`Datei nicht lesbar / cannot read file: ${file}`]);
  }
  try {
    return parseCityConfig(text);
  } catch (e) {
    if (e instanceof ProblemError) {
      const errors = (e.extra.errors as { field: string; message: string }[] | undefined) ?? [{ field: String(e.extra.field ?? ''), message: e.detail ?? '' }];
      return fail(2, [`Fehler in ${file} / error in ${file}:`, ...errors.map((x) => `  ${x.field}: ${x.message}`)]);
    }
    // YAML syntax errors (the yaml library names line and column); first line only, no stack.
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return fail(2, [`Fehler in ${file} / error in ${file}:`, `  ${message}`]);
  }
}

const fail = (code: number, lines: string[]): never => {
  throw new CliExit(code, lines);
};

export async function apply(file: string, dryRun: boolean, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<void> {
  const desired = readFile(file);
  const ep = endpoints(env);
  const client = new Client(ep);
  const { current, registryDid } = await client.state();
  const dids = {
    department: (slug: string) => `${registryDid}:authorities:${slug}`,
    office: (slug: string) => didWebFor(ep.issuer.url, 'offices', slug),
    relyingParty: (slug: string) => didWebFor(ep.verifier.url, 'verifiers', slug),
  };
  let plan;
  try {
    plan = planApply(current, desired, dids);
  } catch (e) {
    if (e instanceof PlanError) return fail(2, [`Fehler in ${file} / error in ${file}:`, `  ${e.field}: ${e.text.de}`, `  ${e.field}: ${e.text.en}`]);
    throw e;
  }
  for (const line of formatPlan(plan)) out(line);
  if (dryRun) {
    out(plan.changes.length ? `Probelauf: nichts geändert (${plan.changes.length} Änderungen geplant) / dry run: nothing changed (${plan.changes.length} changes planned)` : 'Probelauf / dry run');
    return;
  }
  for (const c of plan.changes) await send(client, c, out);
  if (plan.changes.length) out(`Fertig: ${plan.changes.length} Änderungen / done: ${plan.changes.length} changes`);
}

async function send(client: Client, c: Change, out: (line: string) => void): Promise<void> {
  await client.call(c.service, c.item, c.request.method, c.request.path, c.request.body);
  out(`✓ ${c.text.de} / ${c.text.en}`);
}

export async function exportConfig(env: NodeJS.ProcessEnv, out: (text: string) => void): Promise<void> {
  const client = new Client(endpoints(env));
  const { current } = await client.state();
  let config: CityConfig;
  try {
    config = exportCityConfig(current);
  } catch (e) {
    if (e instanceof ProblemError) return fail(1, [`Der aktuelle Stand ergibt keine gültige Datei / the current state is not a valid file: ${e.detail ?? ''}`]);
    throw e;
  }
  out(`# City configuration exported by npm run config -- export (docs/configuration.md)\n${stringify(config, { lineWidth: 0 })}`);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, allowPositionals: true, options: { 'dry-run': { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
    } catch (e) {
      throw new CliExit(2, [e instanceof Error ? e.message : String(e), USAGE]);
    }
    const [command, ...rest] = parsed.positionals;
    if (parsed.values.help) {
      log(USAGE);
      return 0;
    }
    if (command === 'apply' && rest.length === 1) await apply(rest[0]!, parsed.values['dry-run'] === true, env, log);
    else if (command === 'export' && rest.length === 0 && !parsed.values['dry-run']) await exportConfig(env, (t) => process.stdout.write(t));
    else throw new CliExit(2, [USAGE]);
    return 0;
  } catch (e) {
    if (e instanceof CliExit) {
      for (const line of e.lines) err(line);
      return e.code;
    }
    // Anything unexpected: one line, no stack trace (it might quote a request).
    err(`Unerwarteter Fehler / unexpected error: ${e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : 'error'}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
