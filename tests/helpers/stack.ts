import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../core/log/logger.ts';
import type { Clock } from '../../core/util/time.ts';
import { loadIssuerConfig } from '../../issuer/config.ts';
import { startIssuer } from '../../issuer/service.ts';
import { loadRegistryConfig } from '../../trust-registry/config.ts';
import { startRegistry } from '../../trust-registry/service.ts';
import { loadVerifierConfig } from '../../verifier/config.ts';
import { startVerifier } from '../../verifier/service.ts';
import { freePort } from './net.ts';

export const TOKENS = { registry: 'test-registry-admin-token-0123456789', issuer: 'test-issuer-admin-token-0123456789', verifier: 'test-verifier-admin-token-0123456789' };

export interface Stack {
  urls: { registry: string; issuer: string; verifier: string };
  /** The shared DATA_DIR (the SQLite files of the three services). */
  dataDir: string;
  close(): Promise<void>;
  /** Admin call with the service's bearer token; body as JSON (POST) when given. */
  admin(service: keyof typeof TOKENS, path: string, body?: unknown, token?: string | null): Promise<Response>;
  officeDid(slug: string): string;
  rpDid(slug: string): string;
}

/** The real registry, issuer and verifier on free loopback ports, sharing one DATA_DIR (separate databases). */
export async function startStack(opts: { env?: Record<string, string>; clock?: Clock } = {}): Promise<Stack> {
  const [r, i, v] = await Promise.all([freePort(), freePort(), freePort()]);
  const urls = { registry: `http://localhost:${r}`, issuer: `http://localhost:${i}`, verifier: `http://localhost:${v}` };
  const env = {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'idideal-stack-')),
    REGISTRY_PORT: String(r),
    ISSUER_PORT: String(i),
    VERIFIER_PORT: String(v),
    REGISTRY_PUBLIC_URL: urls.registry,
    ISSUER_PUBLIC_URL: urls.issuer,
    VERIFIER_PUBLIC_URL: urls.verifier,
    REGISTRY_ADMIN_TOKEN: TOKENS.registry,
    ISSUER_ADMIN_TOKEN: TOKENS.issuer,
    VERIFIER_ADMIN_TOKEN: TOKENS.verifier,
    KEY_ENCRYPTION_SECRET: 'c'.repeat(64),
    // Flow tests send many requests from 127.0.0.1; tests/hardening/rate-limit.test.ts sets low limits itself.
    RATE_LIMIT_PUBLIC: '10000000',
    RATE_LIMIT_TRQP: '10000000',
    RATE_LIMIT_AUTH_FAILURES: '10000',
    // Key rotation and revocation tests expect the verifier to see a changed DID document at once.
    VERIFIER_DID_CACHE_MAX_AGE: '0',
    ...opts.env,
  };
  const level = process.env.TEST_LOG_LEVEL ?? 'silent';
  const registry = await startRegistry(loadRegistryConfig(env), createLogger('trust-registry', level), opts.clock);
  const issuer = await startIssuer(loadIssuerConfig(env), createLogger('issuer', level), opts.clock);
  const verifier = await startVerifier(loadVerifierConfig(env), createLogger('verifier', level), opts.clock);
  return {
    urls,
    dataDir: env.DATA_DIR,
    close: async () => {
      await verifier.close();
      await issuer.close();
      await registry.close();
    },
    admin: (service, path, body, token) =>
      fetch(urls[service] + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token ?? TOKENS[service]}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    officeDid: (slug) => `did:web:localhost%3A${i}:offices:${slug}`,
    rpDid: (slug) => `did:web:localhost%3A${v}:verifiers:${slug}`,
  };
}
