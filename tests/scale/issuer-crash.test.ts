import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort } from '../helpers/net.ts';
import { dropSchemas } from '../helpers/pg-schemas.ts';
import { startTestRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { spawnService, type ChildService } from '../helpers/spawn-service.ts';
import { NO_RATE_LIMITS, adminOffer, cNonce, credentialRequest, holderKey, issueOnce, proofJwt, statusOf, type Issued } from './flows.ts';

/**
 * Crash safety (issue 8): the issuer runs as a child process; a burst of whole issuance flows runs
 * against it and it is killed with SIGKILL in the middle. After a restart on the same DATA_DIR or
 * database: every credential a wallet received has its record, no two records share a status list
 * index, and no offer is left half-made (an issued offer without its credentials, credentials of an
 * offer that is not issued, claims kept after issue or missing before).
 */
const url = process.env.TEST_DATABASE_URL;
if (process.env.CI && !url) throw new Error('TEST_DATABASE_URL is not set: .ci/run starts PostgreSQL');

const TOKEN = 'test-issuer-admin-token-0123456789';
const CONCURRENCY = 6;
const KILL_AFTER = 12;

type Query = (sql: string) => Promise<Record<string, unknown>[]>;

const backends: { name: string; env: () => Record<string, string>; open: (env: Record<string, string>) => Promise<{ query: Query; close(): Promise<void> }> }[] = [
  {
    name: 'SQLite',
    env: () => ({}),
    open: async (env) => {
      const db = new Database(join(env.DATA_DIR!, 'issuer.sqlite'), { readonly: true });
      return {
        query: async (sql) => db.prepare(sql).all() as Record<string, unknown>[],
        close: async () => void db.close(),
      };
    },
  },
  ...(url
    ? [
        {
          name: 'PostgreSQL',
          env: () => ({ DATABASE_URL: url, DATABASE_SCHEMA_PREFIX: `k${randomBytes(4).toString('hex')}_` }),
          open: async (env: Record<string, string>) => {
            const { default: pg } = await import('pg');
            const client = new pg.Client({ connectionString: url, options: `-c search_path=${env.DATABASE_SCHEMA_PREFIX}issuer` });
            await client.connect();
            return { query: async (sql: string) => (await client.query(sql)).rows, close: () => client.end() };
          },
        },
      ]
    : []),
];

describe.each(backends)('kill -9 of the issuer during a burst of issuance ($name)', (backend) => {
  let registry: RunningRegistry | undefined;
  let issuer: ChildService | undefined;
  let env: Record<string, string> = {};
  afterAll(async () => {
    await issuer?.stop('SIGKILL');
    await registry?.close();
    if (env.DATABASE_URL && env.DATABASE_SCHEMA_PREFIX) await dropSchemas(env.DATABASE_URL, env.DATABASE_SCHEMA_PREFIX);
  });

  it('loses no record of a received credential, shares no status index and leaves no half-made offer', async () => {
    const [pi, pr] = await Promise.all([freePort(), freePort()]);
    const publicUrl = `http://localhost:${pi}`;
    const shared = { ISSUER_PUBLIC_URL: publicUrl, REGISTRY_PUBLIC_URL: `http://localhost:${pr}` };
    registry = await startTestRegistry({ port: pr, env: shared });
    env = { ...shared, ...backend.env(), DATA_DIR: mkdtempSync(join(tmpdir(), 'idideal-crash-')), ISSUER_PORT: String(pi), ISSUER_ADMIN_TOKEN: TOKEN, KEY_ENCRYPTION_SECRET: 'e'.repeat(64), ...NO_RATE_LIMITS };
    issuer = await spawnService('issuer/main.ts', env, publicUrl);

    // The burst: whole flows on CONCURRENCY lanes, each starting its next flow at once. Once
    // KILL_AFTER credentials are out and nearly every lane is inside a flow, the process is killed
    // after a random few milliseconds (so the kill lands in different steps from run to run).
    const received: Issued[] = [];
    const created = new Set<string>();
    const tokens = new Map<string, string>();
    const errorsBeforeKill: string[] = [];
    let killed = false;
    let inFlight = 0;
    const first = issuer;
    const lanes = Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          inFlight++;
          try {
            received.push(await issueOnce([publicUrl], publicUrl, TOKEN, { offer: (id) => created.add(id), token: (id, t) => tokens.set(id, t) }));
          } catch (e) {
            if (!killed) errorsBeforeKill.push(String(e));
            return;
          } finally {
            inFlight--;
          }
        }
      }),
    );
    const until = Date.now() + 60_000;
    while (!(received.length >= KILL_AFTER && inFlight >= CONCURRENCY - 1) && errorsBeforeKill.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
    const inFlightAtKill = inFlight;
    killed = true;
    first.proc.kill('SIGKILL');
    await lanes;
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(errorsBeforeKill).toEqual([]);
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(received.length).toBeGreaterThanOrEqual(KILL_AFTER);

    issuer = await spawnService('issuer/main.ts', env, publicUrl);

    // Every credential a wallet holds has its record, with the index the wallet's copy carries.
    for (const c of received) {
      const { httpStatus, body } = await adminOffer(publicUrl, TOKEN, c.offerId);
      expect(httpStatus).toBe(200);
      expect(body.status).toBe('issued');
      expect(body.credentials.map((x: { status_list: unknown }) => x.status_list)).toEqual([c.status]);
    }
    expect(new Set(received.map((c) => c.status.idx)).size).toBe(received.length);
    // Every offer the clerk was told about is there and whole.
    for (const id of created) {
      const { httpStatus, body } = await adminOffer(publicUrl, TOKEN, id);
      expect(httpStatus).toBe(200);
      expect(['pending', 'issued']).toContain(body.status);
      expect(body.credentials).toHaveLength(body.status === 'issued' ? 1 : 0);
    }

    // The same from the database itself, over every row (offers whose 201 never arrived included).
    const db = await backend.open(env);
    try {
      // SQLite: write-ahead log, so a commit is in the log before it is answered.
      if (backend.name === 'SQLite') expect(await db.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      expect(await db.query('SELECT status_list, status_idx FROM issuer_credentials GROUP BY status_list, status_idx HAVING COUNT(*) > 1')).toEqual([]);
      expect(await db.query("SELECT id FROM issuer_offers o WHERE o.state = 'issued' AND NOT EXISTS (SELECT 1 FROM issuer_credentials c WHERE c.offer_id = o.id)")).toEqual([]);
      expect(await db.query("SELECT c.id FROM issuer_credentials c JOIN issuer_offers o ON o.id = c.offer_id WHERE o.state <> 'issued'")).toEqual([]);
      expect(await db.query("SELECT id FROM issuer_offers WHERE (state = 'issued' AND claims_sealed IS NOT NULL) OR (state IN ('pending', 'token_issued') AND claims_sealed IS NULL)")).toEqual([]);
      // No offer without its audit entry (written in one transaction). VC-API issuances have internal offers, audited as credential.issue.
      expect(await db.query("SELECT o.id FROM issuer_offers o WHERE NOT EXISTS (SELECT 1 FROM issuer_audit a WHERE a.target = o.id AND a.action = 'offer.create')")).toEqual([]);
      // Each credential's slot is claimed, so a later draw cannot hand it out again.
      expect(await db.query('SELECT c.id FROM issuer_credentials c WHERE NOT EXISTS (SELECT 1 FROM issuer_status_slots s WHERE s.status_list = c.status_list AND s.status_idx = c.status_idx)')).toEqual([]);
    } finally {
      await db.close();
    }

    // A wallet cut off after its token collects its credential after the restart: same access
    // token, new c_nonce.
    const resumed: Issued[] = [];
    for (const [offerId, accessToken] of tokens) {
      if (received.some((c) => c.offerId === offerId)) continue;
      const res = await credentialRequest(publicUrl, accessToken, await proofJwt(await holderKey(), publicUrl, await cNonce(publicUrl)));
      const body = await res.json();
      if (res.status === 401) {
        // Recorded before the kill, only the answer was lost: the token is spent, the record is there.
        expect((await adminOffer(publicUrl, TOKEN, offerId)).body.status).toBe('issued');
        continue;
      }
      expect(res.status, JSON.stringify(body)).toBe(200);
      resumed.push({ offerId, credential: body.credentials[0].credential, status: statusOf(body.credentials[0].credential) });
    }
    for (const c of resumed) expect((await adminOffer(publicUrl, TOKEN, c.offerId)).body.credentials.map((x: { status_list: unknown }) => x.status_list)).toEqual([c.status]);

    // The restarted issuer goes on issuing, with fresh indices.
    const after = await Promise.all(Array.from({ length: 4 }, () => issueOnce([publicUrl], publicUrl, TOKEN)));
    const all = [...received, ...resumed, ...after].map((c) => c.status.idx);
    expect(new Set(all).size).toBe(all.length);

    // And stops cleanly on SIGTERM.
    expect(await issuer.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 120_000);
});
