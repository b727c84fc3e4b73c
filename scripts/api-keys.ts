import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiKeyStore, apiKeyTable, type ApiKey } from '../core/access/api-key-store.ts';
import { formatToken, hashSecret, KEY_SERVICES, newKeyId, newSecret, ROLES, scopeError, type KeyService, type Role } from '../core/access/api-keys.ts';
import { auditTable } from '../core/audit/audit-table.ts';
import type { CommonConfig } from '../core/config/env.ts';
import { RELYING_PARTIES } from '../core/demo/leipzig.ts';
import { openDataSource } from '../core/store/data-source.ts';
import type { DataSource, EntitySchema } from 'typeorm';
import { CatalogOfficeTable } from '../issuer/catalog/catalog-table.ts';
import { toIso } from '../core/util/time.ts';
import { loadIssuerConfig } from '../issuer/config.ts';
import { issuerMigrations } from '../issuer/store/migrations/0001-issuer.ts';
import { loadRegistryConfig } from '../trust-registry/config.ts';
import { registryMigrations } from '../trust-registry/store/migrations/0001-registry.ts';
import { loadVerifierConfig } from '../verifier/config.ts';
import { verifierMigrations } from '../verifier/store/migrations/0001-verifier.ts';

/**
 * `npm run apikey -- <command>`: API keys of the admin APIs, managed on the service's database
 * directly (DATA_DIR or DATABASE_URL, read with the service's own configuration loading). The
 * secret is printed once and never stored; every change is written to the service's audit trail.
 */

const USAGE = `usage: npm run apikey -- <command> [options]
  create --service issuer|verifier|registry --role clerk|administrator --scope <scope> [--scope …] [--label <text>]
         scopes: issuer office:<slug> | verifier verifier:<slug> | "*" (every office / relying party; registry: only "*")
  list   --service issuer|verifier|registry
  rotate <key-id>                  new secret, same id; the old secret stops working at once
  revoke <key-id> [--reason <text>]
  --json                           machine-readable output`;

/** Per service: configuration, migrations, and the slugs a scope may name (the issuer's offices from its catalogue table). */
const SERVICE: Record<KeyService, { load: (env: NodeJS.ProcessEnv) => CommonConfig; migrations: (new () => never)[]; tables: EntitySchema[]; slugs: (ds: DataSource) => Promise<string[]> }> = {
  issuer: { load: loadIssuerConfig, migrations: issuerMigrations as never, tables: [CatalogOfficeTable as EntitySchema], slugs: async (ds) => (await ds.getRepository(CatalogOfficeTable).find()).map((r) => r.slug) },
  verifier: { load: loadVerifierConfig, migrations: verifierMigrations as never, tables: [], slugs: async () => RELYING_PARTIES.map((r) => r.slug) },
  registry: { load: loadRegistryConfig, migrations: registryMigrations as never, tables: [], slugs: async () => [] },
};

class UsageError extends Error {}

/** Opens the service's database as the service does (same name, same migrations) with only the tables needed here. */
async function openKeys(service: KeyService, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<{ store: ApiKeyStore; slugs: () => Promise<string[]>; close: () => Promise<void> }> {
  const config = SERVICE[service].load(env);
  for (const line of config.notices) out(line);
  const keys = apiKeyTable(`${service}_api_keys`);
  const audit = auditTable(`${service}_audit`);
  const ds = await openDataSource({
    name: config.databaseUrl ? `${config.databaseSchemaPrefix}${service}` : service,
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    entities: [keys, audit, ...SERVICE[service].tables],
    migrations: SERVICE[service].migrations,
    veramo: true,
  });
  return { store: new ApiKeyStore(ds, { keys, audit }), slugs: () => SERVICE[service].slugs(ds), close: () => ds.destroy() };
}

const serviceOf = (id: string): KeyService => {
  const s = id.split('_')[0] as KeyService;
  if (!KEY_SERVICES.includes(s) || !/^[a-z]+_[0-9a-f]{16}$/.test(id)) throw new UsageError(`not a key id: ${id}`);
  return s;
};

function operator(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

const view = (k: ApiKey) => ({ id: k.id, role: k.role, scopes: k.scopes, label: k.label, created_at: k.createdAt, rotated_at: k.rotatedAt, revoked_at: k.revokedAt });

/** Runs one CLI command; returns the exit code (0 done, 1 not found or misuse, 2 could not run). */
export async function apiKeyCli(
  argv: string[],
  { env = process.env, out = console.log, err = console.error, now = Date.now }: { env?: NodeJS.ProcessEnv; out?: (line: string) => void; err?: (line: string) => void; now?: () => number } = {},
): Promise<number> {
  let close: (() => Promise<void>) | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { service: { type: 'string' }, role: { type: 'string' }, scope: { type: 'string', multiple: true }, label: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    const [command, id] = positionals;
    if (values.help || !command) {
      (values.help ? out : err)(USAGE);
      return values.help ? 0 : 1;
    }
    const at = toIso(now());
    const print = (text: string, data: unknown) => out(values.json ? JSON.stringify(data) : text);

    if (command === 'create' || command === 'list') {
      const service = values.service as KeyService;
      if (!KEY_SERVICES.includes(service)) throw new UsageError('--service must be issuer, verifier or registry');
      if (command === 'list') {
        const opened = await openKeys(service, env, err);
        close = opened.close;
        const keys = (await opened.store.list()).map(view);
        print(keys.map((k) => `${k.id}  ${k.role.padEnd(13)}  ${k.scopes.join(',').padEnd(24)}  ${k.revoked_at ? `revoked ${k.revoked_at}` : 'active'}  ${k.label ?? ''}`.trimEnd()).join('\n') || '(no keys)', { keys });
        return 0;
      }
      const role = values.role as Role;
      if (!ROLES.includes(role)) throw new UsageError('--role must be clerk or administrator');
      const scopes = [...new Set((values.scope ?? (service === 'registry' ? ['*'] : [])).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))];
      if (scopes.length === 0) throw new UsageError('--scope is required (e.g. office:bibliothek, verifier:bibliothek, or "*")');
      const label = values.label?.trim().slice(0, 200) || null;
      const opened = await openKeys(service, env, err);
      close = opened.close;
      const slugs = await opened.slugs();
      for (const s of scopes) {
        const problem = scopeError(service, s, slugs);
        if (problem) throw new UsageError(`--scope ${s}: ${problem}`);
      }
      const keyId = newKeyId(service);
      const secret = newSecret();
      await opened.store.create({ id: keyId, role, scopes, label, secretHash: hashSecret(secret) }, at, operator());
      const token = formatToken(keyId, secret);
      print(`created ${keyId} (${role}, ${scopes.join(', ')})\nbearer token, shown only this once (only its hash is stored):\n${token}`, { id: keyId, role, scopes, label, token });
      return 0;
    }

    if (command === 'rotate' || command === 'revoke') {
      if (!id) throw new UsageError(`${command} needs a key id`);
      const service = serviceOf(id);
      const opened = await openKeys(service, env, err);
      close = opened.close;
      const key = await opened.store.find(id);
      if (!key) {
        err(`no key ${id}`);
        return 1;
      }
      if (key.revokedAt) {
        err(`key ${id} was revoked at ${key.revokedAt}`);
        return 1;
      }
      if (command === 'revoke') {
        await opened.store.revoke(id, at, operator(), values.reason?.trim().slice(0, 500) || null);
        print(`revoked ${id}`, { id, revoked_at: at });
        return 0;
      }
      const secret = newSecret();
      if (!(await opened.store.rotate(id, hashSecret(secret), at, operator()))) {
        err(`key ${id} could not be rotated (revoked meanwhile)`);
        return 1;
      }
      const token = formatToken(id, secret);
      print(`rotated ${id}; the old secret no longer works\nbearer token, shown only this once (only its hash is stored):\n${token}`, { id, rotated_at: at, token });
      return 0;
    }
    throw new UsageError(`unknown command ${command}`);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`${(e as Error).message}\n\n${USAGE}`);
      return 1;
    }
    err(`apikey: ${(e as Error).name}: ${(e as Error).message}`);
    return 2;
  } finally {
    await close?.();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await apiKeyCli(process.argv.slice(2));
}
