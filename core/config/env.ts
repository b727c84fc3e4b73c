import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { checkProductionSecrets } from './secret-strength.ts';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.ts';

/**
 * Configuration shared by all services, read from the environment once at start-up
 * (variables as in docs/contract.md). Each service extends it with its own schema in its `config.ts`.
 */

export type ServiceName = 'registry' | 'issuer' | 'verifier' | 'wallet';

export interface ServiceUrls {
  registry: string;
  issuer: string;
  verifier: string;
  wallet: string;
}

export interface CommonConfig {
  service: ServiceName;
  mode: 'demo' | 'production';
  host: string;
  port: number;
  publicUrl: string;
  urls: ServiceUrls;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Prefix of the PostgreSQL schema names (DATABASE_SCHEMA_PREFIX), e.g. for several deployments in one database. */
  databaseSchemaPrefix: string;
  /** Connections each process keeps to PostgreSQL at most (DATABASE_POOL_SIZE; unset: core/store/data-source.ts's default). */
  databasePoolSize: number | undefined;
  /** 32-byte key-encryption secret as 64 hex characters (Veramo SecretBox). */
  keyEncryptionSecret: string;
  /** Admin bearer token; undefined for services without an admin API. */
  adminToken: string | undefined;
  /** Lines to print once on the console (generated demo secrets), never logged. */
  notices: string[];
  /** Express `trust proxy` (TRUST_PROXY): false, the number of proxies in front, or their addresses/subnets. */
  trustProxy: TrustProxy;
  /** Per client address and minute, per process (core/http/rate-limit.ts); 0 turns a limit off. */
  rateLimits: RateLimits;
}

export interface RateLimits {
  /** Issuer token, nonce, credential, deferred; verifier request_uri and response (RATE_LIMIT_PUBLIC, default 1200). */
  public: number;
  /** Registry TRQP queries (RATE_LIMIT_TRQP, default 6000). */
  trqp: number;
  /** Failed admin authentications before 429 (RATE_LIMIT_AUTH_FAILURES, default 10). */
  authFailures: number;
}

const DEFAULT_PORTS: Record<ServiceName, number> = { registry: 3003, issuer: 3001, verifier: 3002, wallet: 3004 };
const PREFIX: Record<ServiceName, string> = { registry: 'REGISTRY', issuer: 'ISSUER', verifier: 'VERIFIER', wallet: 'WALLET' };

export { ConfigError };
export { parseTrustProxy };

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** docs/contract.md: plain http is accepted only for localhost/127.0.0.1; production wants https everywhere. */
export function checkPublicUrl(name: string, value: string, production: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL`);
  }
  if (url.search || url.hash) throw new ConfigError(`${name} must not have a query or fragment`);
  if (url.protocol === 'http:' && !LOCAL_HOSTS.has(url.hostname)) throw new ConfigError(`${name}: http:// is allowed only for localhost`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL`);
  if (production && url.protocol !== 'https:') throw new ConfigError(`${name} must be https in production mode`);
  return url.href.replace(/\/+$/, '');
}

const zPort = z.coerce.number().int().min(0).max(65535);
const zPoolSize = z.coerce.number().int().min(1).max(100);
const zHex32 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)');
const zToken = z.string().min(24, 'must be at least 24 characters').max(512).regex(/^[A-Za-z0-9._~+/-]+=*$/, 'must be a bearer token (RFC 6750 token68)');

/**
 * Reads a secret file under DATA_DIR, creating it (mode 0600) with `make()` when absent. Creation is
 * atomic (write a private temp file, then hard-link it into place), so services starting together
 * agree on one value.
 */
function demoSecret(dataDir: string, file: string, make: () => string): { value: string; created: boolean; path: string } {
  const dir = join(dataDir, 'secrets');
  const path = join(dir, file);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false, path };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const value = make();
  writeFileSync(tmp, value + '\n', { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return { value: readFileSync(path, 'utf8').trim(), created: false, path };
  } finally {
    unlinkSync(tmp);
  }
  return { value, created: true, path };
}

export function loadCommonConfig(service: ServiceName, env: NodeJS.ProcessEnv = process.env): CommonConfig {
  const production = env.NODE_ENV === 'production';
  const prefix = PREFIX[service];
  const dataDir = resolve(env.DATA_DIR ?? './.data');
  const notices: string[] = [];

  // Ports first: the default public URLs are built from them.
  for (const name of ['REGISTRY_PORT', 'ISSUER_PORT', 'VERIFIER_PORT', 'WALLET_PORT']) {
    if (env[name] !== undefined && !zPort.safeParse(env[name]).success) throw new ConfigError(`${name} must be a port number`);
  }
  const urls: ServiceUrls = {
    registry: checkPublicUrl('REGISTRY_PUBLIC_URL', env.REGISTRY_PUBLIC_URL ?? `http://localhost:${env.REGISTRY_PORT ?? 3003}`, production),
    issuer: checkPublicUrl('ISSUER_PUBLIC_URL', env.ISSUER_PUBLIC_URL ?? `http://localhost:${env.ISSUER_PORT ?? 3001}`, production),
    verifier: checkPublicUrl('VERIFIER_PUBLIC_URL', env.VERIFIER_PUBLIC_URL ?? `http://localhost:${env.VERIFIER_PORT ?? 3002}`, production),
    wallet: checkPublicUrl('WALLET_PUBLIC_URL', env.WALLET_PUBLIC_URL ?? `http://localhost:${env.WALLET_PORT ?? 3004}`, production),
  };

  const portRaw = env[`${prefix}_PORT`];
  const port = zPort.safeParse(portRaw ?? DEFAULT_PORTS[service]);
  if (!port.success) throw new ConfigError(`${prefix}_PORT must be a port number`);

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError('DATABASE_URL must be a postgres:// URL');
  const databaseSchemaPrefix = env.DATABASE_SCHEMA_PREFIX ?? '';
  if (!/^[a-z0-9_]{0,30}$/.test(databaseSchemaPrefix)) throw new ConfigError('DATABASE_SCHEMA_PREFIX must be lowercase letters, digits and _');
  const poolSize = zPoolSize.optional().safeParse(env.DATABASE_POOL_SIZE || undefined);
  if (!poolSize.success) throw new ConfigError('DATABASE_POOL_SIZE must be a whole number from 1 to 100');

  let keyEncryptionSecret = env.KEY_ENCRYPTION_SECRET;
  if (keyEncryptionSecret !== undefined) {
    if (!zHex32.safeParse(keyEncryptionSecret).success) throw new ConfigError('KEY_ENCRYPTION_SECRET must be 64 hex characters (32 bytes)');
  } else if (production) {
    throw new ConfigError('KEY_ENCRYPTION_SECRET is required in production mode');
  } else {
    const s = demoSecret(dataDir, 'key-encryption.secret', () => randomBytes(32).toString('hex'));
    keyEncryptionSecret = s.value;
    if (s.created) notices.push(`[demo] generated key-encryption secret in ${s.path} (set KEY_ENCRYPTION_SECRET in production)`);
  }

  let adminToken: string | undefined;
  if (service !== 'wallet') {
    const name = `${prefix}_ADMIN_TOKEN`;
    adminToken = env[name];
    if (adminToken !== undefined) {
      const t = zToken.safeParse(adminToken);
      if (!t.success) throw new ConfigError(`${name} ${t.error.issues[0]?.message ?? 'is invalid'}`);
    } else if (production) {
      throw new ConfigError(`${name} is required in production mode`);
    } else {
      const s = demoSecret(dataDir, `${service}-admin-token`, () => randomBytes(24).toString('base64url'));
      adminToken = s.value;
      if (s.created) notices.push(`[demo] ${name} generated and written to ${s.path}: ${adminToken}`);
    }
  }

  // Issue 18: production refuses weak and reused secrets (core/config/secret-strength.ts).
  if (production) checkProductionSecrets(env, { secret: keyEncryptionSecret, tokenName: service === 'wallet' ? undefined : `${prefix}_ADMIN_TOKEN` });

  return {
    service,
    mode: production ? 'production' : 'demo',
    host: env.HOST ?? '127.0.0.1',
    port: port.data,
    publicUrl: urls[service],
    urls,
    dataDir,
    databaseUrl,
    databaseSchemaPrefix,
    databasePoolSize: poolSize.data,
    keyEncryptionSecret,
    adminToken,
    notices,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    rateLimits: {
      public: rateLimit('RATE_LIMIT_PUBLIC', env, 1200),
      trqp: rateLimit('RATE_LIMIT_TRQP', env, 6000),
      authFailures: rateLimit('RATE_LIMIT_AUTH_FAILURES', env, 10),
    },
  };
}

/** A per-minute limit; an empty value counts as unset (only an explicit 0 turns a limit off). */
const rateLimit = (name: string, env: NodeJS.ProcessEnv, def: number) => intFromEnv(name, { [name]: env[name] || undefined }, def, 0, 10_000_000);

/** An integer setting from the environment within bounds, or a ConfigError naming it. */
export function intFromEnv(name: string, env: NodeJS.ProcessEnv, def: number, min: number, max: number): number {
  const r = z.coerce.number().int().min(min).max(max).safeParse(env[name] ?? def);
  if (!r.success) throw new ConfigError(`${name} must be an integer between ${min} and ${max}`);
  return r.data;
}

/**
 * ISSUER_CONFORMANCE_OFFICE=1 adds the W3C conformance office (core/demo/leipzig.ts CONFORMANCE) to
 * the issuer and authorizes it in the registry seed; both services read this variable. Off by
 * default; production mode refuses it (an office with an open claim schema is for test suites only).
 */
export function conformanceOfficeFromEnv(env: NodeJS.ProcessEnv, mode: CommonConfig['mode']): boolean {
  const v = env.ISSUER_CONFORMANCE_OFFICE;
  if (v === undefined || v === '' || v === '0' || v === 'false') return false;
  if (v !== '1' && v !== 'true') throw new ConfigError('ISSUER_CONFORMANCE_OFFICE must be 1 (on) or 0 (off)');
  if (mode === 'production') throw new ConfigError('ISSUER_CONFORMANCE_OFFICE is a test office with an open claim schema and is refused in production mode');
  return true;
}
