import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../core/log/logger.ts';
import type { Clock } from '../../core/util/time.ts';
import { loadRegistryConfig, type RegistryConfig } from '../../trust-registry/config.ts';
import { startRegistry } from '../../trust-registry/service.ts';
import { freePort } from './net.ts';

export const ADMIN_TOKEN = 'test-registry-admin-token-0123456789';

export interface RunningRegistry {
  url: string;
  did: string;
  root: string;
  config: RegistryConfig;
  dataDir: string;
  close(): Promise<void>;
  admin(path: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<Response>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
}

/** Starts the real registry (demo seed, SQLite under a fresh DATA_DIR) on a free loopback port. */
export async function startTestRegistry(opts: { dataDir?: string; port?: number; clock?: Clock; env?: Record<string, string> } = {}): Promise<RunningRegistry> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'idideal-registry-'));
  const port = opts.port ?? (await freePort());
  const url = `http://localhost:${port}`;
  const config = loadRegistryConfig({
    DATA_DIR: dataDir,
    REGISTRY_PORT: String(port),
    REGISTRY_PUBLIC_URL: url,
    REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN,
    KEY_ENCRYPTION_SECRET: 'a'.repeat(64),
    ...opts.env,
  });
  const logger = createLogger('trust-registry', process.env.TEST_LOG_LEVEL ?? 'silent');
  const service = await startRegistry(config, logger, opts.clock);
  const did = `did:web:localhost%3A${port}`;
  return {
    url,
    did,
    root: `${did}:authorities:leipzig`,
    config,
    dataDir,
    close: service.close,
    admin: (path, init = {}) => {
      const headers: Record<string, string> = {};
      if (init.token !== null) headers.authorization = `Bearer ${init.token ?? ADMIN_TOKEN}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      return fetch(url + path, { method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'), headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
    },
    post: (path, body, headers = {}) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}
