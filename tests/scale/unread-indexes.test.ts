import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, MigrationInterface } from 'typeorm';
import { checkChain } from '../../core/audit/audit-chain.ts';
import { AuditLog } from '../../core/access/api-key-store.ts';
import { openDataSource } from '../../core/store/data-source.ts';
import { sqlAll, sqlRun } from '../../core/store/prepared.ts';
import { IssuerApiKeyTable } from '../../issuer/service.ts';
import { issuerMigrations } from '../../issuer/store/migrations/0001-issuer.ts';
import { IssuerStore } from '../../issuer/store/issuer-store.ts';
import { issuerTables } from '../../issuer/store/schema.ts';
import { VerifierAuditTable } from '../../verifier/service.ts';
import { verifierMigrations } from '../../verifier/store/migrations/0001-verifier.ts';
import { VerifierStore } from '../../verifier/store/verifier-store.ts';
import { verifierTables } from '../../verifier/store/schema.ts';
import { pendingOffer } from '../helpers/offer-row.ts';
import { pendingRequest as request } from '../helpers/request-row.ts';
import { dropSchemas } from '../helpers/pg-schemas.ts';

/**
 * Issue 16, change 10: the issuer's migration 0016 and the verifier's 0006 drop the unique indexes no
 * query reads (`issuer_offers.token_jti` with its column, `verifier_requests.nonce`, the audit
 * trails' `hash`) and keep `issuer_offers.transaction_hash` unique where it is set. Each suite
 * writes rows under the schema before them, then opens the database as the service does: the rows,
 * the look-ups, the audit chain and the remaining unique guarantees are all still there.
 */
const url = process.env.TEST_DATABASE_URL;
if (process.env.CI && !url) throw new Error('TEST_DATABASE_URL is not set: .ci/run starts PostgreSQL for the store suites');
const BACKENDS: [string, string | undefined][] = [['SQLite', undefined], ...(url ? ([['PostgreSQL', url]] as [string, string][]) : [])];

type Migrations = (new () => MigrationInterface)[];

/** Unique indexes of a table as `column` or `column (partial)`, primary keys left out. */
async function uniqueIndexes(ds: DataSource, table: string): Promise<string[]> {
  if (ds.options.type === 'postgres') {
    const rows = await sqlAll<{ col: string; partial: boolean }>(
      ds.manager,
      `SELECT a.attname AS col, i.indpred IS NOT NULL AS partial FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) WHERE n.nspname = current_schema() AND t.relname = ? AND i.indisunique AND NOT i.indisprimary`,
      [table],
    );
    return rows.map((r) => (r.partial ? `${r.col} (partial)` : r.col)).sort();
  }
  const rows = await sqlAll<{ col: string; partial: number; origin: string }>(ds.manager, 'SELECT ii.name AS col, il.partial AS partial, il.origin AS origin FROM pragma_index_list(?) il, pragma_index_info(il.name) ii WHERE il."unique" = 1', [table]);
  return rows.filter((r) => r.origin !== 'pk').map((r) => (r.partial ? `${r.col} (partial)` : r.col)).sort();
}

async function columns(ds: DataSource, table: string): Promise<string[]> {
  const runner = ds.createQueryRunner();
  try {
    return (await runner.getTable(table))!.columns.map((c) => c.name);
  } finally {
    await runner.release();
  }
}

describe.each(BACKENDS)('unread indexes dropped on %s (issuer 0016, verifier 0006)', (_name, databaseUrl) => {
  const prefix = `u${randomBytes(4).toString('hex')}_`;
  const dataDir = mkdtempSync(join(tmpdir(), 'idideal-unread-indexes-'));
  const open: DataSource[] = [];
  const openAt = async (service: 'issuer' | 'verifier', migrations: Migrations) => {
    const ds = await openDataSource({
      name: databaseUrl ? `${prefix}${service}` : service,
      dataDir,
      databaseUrl,
      veramo: true,
      entities: service === 'issuer' ? [...issuerTables, IssuerApiKeyTable] : [...verifierTables, VerifierAuditTable],
      migrations,
    });
    open.push(ds);
    return ds;
  };
  afterAll(async () => {
    for (const ds of open) if (ds.isInitialized) await ds.destroy();
    if (databaseUrl) await dropSchemas(databaseUrl, prefix);
  });

  it('the issuer keeps its offers, credentials and audit chain; transaction_hash stays unique where set', async () => {
    const before = await openAt('issuer', issuerMigrations.slice(0, -1));
    expect(await uniqueIndexes(before, 'issuer_offers')).toEqual(['pre_auth_code_hash', 'token_jti', 'transaction_hash']);
    const old = new IssuerStore(before);
    const list = await old.statusLists.openList('buergerbuero', 'tsl', 1, 1024, new Date().toISOString());
    const offers = [pendingOffer(), pendingOffer(), pendingOffer()];
    for (const o of offers) await old.insertOffer(o, { at: new Date().toISOString(), actor: 'admin', action: 'offer.create', target: o.id, details: { office: 'buergerbuero' } });
    // A row written before change 7, with its token_jti.
    await sqlRun(before.manager, 'UPDATE issuer_offers SET token_jti = ? WHERE id = ?', [randomBytes(16).toString('hex'), offers[0]!.id]);
    for (const o of offers) expect(await old.redeemCode(o.id)).toBe(true);
    const deferredHash = randomBytes(32).toString('hex');
    expect(await old.deferIssuance(offers[1]!.id, deferredHash, '[]')).toBe(true);
    expect(await old.statusLists.claim(list.status_list, [3], new Date().toISOString())).toEqual([3]);
    const at = new Date().toISOString();
    const credential = { id: randomUUID(), offer_id: offers[0]!.id, office: 'buergerbuero', configuration_id: offers[0]!.configuration_id, format: 'dc+sd-jwt', status_list: list.status_list, status_idx: 3, status: 'valid' as const, issued_at: at, expires_at: at };
    expect(await old.completeIssuance(offers[0]!.id, [credential])).toBe('issued');
    await before.destroy();

    const ds = await openAt('issuer', issuerMigrations);
    const store = new IssuerStore(ds);
    expect(await uniqueIndexes(ds, 'issuer_offers')).toEqual(['pre_auth_code_hash', 'transaction_hash (partial)']);
    expect(await uniqueIndexes(ds, 'issuer_audit')).toEqual([]);
    expect(await columns(ds, 'issuer_offers')).not.toContain('token_jti');
    expect((await store.getOffer('buergerbuero', offers[0]!.id))?.state).toBe('issued');
    expect((await store.findOfferByCode(offers[2]!.pre_auth_code_hash))?.id).toBe(offers[2]!.id);
    expect((await store.findOfferByTransaction(deferredHash))?.id).toBe(offers[1]!.id);
    expect((await store.credentialsOf(offers[0]!.id)).map((c) => c.id)).toEqual([credential.id]);
    const entries = await store.auditEntries();
    expect(entries.length).toBeGreaterThanOrEqual(3);
    expect(checkChain(entries)).toEqual([]);
    // Unique where set: a second offer cannot take the deferred transaction's hash; NULLs stay many.
    await expect(store.deferIssuance(offers[2]!.id, deferredHash, '[]')).rejects.toThrow(/unique/i);
    const fresh = pendingOffer();
    await store.insertOffer(fresh, { at: new Date().toISOString(), actor: 'admin', action: 'offer.create', target: fresh.id, details: { office: 'buergerbuero' } });
    expect(await store.redeemCode(fresh.id)).toBe(true);
    expect(await store.deferIssuance(fresh.id, randomBytes(32).toString('hex'), '[]')).toBe(true);
    expect(checkChain(await store.auditEntries())).toEqual([]);
  });

  it('the verifier keeps its requests and audit chain; state stays unique', async () => {
    const entry = (target: string) => ({ at: new Date().toISOString(), actor: 'rp:buergerbuero', action: 'request.create', target, details: {} });
    const before = await openAt('verifier', verifierMigrations.slice(0, -1));
    expect(await uniqueIndexes(before, 'verifier_requests')).toEqual(['nonce', 'state']);
    expect(await uniqueIndexes(before, 'verifier_audit')).toEqual(['hash']);
    const old = new VerifierStore(before);
    const rows = [request(), request()];
    for (const r of rows) await old.insertRequest(r, { log: new AuditLog(before, VerifierAuditTable), entry: entry(r.id) });
    expect(await old.finishVerified(rows[0]!.id, Date.now(), 'sealed-verdict', Date.now() + 60_000)).toBe(true);
    await before.destroy();

    const ds = await openAt('verifier', verifierMigrations);
    const store = new VerifierStore(ds);
    const log = new AuditLog(ds, VerifierAuditTable);
    expect(await uniqueIndexes(ds, 'verifier_requests')).toEqual(['state']);
    expect(await uniqueIndexes(ds, 'verifier_audit')).toEqual([]);
    expect(await store.findByState(rows[0]!.state)).toMatchObject({ id: rows[0]!.id, status: 'verified', result_sealed: 'sealed-verdict' });
    expect(await store.getRequest('buergerbuero', rows[1]!.id)).toMatchObject({ state: rows[1]!.state, status: 'pending' });
    const next = request();
    await store.insertRequest(next, { log, entry: entry(next.id) });
    const entries = await log.entries();
    expect(entries).toHaveLength(3);
    expect(checkChain(entries)).toEqual([]);
    await expect(store.insertRequest({ ...request(), state: next.state })).rejects.toThrow(/unique/i);
  });
});
