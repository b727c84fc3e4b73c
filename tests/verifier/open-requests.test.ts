import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource } from '../../core/store/data-source.ts';
import { verifierMigrations } from '../../verifier/store/migrations/0001-verifier.ts';
import { OpenRequests } from '../../verifier/store/open-requests.ts';
import { verifierTables } from '../../verifier/store/schema.ts';
import { VerifierStore } from '../../verifier/store/verifier-store.ts';
import { pendingRequest } from '../helpers/request-row.ts';

/**
 * Issue 16, change 12: the verifier keeps the requests it created in memory for the request object
 * and the response. Only what never changes is taken from there; whether a request is still open
 * stays the database's word, also when another instance ended it.
 */
describe('OpenRequests', () => {
  const now = 1_800_000_000_000;

  it('gives back a frozen copy by id for its relying party only, and by state', () => {
    const open = new OpenRequests();
    const row = pendingRequest({ expires_at: now + 1000 });
    open.remember(row);
    row.nonce = 'changed-after';
    const got = open.get('buergerbuero', row.id, now);
    expect(got).toMatchObject({ id: row.id, state: row.state, status: 'pending' });
    expect(got!.nonce).not.toBe('changed-after');
    expect(Object.isFrozen(got)).toBe(true);
    expect(open.get('stadtbibliothek', row.id, now)).toBeUndefined();
    expect(open.byState(row.state, now)?.id).toBe(row.id);
    expect(open.byState('no-such-state', now)).toBeUndefined();
  });

  it('never returns an expired request, and lets go of it', () => {
    const open = new OpenRequests();
    const row = pendingRequest({ expires_at: now + 1000 });
    open.remember(row);
    expect(open.byState(row.state, now + 1000)).toBeUndefined();
    expect(open.get('buergerbuero', row.id, now)).toBeUndefined();
    expect(open.size).toBe(0);
  });

  it('keeps only pending requests, forgets by id and state, and drops the oldest beyond its bound', () => {
    const open = new OpenRequests(3);
    open.remember(pendingRequest({ status: 'verified' as never }));
    expect(open.size).toBe(0);
    const rows = Array.from({ length: 4 }, () => pendingRequest({ expires_at: now + 1000 }));
    for (const r of rows) open.remember(r);
    expect(open.size).toBe(3);
    expect(open.get('buergerbuero', rows[0].id, now)).toBeUndefined();
    expect(open.byState(rows[0].state, now)).toBeUndefined();
    open.forget(rows[1].id);
    expect(open.byState(rows[1].state, now)).toBeUndefined();
    expect(open.get('buergerbuero', rows[3].id, now)?.id).toBe(rows[3].id);
    expect(open.size).toBe(2);
  });
});

describe('VerifierStore with open requests in memory (real SQLite, two stores on one database)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'idideal-open-requests-'));
  const sources: DataSource[] = [];
  afterAll(async () => {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
  });
  const stores = async () => {
    const ds = await openDataSource({ name: 'verifier', dataDir, veramo: true, entities: verifierTables, migrations: verifierMigrations });
    sources.push(ds);
    // Two instances: each its own memory, one database.
    return [new VerifierStore(ds), new VerifierStore(ds)] as const;
  };

  it('reads a request it created from memory, and one created elsewhere from the database', async () => {
    const [a, b] = await stores();
    const row = pendingRequest();
    await a.insertRequest(row);
    const readA = vi.spyOn(a, 'getRequest');
    const byStateA = vi.spyOn(a, 'findByState');
    expect((await a.openRequest('buergerbuero', row.id, Date.now()))?.nonce).toBe(row.nonce);
    expect((await a.openRequestByState(row.state, Date.now()))?.id).toBe(row.id);
    expect(readA).not.toHaveBeenCalled();
    expect(byStateA).not.toHaveBeenCalled();
    const readB = vi.spyOn(b, 'getRequest');
    expect((await b.openRequest('buergerbuero', row.id, Date.now()))?.nonce).toBe(row.nonce);
    expect(readB).toHaveBeenCalledTimes(1);
    expect(await b.openRequest('stadtbibliothek', row.id, Date.now())).toBeNull();
  });

  it('a request ended by another instance is refused at the conditional update, and then read fresh', async () => {
    const [a, b] = await stores();
    const row = pendingRequest();
    await a.insertRequest(row);
    const now = Date.now();
    expect(await b.finishVerified(row.id, now, 'sealed-by-b', now + 60_000)).toBe(true);
    // A's copy is stale: it still says pending ...
    expect((await a.openRequest('buergerbuero', row.id, now))?.status).toBe('pending');
    // ... but neither a verifying nor a failing answer gets through A.
    expect(await a.finishVerified(row.id, now, 'sealed-by-a', now + 60_000)).toBe(false);
    expect(await a.noteAttempt(row.id, now, 'x')).toBe(false);
    expect(await a.openRequest('buergerbuero', row.id, now)).toMatchObject({ status: 'verified', result_sealed: 'sealed-by-b' });
  });

  it('a failing answer that is noted keeps the request open in memory; a verifying one ends it there', async () => {
    const [a] = await stores();
    const row = pendingRequest();
    await a.insertRequest(row);
    const now = Date.now();
    expect(await a.noteAttempt(row.id, now, 'x')).toBe(true);
    const read = vi.spyOn(a, 'getRequest');
    expect((await a.openRequest('buergerbuero', row.id, now))?.status).toBe('pending');
    expect(read).not.toHaveBeenCalled();
    expect(await a.finishVerified(row.id, now, 'sealed', now + 60_000)).toBe(true);
    expect(await a.openRequest('buergerbuero', row.id, now)).toMatchObject({ status: 'verified' });
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('an expired request is the database’s to answer', async () => {
    const [a] = await stores();
    const row = pendingRequest({ expires_at: Date.now() + 1000 });
    await a.insertRequest(row);
    const read = vi.spyOn(a, 'getRequest');
    const later = row.expires_at + 1;
    expect(await a.openRequest('buergerbuero', row.id, later)).toMatchObject({ id: row.id, status: 'pending', expires_at: row.expires_at });
    expect(read).toHaveBeenCalledTimes(1);
    expect(await a.finishVerified(row.id, later, 'sealed', later + 60_000)).toBe(false);
  });
});
