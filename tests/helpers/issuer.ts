import { createLogger } from '../../core/log/logger.ts';
import type { Clock } from '../../core/util/time.ts';
import { loadIssuerConfig } from '../../issuer/config.ts';
import { startIssuer } from '../../issuer/service.ts';
import type { IssuerDeps } from '../../issuer/deps.ts';
import { freePort } from './net.ts';
import { startTestRegistry, type RunningRegistry } from './registry.ts';

export const ISSUER_TOKEN = 'test-issuer-admin-token-0123456789';

export interface RunningIssuer {
  url: string;
  registry: RunningRegistry;
  close(): Promise<void>;
  admin(path: string, body?: unknown, token?: string | null): Promise<Response>;
  officeDid(slug: string): string;
  /** The running service's dependencies (its store, its code keys), for tests that set up a stored state. */
  deps: IssuerDeps;
}

/**
 * Starts the real trust registry and the real issuer on free loopback ports, wired to each other
 * through their public URLs (the registry's demo seed names the issuer's port in the office DIDs).
 */
export async function startTestIssuer(opts: { clock?: Clock; env?: Record<string, string> } = {}): Promise<RunningIssuer> {
  const [issuerPort, registryPort] = await Promise.all([freePort(), freePort()]);
  const url = `http://localhost:${issuerPort}`;
  const shared = { ISSUER_PUBLIC_URL: url, ISSUER_PORT: String(issuerPort), REGISTRY_PUBLIC_URL: `http://localhost:${registryPort}`, REGISTRY_PORT: String(registryPort) };
  const registry = await startTestRegistry({ port: registryPort, env: shared });
  const config = loadIssuerConfig({ ...shared, DATA_DIR: registry.dataDir, ISSUER_ADMIN_TOKEN: ISSUER_TOKEN, KEY_ENCRYPTION_SECRET: 'a'.repeat(64), ...opts.env });
  const service = await startIssuer(config, createLogger('issuer', process.env.TEST_LOG_LEVEL ?? 'silent'), opts.clock);
  return {
    url,
    registry,
    close: async () => {
      await service.close();
      await registry.close();
    },
    admin: (path, body, token) =>
      fetch(url + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token ?? ISSUER_TOKEN}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    officeDid: (slug) => `did:web:localhost%3A${issuerPort}:offices:${slug}`,
    deps: service.deps,
  };
}
