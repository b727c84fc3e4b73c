import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { checkChain } from '../../core/audit/audit-chain.ts';
import { appendAuditEntry } from '../../core/audit/audit-table.ts';
import { openDataSource } from '../../core/store/data-source.ts';
import { IssuerApiKeyTable } from '../../issuer/service.ts';
import { issuerMigrations } from '../../issuer/store/migrations/0001-issuer.ts';
import { IssuerStore, MAX_TX_CODE_FAILURES } from '../../issuer/store/issuer-store.ts';
import { IssuerAuditTable, issuerTables, type CredentialRow, type OfferRow } from '../../issuer/store/schema.ts';
import { pendingOffer as offer } from '../helpers/offer-row.ts';
import { pendingRequest } from '../helpers/request-row.ts';
import { VerifierStore } from '../../verifier/store/verifier-store.ts';
import { verifierMigrations } from '../../verifier/store/migrations/0001-verifier.ts';
import { verifierTables, type RequestRow } from '../../verifier/store/schema.ts';
import { dropSchemas } from '../helpers/pg-schemas.ts';

/**
 * The issuer's and the verifier's stores, one behaviour suite run on a real SQLite file and, when
 * TEST_DATABASE_URL is set (.ci/run starts PostgreSQL), on PostgreSQL: the single-use guarantees
 * the protocols rest on hold under concurrent callers on both (issue 8).
 */
const url = process.env.TEST_DATABASE_URL;
if (process.env.CI && !url) throw new Error('TEST_DATABASE_URL is not set: .ci/run starts PostgreSQL for the store suites');
const BACKENDS: [string, string | undefined][] = [['SQLite', undefined], ...(url ? ([['PostgreSQL', url]] as [string, string][]) : [])];

describe.each(BACKENDS)('issuer and verifier stores on %s', (_name, databaseUrl) => {
  const prefix = `s${randomBytes(4).toString('hex')}_`;
  const dataDir = mkdtempSync(join(tmpdir(), 'idideal-stores-'));
  const open: DataSource[] = [];
  const openStore = async (service: 'issuer' | 'verifier') => {
    const ds = await openDataSource({
      name: databaseUrl ? `${prefix}${service}` : service,
      dataDir,
      databaseUrl,
      veramo: true,
      ...(service === 'issuer' ? { entities: [...issuerTables, IssuerApiKeyTable], migrations: issuerMigrations } : { entities: verifierTables, migrations: verifierMigrations }),
    });
    open.push(ds);
    return ds;
  };
  afterAll(async () => {
    for (const ds of open) if (ds.isInitialized) await ds.destroy();
    if (databaseUrl) await dropSchemas(databaseUrl, prefix);
  });

  const audit = (target: string) => ({ at: new Date().toISOString(), actor: 'test', action: 'offer.create', target, details: {} });

  it('redeems a pre-authorized code exactly once among 20 concurrent callers, and counts tx_code failures to the lock', async () => {
    const store = new IssuerStore(await openStore('issuer'));
    const o = offer();
    await store.insertOffer(o, audit(o.id));
    expect(await store.findOfferByCode(o.pre_auth_code_hash)).toMatchObject({ id: o.id, state: 'pending' });
    const wins = await Promise.all(Array.from({ length: 20 }, () => store.redeemCode(o.id)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await store.getOffer('buergerbuero', o.id))!.state).toBe('token_issued');

    const l = offer();
    await store.insertOffer(l, audit(l.id));
    const counts = await Promise.all(Array.from({ length: MAX_TX_CODE_FAILURES + 2 }, () => store.recordTxCodeFailure(l.id)));
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(MAX_TX_CODE_FAILURES);
    expect((await store.getOffer('buergerbuero', l.id))!.state).toBe('locked');
    expect(await store.redeemCode(l.id)).toBe(false);
  });

  it('redeems a code with its tx_code in one statement: once among concurrent callers, and only when office, state, expiry and tx_code hold', async () => {
    const store = new IssuerStore(await openStore('issuer'));
    const now = Date.now();
    const o = offer();
    await store.insertOffer(o, audit(o.id));
    const redeem = (over: { office?: string; tx?: string; now?: number } = {}) => store.redeemCodeWithTxCode(over.office ?? 'buergerbuero', o.pre_auth_code_hash, over.tx ?? o.tx_code_hash, over.now ?? now);
    // Each refusal changes nothing: the offer stays pending for the right request.
    expect(await redeem({ tx: randomBytes(32).toString('hex') })).toBeNull();
    expect(await redeem({ office: 'bibliothek' })).toBeNull();
    expect(await redeem({ now: o.expires_at })).toBeNull();
    expect((await store.getOffer('buergerbuero', o.id))!.state).toBe('pending');
    const wins = (await Promise.all(Array.from({ length: 20 }, () => redeem()))).filter(Boolean);
    expect(wins).toEqual([{ id: o.id, configuration_id: o.configuration_id, approval: 'auto' }]);
    expect((await store.getOffer('buergerbuero', o.id))!.state).toBe('token_issued');

    const l = offer({ state: 'locked' });
    await store.insertOffer(l, audit(l.id));
    expect(await store.redeemCodeWithTxCode('buergerbuero', l.pre_auth_code_hash, l.tx_code_hash, now)).toBeNull();
  });

  it('marks a c_nonce used once, also under concurrent requests, and forgets it only after it expired', async () => {
    const store = new IssuerStore(await openStore('issuer'));
    const now = Date.now();
    // Office, MAC and expiry are checked before (issuer/c-nonce.ts, tests/issuer/c-nonce.test.ts); the store keeps single use.
    expect((await Promise.all(Array.from({ length: 10 }, () => store.useNonce('n-live', 'buergerbuero', now + 60_000)))).filter(Boolean)).toHaveLength(1);
    expect(await store.useNonce('n-old', 'buergerbuero', now - 1)).toBe(true);
    await store.purgeExpiredNonces(now);
    // The live one is still remembered after the purge; the expired one is gone (and would fail its expiry check first).
    expect(await store.useNonce('n-live', 'buergerbuero', now + 60_000)).toBe(false);
    expect(await store.useNonce('n-old', 'buergerbuero', now - 1)).toBe(true);
  });

  it('never hands one status slot to two concurrent claims, and completes an issuance once', async () => {
    const store = new IssuerStore(await openStore('issuer'));
    const list = `list-${randomUUID()}`;
    const candidates = [1, 2, 3, 4, 5, 6, 7, 8];
    const taken = await Promise.all(Array.from({ length: 6 }, () => store.takenSlots(list, candidates)));
    // Each call claims the candidates not taken yet; over all calls every slot is claimed exactly once.
    const claimedPerCall = taken.map((t) => candidates.filter((c) => !t.has(c)));
    expect(claimedPerCall.flat().sort((a, b) => a - b)).toEqual(candidates);
    expect(await store.countSlots(list)).toBe(candidates.length);

    const o = offer({ state: 'token_issued' });
    await store.insertOffer(o, audit(o.id));
    const cred = (idx: number): CredentialRow => ({ id: randomUUID(), offer_id: o.id, office: 'buergerbuero', configuration_id: o.configuration_id, format: 'dc+sd-jwt', status_list: list, status_idx: idx, status: 'valid', issued_at: new Date().toISOString(), expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    const done = await Promise.all([store.completeIssuance(o.id, [cred(1)]), store.completeIssuance(o.id, [cred(2)])]);
    expect(done.sort()).toEqual(['issued', 'offer_closed']);
    expect(await store.credentialsOf(o.id)).toHaveLength(1);
    expect((await store.getOffer('buergerbuero', o.id))!).toMatchObject({ state: 'issued', claims_sealed: null });
  });

  it('marks the c_nonces used together with the credentials: a nonce is spent once, and a spent one records nothing', async () => {
    const store = new IssuerStore(await openStore('issuer'));
    const list = `list-${randomUUID()}`;
    const opened = async () => {
      const o = offer({ state: 'token_issued' });
      await store.insertOffer(o, audit(o.id));
      return o;
    };
    const cred = (o: OfferRow, idx: number): CredentialRow => ({ id: randomUUID(), offer_id: o.id, office: 'buergerbuero', configuration_id: o.configuration_id, format: 'dc+sd-jwt', status_list: list, status_idx: idx, status: 'valid', issued_at: new Date().toISOString(), expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    const nonce = () => ({ value: randomUUID(), office: 'buergerbuero', expiresAt: Date.now() + 300_000 });

    const n1 = nonce();
    const [o1, o2] = [await opened(), await opened()];
    expect(await store.completeIssuance(o1.id, [cred(o1, 1)], [n1])).toBe('issued');
    expect(await store.useNonce(n1.value, n1.office, n1.expiresAt)).toBe(false);
    // Spent: the second offer stays open, with no credential and its slot not marked.
    expect(await store.completeIssuance(o2.id, [cred(o2, 2)], [nonce(), n1])).toBe('nonce_used');
    expect(await store.credentialsOf(o2.id)).toEqual([]);
    expect((await store.getOffer('buergerbuero', o2.id))!.state).toBe('token_issued');
    // Two requests spending one fresh nonce at once, on two open offers: one is issued.
    const n2 = nonce();
    const [o3, o4] = [await opened(), await opened()];
    const done = await Promise.all([store.completeIssuance(o3.id, [cred(o3, 3)], [n2]), store.completeIssuance(o4.id, [cred(o4, 4)], [n2])]);
    expect(done.sort()).toEqual(['issued', 'nonce_used']);
    expect((await store.credentialsOf(o3.id)).length + (await store.credentialsOf(o4.id)).length).toBe(1);
    // A fresh nonce on an offer already closed: the offer's answer.
    expect(await store.completeIssuance(o1.id, [], [nonce()])).toBe('offer_closed');
  });

  it('keeps one valid audit chain under concurrent appends from two connections, alone and with the write they record', async () => {
    // PostgreSQL: two data sources (pools) on one database, as two instances. SQLite: one, as a
    // worker has (better-sqlite3 waits for a lock synchronously, so two in one thread would wait on each other).
    const a = new IssuerStore(await openStore('issuer'));
    const b = databaseUrl ? new IssuerStore(await openStore('issuer')) : a;
    const before = (await a.auditEntries()).length;
    // Values whose canonical JSON needs escaping and ordering: the database-side hash (PostgreSQL) must match hashEntry.
    const details = (i: number) => ({ i, zeta: 'Straße "7" \\ ✓ 😀', alpha: [1.5, null, { b: 2, a: '\u0007' }], nested: { z: true, 'ä': -0 } });
    const offers = Array.from({ length: 10 }, () => offer());
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).audit({ at: new Date().toISOString(), actor: 'test "actor"', action: 'test.append', target: `t${i}\n`, details: details(i) })),
      ...offers.map((o, i) => (i % 2 ? b : a).insertOffer(o, { ...audit(o.id), details: details(100 + i) })),
    ]);
    const entries = await a.auditEntries();
    expect(entries.length - before).toBe(20);
    expect(checkChain(entries)).toEqual([]);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    // Every offer was stored with exactly one entry of its own.
    for (const o of offers) {
      expect(await b.getOffer('buergerbuero', o.id)).not.toBeNull();
      expect(entries.filter((e) => e.target === o.id)).toHaveLength(1);
    }
  });

  // PostgreSQL only (two instances; SQLite has one writer at a time): registered in that arm, not skipped in the other.
  if (databaseUrl) it('lets a writer that lost the race for a seq (PostgreSQL, other instance) try again after the winner commits, with the write it records', async () => {
    const a = new IssuerStore(await openStore('issuer'));
    const b = new IssuerStore(await openStore('issuer'));
    const o = offer();
    let late: Promise<void> | undefined;
    // A holds seq n + 1 uncommitted while B's offer and its entry aim at the same seq.
    const held = await a.transaction(async (m) => {
      const entry = await appendAuditEntry(m, IssuerAuditTable, { at: new Date().toISOString(), actor: 'test', action: 'test.hold', target: 'held', details: {} });
      late = b.insertOffer(o, audit(o.id));
      await new Promise((r) => setTimeout(r, 300));
      expect(await b.getOffer('buergerbuero', o.id)).toBeNull();
      return entry;
    });
    await late;
    const entries = await b.auditEntries();
    expect(checkChain(entries)).toEqual([]);
    expect(entries.find((e) => e.target === o.id)?.seq).toBe(held.seq + 1);
    expect(await a.getOffer('buergerbuero', o.id)).not.toBeNull();
  });

  it('ends a request with a verified verdict exactly once among concurrent callers, only while pending and unexpired; failed attempts leave it open', async () => {
    const store = new VerifierStore(await openStore('verifier'));
    const row = (over: Partial<RequestRow> = {}): RequestRow => pendingRequest({ rp: 'bibliothek', expires_at: Date.now() + 600_000, ...over });
    const live = row();
    const old = row({ expires_at: Date.now() - 1 });
    await store.insertRequest(live);
    await store.insertRequest(old);
    expect((await store.findByState(live.state))!.id).toBe(live.id);
    const now = Date.now();
    // A failed answer is noted and the request stays pending; so do concurrent ones.
    expect((await Promise.all(Array.from({ length: 5 }, () => store.noteAttempt(live.id, now, '{"kind":"presentation","codes":["invalid_signature"],"at":0}')))).every(Boolean)).toBe(true);
    expect(await store.getRequest('bibliothek', live.id)).toMatchObject({ status: 'pending', result_sealed: null });
    expect(await store.noteAttempt(old.id, now, '{}')).toBe(false);
    expect((await Promise.all(Array.from({ length: 10 }, (_, i) => store.finishVerified(live.id, now, `sealed-verdict-${i}`, now + 1000)))).filter(Boolean)).toHaveLength(1);
    expect(await store.finishVerified(old.id, now, 'sealed', now + 1000)).toBe(false);
    const done = await store.getRequest('bibliothek', live.id);
    expect(done).toMatchObject({ status: 'verified', last_attempt: null });
    expect(done!.result_sealed).toMatch(/^sealed-verdict-\d$/);
    // After the verdict, neither another verdict nor a failed attempt changes it.
    expect(await store.finishVerified(live.id, now, 'other', now + 1000)).toBe(false);
    expect(await store.noteAttempt(live.id, now, '{}')).toBe(false);
    // Retention: the verdict is deleted once its time is up.
    await store.purge(now + 2000);
    expect(await store.getRequest('bibliothek', live.id)).toBeNull();
  });
});
