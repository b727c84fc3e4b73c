import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createDidResolver } from '../../core/did/resolver.ts';
import { createKeyAgent } from '../../core/keys/agent.ts';
import { loadDidWebIdentity } from '../../core/keys/did-identity.ts';
import { sealEntry, GENESIS } from '../../core/audit/audit-chain.ts';
import { openDataSource } from '../../core/store/data-source.ts';
import { openRegistryDataSource } from '../../trust-registry/service.ts';
import { registryMigrations } from '../../trust-registry/store/migrations/0001-registry.ts';
import { RegistryStore } from '../../trust-registry/store/registry-store.ts';
import { AuditTable } from '../../trust-registry/store/schema.ts';

/**
 * The registry store through the numbered migrations, on a real SQLite file and, when
 * TEST_DATABASE_URL is set (.ci/run starts PostgreSQL), on PostgreSQL in a fresh schema per test.
 */
const BACKENDS: [string, string | undefined][] = [['SQLite', undefined], ...(process.env.TEST_DATABASE_URL ? ([['PostgreSQL', process.env.TEST_DATABASE_URL]] as [string, string][]) : [])];
if (process.env.CI && !process.env.TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set: .ci/run starts PostgreSQL for the store suite');

describe.each(BACKENDS)('registry store on %s', (_backend, databaseUrl) => {
  const open: DataSource[] = [];
  afterEach(async () => {
    for (const ds of open.splice(0)) if (ds.isInitialized) await ds.destroy();
  });
  const fresh = async (dataDir = mkdtempSync(join(tmpdir(), 'idideal-store-'))) => {
    // One schema per data directory on PostgreSQL, so a re-open finds the same tables.
    const ds = await openRegistryDataSource({ dataDir, databaseUrl }, databaseUrl ? `registry_t_${dataDir.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, '_')}` : 'registry');
    open.push(ds);
    return { ds, store: new RegistryStore(ds), dataDir };
  };
  const at = '2026-02-01T10:00:00Z';

  it('round-trips entities, types, grants and their append-only status history', async () => {
    const { store, ds } = await fresh();
    await store.transaction(async (m) => {
      await store.insertEntity(m, { id: 'did:web:a', kind: 'authority', name: { de: 'Ä', en: 'A' } }, at);
      await store.insertEntity(m, { id: 'did:web:o', kind: 'issuer', name: { de: 'Ö', en: 'O' }, jwks: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }, at);
      await store.insertCredentialType(m, { vct: 'urn:t', name: { de: 'T', en: 'T' }, issued_before_suspension: 'accept', w3c_types: ['T'] }, at);
      await store.insertGrant(m, { id: 'grant-0001', authority_id: 'did:web:a', entity_id: 'did:web:o', action: 'issue', resource: 'urn:t', valid_from: at, valid_until: null, constraints: {}, statement: 'a.b.c' }, at);
      await store.appendStatus(m, { grant_id: 'grant-0001', status: 'suspended', reason: 'eins', effective_at: at, recorded_at: at, actor: 'admin' });
      await store.appendStatus(m, { grant_id: 'grant-0001', status: 'active', reason: 'zwei', effective_at: at, recorded_at: at, actor: 'admin' });
    });
    const s = await store.loadState('did:web:a');
    expect(s.entities.find((e) => e.id === 'did:web:o')).toEqual({ id: 'did:web:o', kind: 'issuer', name: { de: 'Ö', en: 'O' }, jwks: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] });
    expect(s.credential_types).toEqual([{ vct: 'urn:t', name: { de: 'T', en: 'T' }, issued_before_suspension: 'accept', w3c_types: ['T'] }]);
    expect(s.grants).toHaveLength(1);
    expect(s.grants[0]!.history.map((h) => h.reason)).toEqual(['eins', 'zwei']);
    // A status row for an unknown grant violates the foreign key (SQLite enforces it under TypeORM).
    await expect(store.transaction((m) => store.appendStatus(m, { grant_id: 'nope', status: 'revoked', reason: 'x', effective_at: at, recorded_at: at, actor: 'a' }))).rejects.toThrow();
    expect((await store.loadState('did:web:a')).grants[0]!.history).toHaveLength(2);
    expect(ds.options.type).toBe(databaseUrl ? 'postgres' : 'better-sqlite3');
  });

  it('rolls a failed write unit back whole', async () => {
    const { store } = await fresh();
    await expect(
      store.transaction(async (m) => {
        await store.insertEntity(m, { id: 'did:web:x', kind: 'issuer', name: { de: 'X', en: 'X' } }, at);
        await store.insertEntity(m, { id: 'did:web:x', kind: 'issuer', name: { de: 'X', en: 'X' } }, at);
      }),
    ).rejects.toThrow();
    expect((await store.loadState('r')).entities).toHaveLength(0);
  });

  it('refuses a second audit entry or snapshot with the same seq', async () => {
    const { store } = await fresh();
    const e1 = await store.transaction((m) => store.appendAudit(m, { at, actor: 'a', action: 'x', target: 't', details: {} }));
    expect(e1).toEqual(sealEntry({ seq: 1, at, actor: 'a', action: 'x', target: 't', details: {}, prev_hash: GENESIS }));
    // A second row with the same seq (a racing writer) is refused by the database.
    await expect(store.transaction((m) => m.insert(AuditTable, { ...e1, details: '{}', hash: 'f'.repeat(64) }))).rejects.toThrow();
    await store.transaction((m) => store.insertSnapshot(m, { seq: 1, iat: 1, next_update: 2, prev_hash: GENESIS, hash: 'a'.repeat(64), jws: 'j' }));
    await expect(store.transaction((m) => store.insertSnapshot(m, { seq: 1, iat: 1, next_update: 2, prev_hash: GENESIS, hash: 'b'.repeat(64), jws: 'k' }))).rejects.toThrow();
    expect((await store.latestSnapshot())?.hash).toBe('a'.repeat(64));
    expect(await store.auditEntries()).toEqual([e1]);
  });

  it('re-opens an existing database without re-running migrations', async () => {
    const { ds, dataDir, store } = await fresh();
    await store.transaction((m) => store.insertEntity(m, { id: 'did:web:keep', kind: 'issuer', name: { de: 'K', en: 'K' } }, at));
    await ds.destroy();
    const again = await fresh(dataDir);
    expect((await again.store.loadState('r')).entities.map((e) => e.id)).toEqual(['did:web:keep']);
    expect(Number((await again.ds.query('SELECT COUNT(*) AS n FROM migrations'))[0].n)).toBeGreaterThanOrEqual(5);
  });

  it('upgrades a database from before migration 0003: existing rows read as ordinary writes, corrections are kept', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'idideal-store-'));
    const name = databaseUrl ? `registry_t_${dataDir.slice(-6).toLowerCase().replace(/[^a-z0-9_]/g, '_')}` : 'registry';
    const old = await openDataSource({ name, dataDir, databaseUrl, entities: [], migrations: registryMigrations.slice(0, 2), veramo: true });
    open.push(old);
    await old.query(`INSERT INTO registry_entities (id, kind, name_de, name_en, jwks, created_at) VALUES ('did:web:o', 'issuer', 'O', 'O', NULL, '${at}')`);
    await old.query(`INSERT INTO registry_grants (id, authority_id, entity_id, action, resource, valid_from, valid_until, constraints, statement, created_at) VALUES ('grant-old1', 'did:web:a', 'did:web:o', 'issue', 'urn:t', '${at}', NULL, '{}', 'a.b.c', '${at}')`);
    await old.query(`INSERT INTO registry_grant_status (grant_id, status, reason, effective_at, recorded_at, actor) VALUES ('grant-old1', 'suspended', 'alt', '${at}', '${at}', 'admin')`);
    await old.destroy();

    const { store } = await fresh(dataDir);
    const records = await store.loadRecords();
    expect(records.get('grant-old1')).toEqual({ recorded_at: at, correction: null, history: [{ correction: null }] });
    await store.transaction(async (m) => {
      await store.insertGrant(m, { id: 'grant-new1', authority_id: 'did:web:a', entity_id: 'did:web:o', action: 'issue', resource: 'urn:t', valid_from: '2026-01-01T00:00:00Z', valid_until: null, constraints: {}, statement: 'a.b.c' }, at, 'nachgetragen');
      await store.appendStatus(m, { grant_id: 'grant-old1', status: 'active', reason: 'neu', effective_at: '2026-01-31T00:00:00Z', recorded_at: at, actor: 'admin', correction: 'Irrtum' });
    });
    const after = await store.loadRecords();
    expect(after.get('grant-new1')).toEqual({ recorded_at: at, correction: 'nachgetragen', history: [] });
    expect(after.get('grant-old1')!.history).toEqual([{ correction: null }, { correction: 'Irrtum' }]);
    expect((await store.loadState('did:web:a')).grants.find((g) => g.id === 'grant-old1')!.history.map((h) => h.reason)).toEqual(['alt', 'neu']);
  });

  it('keeps private keys encrypted at rest and refuses a wrong key-encryption secret', async () => {
    const { ds, dataDir } = await fresh();
    const secret = 'b'.repeat(64);
    const parts = createKeyAgent(ds, secret, createDidResolver());
    const id = await loadDidWebIdentity(parts, 'did:web:localhost%3A1234:authorities:test');
    const [key] = (await parts.agent.didManagerGet({ did: id.did })).keys;
    const plain = (await parts.privateKeys.getKey({ alias: key!.kid })).privateKeyHex;
    expect(plain).toMatch(/^[0-9a-f]{64}$/);
    // Reload: the same key comes back and its public JWK matches the DID document.
    const again = await loadDidWebIdentity(parts, id.did);
    expect(again.signer.publicJwk).toEqual(id.signer.publicJwk);
    if (!databaseUrl) {
      await ds.destroy();
      const bytes = readFileSync(join(dataDir, 'registry.sqlite'));
      expect(bytes.includes(Buffer.from(plain, 'utf8'))).toBe(false);
      expect(bytes.includes(Buffer.from(plain, 'hex'))).toBe(false);
    } else {
      const rows = JSON.stringify(await ds.query('SELECT * FROM "private-key"'));
      expect(rows).not.toContain(plain);
      await ds.destroy();
    }

    const reopened = await fresh(dataDir);
    const wrong = createKeyAgent(reopened.ds, 'c'.repeat(64), createDidResolver());
    await expect(loadDidWebIdentity(wrong, id.did)).rejects.toThrow();
  });
});
