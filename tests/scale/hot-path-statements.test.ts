import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { checkChain } from '../../core/audit/audit-chain.ts';
import pg from 'pg';
import { DEFAULT_POOL_SIZE, inTransaction, openDataSource } from '../../core/store/data-source.ts';
import { pipelinedConnections } from '../../core/store/pg-pipeline.ts';
import { IssuerApiKeyTable } from '../../issuer/service.ts';
import { issuerMigrations } from '../../issuer/store/migrations/0001-issuer.ts';
import { IssuerStore } from '../../issuer/store/issuer-store.ts';
import { issuerTables } from '../../issuer/store/schema.ts';
import { pendingOffer } from '../helpers/offer-row.ts';
import { pendingRequest } from '../helpers/request-row.ts';
import { VerifierStore } from '../../verifier/store/verifier-store.ts';
import { verifierMigrations } from '../../verifier/store/migrations/0001-verifier.ts';
import { verifierTables } from '../../verifier/store/schema.ts';
import { sqlAll } from '../../core/store/prepared.ts';
import { dropSchemas } from '../helpers/pg-schemas.ts';

/**
 * Issue 16: the statements of one issuance and one verification are prepared once per process and
 * then only run. The ORM wrote every number into the SQL text (expiry times, audit sequence numbers,
 * status indices), so each flow prepared its statements anew and pushed the others out of its cache.
 * Counted on the better-sqlite3 connection itself. On PostgreSQL the same holds for the server's
 * parser and planner: the statements go out as named prepared statements, which a connection parses
 * once (checked on what node-postgres sends and in the server's pg_prepared_statements).
 */
interface Db {
  prepare(sql: string): unknown;
}

function countPrepares(ds: DataSource): { texts: string[] } {
  const db = (ds.driver as unknown as { databaseConnection: Db }).databaseConnection;
  const seen = { texts: [] as string[] };
  const original = db.prepare.bind(db);
  db.prepare = (sql: string) => {
    seen.texts.push(sql);
    return original(sql);
  };
  return seen;
}

// A different expiry every flow, as in production (a number written into the SQL would show as a new text).
const offer = () => pendingOffer({ expires_at: Date.now() + 600_000 + Math.floor(Math.random() * 1000) });

describe('hot-path statements are prepared once (SQLite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'idideal-hot-path-'));
  const open: DataSource[] = [];
  afterAll(async () => {
    for (const ds of open) if (ds.isInitialized) await ds.destroy();
  });

  it('an issuance prepares no statement after the first one, and keeps the audit chain intact', async () => {
    const ds = await openDataSource({ name: 'issuer', dataDir, veramo: true, entities: [...issuerTables, IssuerApiKeyTable], migrations: issuerMigrations });
    open.push(ds);
    const store = new IssuerStore(ds);
    const list = await store.statusLists.openList('buergerbuero', 'tsl', 1, 1024, new Date().toISOString());
    let idx = 0;
    const flow = async () => {
      const o = offer();
      await store.insertOffer(o, { at: new Date().toISOString(), actor: 'admin', action: 'offer.create', target: o.id, details: { office: 'buergerbuero' } });
      expect((await store.getOffer('buergerbuero', o.id))?.expires_at).toBe(o.expires_at);
      expect((await store.findOfferByCode(o.pre_auth_code_hash))?.id).toBe(o.id);
      expect(await store.redeemCode(o.id)).toBe(true);
      const nonce = randomBytes(16).toString('base64url');
      const nonceExpiry = Date.now() + 300_000 + Math.floor(Math.random() * 1000);
      expect(await store.useNonce(nonce, 'buergerbuero', nonceExpiry)).toBe(true);
      expect(await store.useNonce(nonce, 'buergerbuero', nonceExpiry)).toBe(false);
      expect(await store.statusLists.newestList('buergerbuero', 'tsl')).toMatchObject({ status_list: list.status_list, number: 1, size: 1024 });
      const spent = { value: randomBytes(16).toString('base64url'), office: 'buergerbuero', expiresAt: nonceExpiry };
      const slot = ++idx * 7;
      expect(await store.statusLists.claim(list.status_list, [slot], new Date().toISOString())).toEqual([slot]);
      const at = new Date().toISOString();
      expect(await store.completeIssuance(o.id, [{ id: randomUUID(), offer_id: o.id, office: 'buergerbuero', configuration_id: o.configuration_id, format: 'dc+sd-jwt', status_list: list.status_list, status_idx: slot, status: 'valid', issued_at: at, expires_at: at }], [spent])).toBe('issued');
      expect(await store.completeIssuance(o.id, [])).toBe('offer_closed');
    };
    await flow();
    const prepared = countPrepares(ds);
    for (let i = 0; i < 5; i++) await flow();
    expect(prepared.texts).toEqual([]);
    const entries = await store.auditEntries();
    expect(entries).toHaveLength(6);
    expect(checkChain(entries)).toEqual([]);
  });

  it('a verification prepares no statement after the first one', async () => {
    const ds = await openDataSource({ name: 'verifier', dataDir, veramo: true, entities: verifierTables, migrations: verifierMigrations });
    open.push(ds);
    const store = new VerifierStore(ds);
    const flow = async () => {
      const now = Date.now();
      const row = pendingRequest({ expires_at: now + 300_000 + Math.floor(Math.random() * 1000) });
      await store.insertRequest(row);
      expect(await store.getRequest('buergerbuero', row.id)).toMatchObject({ id: row.id, expires_at: row.expires_at, result_expires_at: null });
      expect((await store.findByState(row.state))?.id).toBe(row.id);
      expect(await store.noteAttempt(row.id, now, 'x')).toBe(true);
      expect(await store.finishVerified(row.id, now, 'sealed', now + 600_000 + Math.floor(Math.random() * 1000))).toBe(true);
      expect(await store.finishVerified(row.id, now, 'sealed', now + 600_000)).toBe(false);
      expect(await store.getRequest('buergerbuero', row.id)).toMatchObject({ status: 'verified', last_attempt: null, result_sealed: 'sealed' });
    };
    await flow();
    const prepared = countPrepares(ds);
    for (let i = 0; i < 5; i++) await flow();
    expect(prepared.texts).toEqual([]);
  });
});

const url = process.env.TEST_DATABASE_URL;
if (process.env.CI && !url) throw new Error('TEST_DATABASE_URL is not set: .ci/run starts PostgreSQL for the store suites');

/**
 * What a data source sends to PostgreSQL: its hot-path statements over its pipelined connections
 * (core/store/pg-pipeline.ts), TypeORM's over the pool's; all are node-postgres clients. Recorded
 * until the test's data sources close.
 */
type Sent = { name?: string; text: string; values?: unknown[] };
function recordQueries(): Sent[] {
  const sent: Sent[] = [];
  const proto = pg.Client.prototype as unknown as { query(...args: unknown[]): unknown };
  const query = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | Sent;
    sent.push(typeof q === 'string' ? { text: q } : { text: q.text, ...(q.name ? { name: q.name } : {}), ...(q.values ? { values: q.values } : {}) });
    return query.apply(this, args);
  };
  restores.push(() => (proto.query = query));
  return sent;
}
const restores: (() => void)[] = [];

/** The names of the prepared statements each open pipelined connection of `ds` holds on the server. */
async function heldByConnection(ds: DataSource): Promise<string[][]> {
  const { read, write } = await pipelinedConnections(ds);
  return Promise.all([...read, ...write].map(async (c) => (await c.query('SELECT name FROM pg_prepared_statements')).rows.map((r) => String(r.name))));
}

describe.skipIf(!url)('hot-path statements are named prepared statements (PostgreSQL)', () => {
  const prefix = `h${randomBytes(4).toString('hex')}_`;
  const open: DataSource[] = [];
  afterAll(async () => {
    for (const restore of restores.splice(0)) restore();
    for (const ds of open) if (ds.isInitialized) await ds.destroy();
    await dropSchemas(url!, prefix);
  });

  it('an issuance sends every statement by name, and the server parses each once per connection', async () => {
    const ds = await openDataSource({ name: `${prefix}issuer`, dataDir: mkdtempSync(join(tmpdir(), 'idideal-hot-path-pg-')), databaseUrl: url, veramo: true, entities: [...issuerTables, IssuerApiKeyTable], migrations: issuerMigrations });
    open.push(ds);
    const store = new IssuerStore(ds);
    const list = await store.statusLists.openList('buergerbuero', 'tsl', 1, 1024, new Date().toISOString());
    const sent = recordQueries();
    let idx = 0;
    const flow = async () => {
      const o = offer();
      await store.insertOffer(o, { at: new Date().toISOString(), actor: 'admin', action: 'offer.create', target: o.id, details: { office: 'buergerbuero' } });
      expect((await store.getOffer('buergerbuero', o.id))?.expires_at).toBe(o.expires_at);
      expect((await store.findOfferByCode(o.pre_auth_code_hash))?.id).toBe(o.id);
      expect(await store.redeemCode(o.id)).toBe(true);
      const slot = ++idx * 7;
      expect(await store.statusLists.claim(list.status_list, [slot], new Date().toISOString())).toEqual([slot]);
      const at = new Date().toISOString();
      const spent = { value: randomBytes(16).toString('base64url'), office: 'buergerbuero', expiresAt: Date.now() + 300_000 };
      expect(await store.completeIssuance(o.id, [{ id: randomUUID(), offer_id: o.id, office: 'buergerbuero', configuration_id: o.configuration_id, format: 'dc+sd-jwt', status_list: list.status_list, status_idx: slot, status: 'valid', issued_at: at, expires_at: at }], [spent])).toBe('issued');
    };
    await flow();
    const names = new Set(sent.map((c) => c.name));
    for (let i = 0; i < 5; i++) await flow();
    expect(sent.filter((c) => !c.name)).toEqual([]);
    expect(new Set(sent.map((c) => c.name))).toEqual(names);
    expect(names.size).toBeGreaterThanOrEqual(6);
    // One after the other, the statements go over the first pipelined connection of their kind (a
    // read's, a write's), and the server holds them there, each prepared once.
    const held = await heldByConnection(ds);
    expect(held).toHaveLength(2);
    expect([...names].filter((n) => !held.flat().includes(n!))).toEqual([]);
    for (const one of held) expect(new Set(one).size).toBe(one.length);
    expect(checkChain(await store.auditEntries())).toEqual([]);
    // A statement that fails (here a unique violation) fails alone: its connection stays open, with
    // its statements, and the statements sent with it are answered.
    const before = await pipelinedConnections(ds);
    const insert = (value: string) => sqlAll(ds.manager, 'INSERT INTO issuer_nonces (value, office, expires_at) VALUES (?, ?, ?)', [value, 'buergerbuero', 1]);
    await insert('n');
    const [dup, fresh, read] = await Promise.allSettled([insert('n'), insert('m'), sqlAll<{ value: string }>(ds.manager, 'SELECT value FROM issuer_nonces WHERE value IN (?, ?) ORDER BY value', ['m', 'n'])]);
    expect(dup).toMatchObject({ status: 'rejected', reason: { name: 'QueryFailedError', driverError: { code: '23505' } } });
    expect(fresh.status).toBe('fulfilled');
    expect(read.status).toBe('fulfilled');
    expect(await pipelinedConnections(ds)).toEqual(before);
    // Two new texts (the INSERT, the SELECT), each prepared once.
    expect((await heldByConnection(ds)).flat().length).toBe(held.flat().length + 2);
  });

  it('looks an offer up and redeems its code by a unique index, also as planned on a small table without statistics', async () => {
    // Named statements keep the plan they got on their first runs. Planned while the table was small
    // and never analysed, an index on (office, created_at) won against the unique ones, and each look-up
    // then walked every offer of the office until autovacuum next analysed the table (issue 16).
    const ds = await openDataSource({ name: `${prefix}plans`, dataDir: mkdtempSync(join(tmpdir(), 'idideal-hot-path-pg-')), databaseUrl: url, veramo: true, entities: [...issuerTables, IssuerApiKeyTable], migrations: issuerMigrations });
    open.push(ds);
    const store = new IssuerStore(ds);
    const offers = Array.from({ length: 40 }, offer);
    for (const o of offers) await store.insertOffer(o);
    const sent = recordQueries();
    const o = offers[7]!;
    expect((await store.getOffer('buergerbuero', o.id))?.id).toBe(o.id);
    expect(await store.redeemCodeWithTxCode('buergerbuero', o.pre_auth_code_hash, o.tx_code_hash, Date.now())).toMatchObject({ id: o.id });
    const lookups = sent.filter((c) => c.text.includes('issuer_offers') && c.values);
    expect(lookups).toHaveLength(2);

    const unique = (await sqlAll<{ name: string }>(ds.manager, "SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'issuer_offers'::regclass AND i.indisunique")).map((r) => r.name);
    type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] };
    const scans = (n: PlanNode): PlanNode[] => [...(n['Relation Name'] === 'issuer_offers' && n['Node Type'].endsWith('Scan') ? [n] : []), ...(n.Plans ?? []).flatMap(scans)];
    const literal = (v: unknown) => (typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
    const qr = ds.createQueryRunner();
    await qr.connect();
    try {
      for (const mode of ['force_generic_plan', 'force_custom_plan']) {
        await qr.query(`SET plan_cache_mode = ${mode}`);
        for (const [i, c] of lookups.entries()) {
          await qr.query(`PREPARE plan_check_${mode}_${i} AS ${c.text}`);
          const [row] = await qr.query(`EXPLAIN (FORMAT JSON) EXECUTE plan_check_${mode}_${i}(${c.values!.map(literal).join(', ')})`);
          const found = scans((row['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
          expect(found.length, `${mode}: ${c.text}`).toBe(1);
          expect(unique, `${mode}: ${c.text}`).toContain(found[0]!['Index Name']);
        }
      }
    } finally {
      await qr.release();
    }
  });

  it('keeps at most DATABASE_POOL_SIZE connections per data source (default DEFAULT_POOL_SIZE) for transactions, which beyond it wait their turn', async () => {
    const opened = async (poolSize?: number) => {
      const ds = await openDataSource({ name: `${prefix}pool${poolSize ?? 'd'}`, dataDir: mkdtempSync(join(tmpdir(), 'idideal-pool-pg-')), databaseUrl: url, entities: verifierTables, migrations: verifierMigrations, poolSize });
      open.push(ds);
      return ds;
    };
    for (const [size, ds] of [[2, await opened(2)], [DEFAULT_POOL_SIZE, await opened()]] as const) {
      const pool = (ds.driver as unknown as { master: { totalCount: number } }).master;
      // 12 transactions at once, each holding its connection for 20 ms.
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => inTransaction(ds, (m) => sqlAll<{ n: number }>(m, 'SELECT pg_sleep(0.02), CAST(? AS integer) AS n', [i]))));
      expect(answers.map((a) => a[0]!.n)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(pool.totalCount).toBe(size);
    }
  });
});
