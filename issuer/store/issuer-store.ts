import { type DataSource, type EntityManager } from 'typeorm';
import { inGroupCommit, inTransaction, withDb } from '../../core/store/data-source.ts';
import { insertAll, selectAll, sqlAll, sqlOne, sqlRun } from '../../core/store/prepared.ts';
import type { AuditEntry } from '../../core/audit/audit-chain.ts';
import { appendAuditEntry, readAudit, writeWithAudit, type AuditInput } from '../../core/audit/audit-table.ts';
import { StatusListStore } from './status-list-store.ts';
import { CredentialTable, IssuerAuditTable, NonceTable, OfficeKeyTable, OfferTable, type CredentialRow, type CredentialStatus, type OfferRow, type OfficeKeyRow } from './schema.ts';

export type { AuditInput };

// Hot-path statements (issue 16): fixed texts with bound parameters, prepared once (core/store/prepared.ts).
const INSERT_OFFER = insertAll(OfferTable as never);
const SELECT_OFFER = selectAll(OfferTable as never);
const INSERT_CREDENTIAL = insertAll(CredentialTable as never);
const INSERT_NONCE = 'INSERT INTO issuer_nonces (value, office, expires_at) VALUES (?, ?, ?) ON CONFLICT (value) DO NOTHING';
const REDEEM_WITH_TX_CODE =
  "UPDATE issuer_offers SET state = 'token_issued' WHERE pre_auth_code_hash = ? AND office = ? AND state = 'pending' AND expires_at > ? AND tx_code_hash = ? RETURNING id, configuration_id, approval";
/** Closes an offer for good: `issued`, its sealed claims and the wallet's keys dropped. */
const CLOSE_OFFER = "UPDATE issuer_offers SET state = 'issued', claims_sealed = NULL, holder_jwks = NULL WHERE id = ? AND state IN ('token_issued', 'deferred')";
/** A stored offer as TypeORM gave it: bigint columns as numbers (PostgreSQL returns int8 as text). */
const offerRow = (r: Record<string, unknown> | undefined): OfferRow | null =>
  r ? ({ ...r, expires_at: Number(r.expires_at), tx_code_failures: Number(r.tx_code_failures) } as unknown as OfferRow) : null;

/**
 * IssuerStore.completeIssuance on PostgreSQL as one statement (issue 16: five round trips, BEGIN to
 * COMMIT, become one; a statement is atomic by itself). The same writes as the SQLite transaction,
 * as data-modifying WITH clauses: the request's c_nonces and, only if each was new and the offer
 * was still open, the rest: the offer moves to `issued`, each slot becomes its credential's
 * (StatusListStore.markIssued's upsert), each credential row is inserted. A slot another credential
 * holds stays as it is, and the unique (list, index) of issuer_credentials then fails the whole
 * statement, as it fails the transaction.
 * Values are cast to their column types: in INSERT … SELECT an untyped parameter would be text.
 */
function completeIssuancePg(offerId: string, credentials: CredentialRow[], nonces: UsedNonce[]): { sql: string; params: unknown[] } {
  // The used c_nonces first: each a row of its own (primary key), and the offer closes only if every one was new.
  const parts: string[] = nonces.map((_, i) => `n${i} AS (INSERT INTO issuer_nonces (value, office, expires_at) VALUES (CAST(? AS varchar), CAST(? AS varchar), CAST(? AS bigint)) ON CONFLICT (value) DO NOTHING RETURNING 1)`);
  const params: unknown[] = nonces.flatMap((n) => [n.value, n.office, n.expiresAt]);
  parts.push(`closed AS (${CLOSE_OFFER}${nonces.map((_, i) => ` AND (SELECT count(*) FROM n${i}) = 1`).join('')} RETURNING id)`);
  params.push(offerId);
  credentials.forEach((c, i) => {
    parts.push(
      `s${i} AS (INSERT INTO issuer_status_slots (status_list, status_idx, claimed_at, credential_id) SELECT CAST(? AS varchar), CAST(? AS integer), CAST(? AS varchar), CAST(? AS varchar) FROM closed ` +
        'ON CONFLICT (status_list, status_idx) DO UPDATE SET credential_id = excluded.credential_id WHERE issuer_status_slots.credential_id IS NULL)',
      `c${i} AS (INSERT INTO issuer_credentials (${CREDENTIAL_COLUMNS.map(([name]) => name).join(', ')}) SELECT ${CREDENTIAL_COLUMNS.map(([, type]) => `CAST(? AS ${type})`).join(', ')} FROM closed)`,
    );
    params.push(c.status_list, c.status_idx, c.issued_at, c.id, ...CREDENTIAL_COLUMNS.map(([name]) => c[name] ?? null));
  });
  const fresh = nonces.map((_, i) => `(SELECT count(*) FROM n${i})`).join(' + ') || '0';
  return { sql: `WITH ${parts.join(', ')} SELECT (SELECT count(*) FROM closed) AS closed, ${fresh} AS fresh`, params };
}
/** The credential table's columns and their PostgreSQL types, from its schema. */
const CREDENTIAL_COLUMNS = Object.entries((CredentialTable.options as { columns: Record<string, { type: string }> }).columns).map(([name, col]) => [name as keyof CredentialRow, col.type] as const);

/** A c_nonce spent by a credential request: kept (primary key) until it expires, so it is accepted once. */
export interface UsedNonce {
  value: string;
  office: string;
  expiresAt: number;
}

/**
 * What completeIssuance did: recorded the credentials; found the offer no longer open; or found a
 * c_nonce used before. No credential, slot or offer change is recorded but in `issued`; the
 * request's new c_nonces are spent in every case, as they were when they were spent before signing.
 */
export type CompletionResult = 'issued' | 'offer_closed' | 'nonce_used';

/** Most failed tx_code attempts before an offer locks (issue: "after five wrong codes the offer is locked"). */
export const MAX_TX_CODE_FAILURES = 5;

/**
 * The issuer's storage port. Every single-use rule is a conditional UPDATE or DELETE whose affected
 * row count decides, so it holds across processes sharing one database, not only within one.
 */
export class IssuerStore {
  /** Status lists and their slots (issuer/allocate-status-slots.ts). */
  readonly statusLists: StatusListStore;

  constructor(readonly ds: DataSource) {
    this.statusLists = new StatusListStore(ds);
  }

  private db<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return withDb(this.ds, fn);
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return inTransaction(this.ds, fn);
  }

  /** Stores a new offer; with `audit`, its audit entry in the same transaction (no offer without its entry after a crash). */
  insertOffer(row: OfferRow, audit?: AuditInput): Promise<void> {
    if (!audit) return this.db(async (m) => void (await sqlRun(m, INSERT_OFFER.sql, INSERT_OFFER.values(row as never))));
    return writeWithAudit(this.ds, IssuerAuditTable, { sql: INSERT_OFFER.sql, params: INSERT_OFFER.values(row as never) }, audit).then(() => undefined);
  }

  getOffer(office: string, id: string): Promise<OfferRow | null> {
    return inGroupCommit(this.ds, async (m) => offerRow(await sqlOne(m, `${SELECT_OFFER} WHERE office = ? AND id = ?`, [office, id])), { read: true });
  }

  findOfferByCode(codeHash: string): Promise<OfferRow | null> {
    return this.db(async (m) => offerRow(await sqlOne(m, `${SELECT_OFFER} WHERE pre_auth_code_hash = ?`, [codeHash])));
  }

  /** Counts a wrong tx_code; locks the offer at the limit. Returns the failures so far. */
  recordTxCodeFailure(id: string): Promise<number> {
    return this.transaction(async (m) => {
      await m.createQueryBuilder().update(OfferTable).set({ tx_code_failures: () => 'tx_code_failures + 1' }).where('id = :id AND state = :s', { id, s: 'pending' }).execute();
      await m
        .createQueryBuilder()
        .update(OfferTable)
        .set({ state: 'locked' })
        .where('id = :id AND state = :s AND tx_code_failures >= :max', { id, s: 'pending', max: MAX_TX_CODE_FAILURES })
        .execute();
      return (await m.findOneBy(OfferTable, { id }))?.tx_code_failures ?? MAX_TX_CODE_FAILURES;
    });
  }

  /** Redeems the pre-authorized code once: true for exactly one caller. */
  redeemCode(id: string): Promise<boolean> {
    return this.db(async (m) => (await sqlRun(m, "UPDATE issuer_offers SET state = 'token_issued' WHERE id = ? AND state = 'pending'", [id])) === 1);
  }

  /**
   * The token endpoint's usual case in one statement (issue 16: the SELECT before the redemption
   * saved): redeems the code once, only if it is this office's, the offer is pending and unexpired
   * and the tx_code hash matches. Returns what the access token needs, or null; then the caller
   * reads the offer to say why (findOfferByCode), and nothing was changed.
   */
  async redeemCodeWithTxCode(office: string, codeHash: string, txCodeHash: string, now: number): Promise<Pick<OfferRow, 'id' | 'configuration_id' | 'approval'> | null> {
    const [row] = await inGroupCommit(this.ds, (m) => sqlAll<Pick<OfferRow, 'id' | 'configuration_id' | 'approval'>>(m, REDEEM_WITH_TX_CODE, [codeHash, office, now, txCodeHash]));
    return row ?? null;
  }

  approve(office: string, id: string, at: string): Promise<boolean> {
    return this.db(async (m) => {
      const r = await m
        .createQueryBuilder()
        .update(OfferTable)
        .set({ approved_at: at })
        .where('id = :id AND office = :office AND approval = :a AND approved_at IS NULL', { id, office, a: 'manual' })
        .execute();
      return r.affected === 1;
    });
  }

  /**
   * Marks a c_nonce used (issuer/c-nonce.ts: the nonce itself is stateless): true for exactly one
   * caller, across workers and instances, as the primary key decides; the row lives until the nonce
   * expires (`expiresAt`), then the purge removes it. The nonce's own MAC binds it to its office.
   */
  useNonce(value: string, office: string, expiresAt: number): Promise<boolean> {
    return this.db(async (m) => (await sqlRun(m, INSERT_NONCE, [value, office, expiresAt])) === 1);
  }

  purgeExpiredNonces(now: number): Promise<void> {
    return this.db(async (m) => void (await m.createQueryBuilder().delete().from(NonceTable).where('expires_at <= :now', { now }).execute()));
  }

  /** Parks an offer awaiting a clerk's approval: the wallet's proven keys and the transaction id's hash. */
  deferIssuance(offerId: string, transactionHash: string, holderJwks: string): Promise<boolean> {
    return this.db(async (m) => {
      const r = await m
        .createQueryBuilder()
        .update(OfferTable)
        .set({ state: 'deferred', transaction_hash: transactionHash, holder_jwks: holderJwks })
        .where('id = :id AND state = :s', { id: offerId, s: 'token_issued' })
        .execute();
      return r.affected === 1;
    });
  }

  findOfferByTransaction(transactionHash: string): Promise<OfferRow | null> {
    return this.db((m) => m.findOneBy(OfferTable, { transaction_hash: transactionHash }));
  }

  /**
   * Records issued credentials and closes the offer in one transaction: the offer moves to
   * `issued` and its sealed claims are dropped, so no personal data stays behind. Each credential's
   * status slot is marked as its own in the same transaction (draft-ietf-oauth-status-list §13.3:
   * no double allocation); a caller that gets anything but `issued` releases its reservations.
   * `nonces`, the request's c_nonces, are marked used in the same write (issue 16: one commit per
   * credential request instead of two); if one was used before, no credential is recorded.
   */
  async completeIssuance(offerId: string, credentials: CredentialRow[], nonces: UsedNonce[] = []): Promise<CompletionResult> {
    if (this.ds.options.type === 'postgres') {
      const statement = completeIssuancePg(offerId, credentials, nonces);
      const [row] = await sqlAll<{ closed: number | string; fresh: number | string }>(this.ds.manager, statement.sql, statement.params);
      if (Number(row?.closed) === 1) return 'issued';
      return Number(row?.fresh) < nonces.length ? 'nonce_used' : 'offer_closed';
    }
    return inGroupCommit(this.ds, async (m) => {
      // Every nonce is written, as in the PostgreSQL statement; then one used before refuses the request.
      let fresh = 0;
      for (const n of nonces) fresh += await sqlRun(m, INSERT_NONCE, [n.value, n.office, n.expiresAt]);
      if (fresh < nonces.length) return 'nonce_used';
      const closed = await sqlRun(m, CLOSE_OFFER, [offerId]);
      if (closed !== 1) return 'offer_closed';
      for (const c of credentials) {
        await this.statusLists.markIssued(m, { statusList: c.status_list, idx: c.status_idx }, c.id, c.issued_at);
        await sqlRun(m, INSERT_CREDENTIAL.sql, INSERT_CREDENTIAL.values(c as never));
      }
      return 'issued';
    });
  }

  credentialsOf(offerId: string): Promise<CredentialRow[]> {
    return this.db((m) => m.find(CredentialTable, { where: { offer_id: offerId }, order: { issued_at: 'ASC', id: 'ASC' } }));
  }

  getCredential(office: string, id: string): Promise<CredentialRow | null> {
    return this.db((m) => m.findOneBy(CredentialTable, { office, id }));
  }

  /** Changes a credential's status and records who did it, in one transaction. */
  setCredentialStatus(office: string, id: string, status: CredentialStatus, audit: AuditInput): Promise<boolean> {
    return this.transaction(async (m) => {
      const r = await m.createQueryBuilder().update(CredentialTable).set({ status }).where('id = :id AND office = :office', { id, office }).execute();
      if (r.affected !== 1) return false;
      await this.statusLists.bumpVersions(m, office, [id]);
      await appendAuditEntry(m, IssuerAuditTable, audit);
      return true;
    });
  }

  officeKeys(office: string): Promise<OfficeKeyRow[]> {
    return this.db((m) => m.find(OfficeKeyTable, { where: { office }, order: { created_at: 'ASC', fragment: 'ASC' } }));
  }

  insertOfficeKey(row: OfficeKeyRow): Promise<void> {
    return this.db(async (m) => void (await m.upsert(OfficeKeyTable, row, ['fragment'])));
  }

  /** Marks an office key revoked (as compromised) from `at`, and audits it, in one transaction. */
  revokeOfficeKey(office: string, fragment: string, at: string, reason: string, audit: AuditInput): Promise<boolean> {
    return this.transaction(async (m) => {
      const r = await m.createQueryBuilder().update(OfficeKeyTable).set({ revoked_at: at, reason }).where('office = :office AND fragment = :fragment AND revoked_at IS NULL', { office, fragment }).execute();
      if (r.affected !== 1) return false;
      await appendAuditEntry(m, IssuerAuditTable, audit);
      return true;
    });
  }

  /** Appends to the hash-chained audit trail (admin actions: who, what, when; no personal data). */
  audit(entry: AuditInput): Promise<void> {
    return this.transaction(async (m) => void (await appendAuditEntry(m, IssuerAuditTable, entry)));
  }

  auditEntries(): Promise<AuditEntry[]> {
    return this.db((m) => readAudit(m, IssuerAuditTable));
  }

  /**
   * Which of the candidate slots of a status list are taken; the others are claimed for the caller
   * in the same step, as reservations (StatusListStore.claim).
   */
  async takenSlots(statusList: string, candidates: number[]): Promise<Set<number>> {
    const claimed = new Set(await this.statusLists.claim(statusList, candidates, new Date().toISOString()));
    return new Set(candidates.filter((c) => !claimed.has(c)));
  }

  /** Slots of a list issued or reserved. */
  countSlots(statusList: string): Promise<number> {
    return this.statusLists.count(statusList);
  }

  statusEntries(statusList: string): Promise<Pick<CredentialRow, 'status_idx' | 'status'>[]> {
    return this.db((m) => m.find(CredentialTable, { where: { status_list: statusList }, select: { status_idx: true, status: true } }));
  }
}
