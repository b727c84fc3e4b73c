import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createLogger } from '../../core/log/logger.ts';
import { decompressStatusList, STATUS, statusAt } from '../../core/status-list/token-status-list.ts';
import { loadIssuerConfig } from '../../issuer/config.ts';
import { startIssuer } from '../../issuer/service.ts';
import { freePort } from '../helpers/net.ts';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';
import { adminOffer, issueOnce, NO_RATE_LIMITS } from '../scale/flows.ts';

/**
 * Issue 16: a signed status list is kept in memory while its version is unchanged. A status change
 * made through one instance must show at once in the list another instance serves, on the same
 * SQLite database (the PostgreSQL two-instance test covers the shared server).
 */
describe('status lists kept signed in memory, changed at once across instances', () => {
  let stack: Stack;
  let other: string;
  let closeOther: () => Promise<void>;

  beforeAll(async () => {
    stack = await startStack({ env: { ...NO_RATE_LIMITS } });
    const port = await freePort();
    // Instance B: same DATA_DIR (so the same SQLite file), public URL and secrets; its own port and memory.
    const b = await startIssuer(
      loadIssuerConfig({ ...NO_RATE_LIMITS, DATA_DIR: stack.dataDir, ISSUER_PUBLIC_URL: stack.urls.issuer, ISSUER_PORT: String(port), REGISTRY_PUBLIC_URL: stack.urls.registry, ISSUER_ADMIN_TOKEN: TOKENS.issuer, KEY_ENCRYPTION_SECRET: 'c'.repeat(64) }),
      createLogger('issuer', process.env.TEST_LOG_LEVEL ?? 'silent'),
    );
    closeOther = b.close;
    other = `http://localhost:${port}`;
  }, 60_000);
  afterAll(async () => {
    await closeOther?.();
    await stack?.close();
  });

  const listFrom = async (base: string, uri: string) => {
    const res = await fetch(uri.replace(stack.urls.issuer, base));
    expect(res.status).toBe(200);
    return res.text();
  };
  const statusIn = (token: string, idx: number) => statusAt(decompressStatusList((decodeJwt(token) as { status_list: { lst: string } }).status_list.lst), 2, idx);

  it('serves the same signed list until a status changes, then the new status from every instance', async () => {
    const issued = await issueOnce([stack.urls.issuer], stack.urls.issuer, TOKENS.issuer);
    const { uri, idx } = issued.status;
    const first = await listFrom(other, uri);
    expect(statusIn(first, idx)).toBe(STATUS.VALID);
    // Unchanged: the same signed token (kept), not a new signature.
    expect(await listFrom(other, uri)).toBe(first);

    const offer = await adminOffer(stack.urls.issuer, TOKENS.issuer, issued.offerId);
    const id = offer.body.credentials[0].credential_id as string;
    // Suspended through instance A; instance B, which holds the list in memory, serves it suspended at once.
    expect((await stack.admin('issuer', `/api/offices/buergerbuero/credentials/${id}/status`, { status: 'suspended' })).status).toBe(200);
    const suspended = await listFrom(other, uri);
    expect(suspended).not.toBe(first);
    expect(statusIn(suspended, idx)).toBe(STATUS.SUSPENDED);
    expect(statusIn(await listFrom(stack.urls.issuer, uri), idx)).toBe(STATUS.SUSPENDED);

    // The status of all copies of an offer (the desk's way) raises the version too.
    expect((await stack.admin('issuer', `/api/offices/buergerbuero/offers/${issued.offerId}/status`, { status: 'revoked' })).status).toBe(200);
    expect(statusIn(await listFrom(other, uri), idx)).toBe(STATUS.INVALID);
    expect(statusIn(await listFrom(stack.urls.issuer, uri), idx)).toBe(STATUS.INVALID);
  });
});
