import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log/logger.ts';
import { loadIssuerConfig } from '../../issuer/config.ts';
import { startIssuer } from '../../issuer/service.ts';
import { freePort } from '../helpers/net.ts';
import { startTestRegistry, type RunningRegistry } from '../helpers/registry.ts';

/** Two issuer processes on one database (as ISSUER_WORKERS): a rotation made in one reaches the other. */
describe('key changes across issuer processes', () => {
  let registry: RunningRegistry;
  const closers: (() => Promise<void>)[] = [];
  let a: string;
  let b: string;
  const token = 'test-issuer-admin-token-0123456789';
  beforeAll(async () => {
    const [pa, pb, pr] = await Promise.all([freePort(), freePort(), freePort()]);
    const env = { ISSUER_PUBLIC_URL: `http://localhost:${pa}`, REGISTRY_PUBLIC_URL: `http://localhost:${pr}`, REGISTRY_PORT: String(pr) };
    registry = await startTestRegistry({ port: pr, env });
    const base = { ...env, DATA_DIR: registry.dataDir, ISSUER_ADMIN_TOKEN: token, KEY_ENCRYPTION_SECRET: 'a'.repeat(64), ISSUER_KEY_REFRESH: '1' };
    const logger = createLogger('issuer', 'silent');
    const first = await startIssuer(loadIssuerConfig({ ...base, ISSUER_PORT: String(pa) }), logger);
    const second = await startIssuer(loadIssuerConfig({ ...base, ISSUER_PORT: String(pb) }), logger);
    closers.push(first.close, second.close);
    a = `http://localhost:${pa}`;
    b = `http://localhost:${pb}`;
  });
  afterAll(async () => {
    for (const c of closers) await c();
    await registry.close();
  });

  it('serves the rotated key from the other process within the refresh interval', async () => {
    const keys = async (base: string) => (await (await fetch(`${base}/offices/sozialamt/did.json`)).json()).verificationMethod.length;
    expect(await keys(a)).toBe(1);
    expect(await keys(b)).toBe(1);
    const r = await fetch(`${a}/api/offices/sozialamt/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(201);
    expect(await keys(a)).toBe(2);
    await expect.poll(() => keys(b), { timeout: 5000, interval: 250 }).toBe(2);
    const jwks = await (await fetch(`${b}/offices/sozialamt/jwks.json`)).json();
    expect(jwks.keys).toHaveLength(2);
  });
});
