import { conflict, type ProblemError } from '../../core/http/errors.ts';
import { appendAuditEntry, type AuditInput } from '../../core/audit/audit-table.ts';
import type { IssuerStore } from './issuer-store.ts';
import { CredentialTable, IssuerAuditTable, type CredentialRow, type CredentialStatus, type OfferRow } from './schema.ts';

/**
 * What the clerk's desk shows of an offer (`state` of GET /api/offices/{slug}/offers/{id}), next to
 * the coarser `status` (pending | issued | expired) of docs/contract.md:
 * - `waiting`: the citizen has not collected it yet (code not redeemed, or the wallet is fetching);
 * - `awaiting_approval`: the wallet redeemed the code, the office must approve first (OID4VCI 1.0 §9 deferred);
 * - `approved`: approved after the wallet asked; the wallet collects it at the deferred endpoint;
 * - `collected`: issued to the wallet (all batch copies);
 * - `locked`: too many wrong transaction codes (issuer/store/issuer-store.ts MAX_TX_CODE_FAILURES);
 * - `expired`: not redeemed in time.
 */
export type DeskState = 'waiting' | 'awaiting_approval' | 'approved' | 'collected' | 'locked' | 'expired';

export function deskState(row: Pick<OfferRow, 'state' | 'approval' | 'approved_at' | 'expires_at'>, now: number): DeskState {
  switch (row.state) {
    case 'issued':
      return 'collected';
    case 'locked':
      return 'locked';
    case 'pending':
      return row.expires_at <= now ? 'expired' : 'waiting';
    case 'token_issued':
    case 'deferred':
      if (row.approval !== 'manual') return 'waiting';
      return row.approved_at ? 'approved' : 'awaiting_approval';
  }
}

export interface OfferStatusChange {
  /** Every credential of the offer after the change (all batch copies). */
  credentials: CredentialRow[];
  /** Ids of the copies whose status changed (one audit entry each). */
  changed: string[];
}

/**
 * Sets the status of every credential issued for one offer (all batch copies) in ONE transaction,
 * with one audit entry per copy that changes. `refuse` sees the copies as read inside the
 * transaction and may return a problem: then nothing is changed for any copy. The UPDATE is
 * conditional as well (a revoked copy is never set back), so a concurrent revocation in another
 * process cannot be undone between the read and the write: the whole change is refused instead.
 * Returns null when the offer has no credentials.
 */
export function setOfferCredentialsStatus(
  store: IssuerStore,
  office: string,
  offerId: string,
  status: CredentialStatus,
  refuse: (copies: CredentialRow[]) => ProblemError | undefined,
  audit: (c: CredentialRow) => AuditInput,
): Promise<OfferStatusChange | null> {
  return store.transaction(async (m) => {
    const copies = await m.find(CredentialTable, { where: { office, offer_id: offerId }, order: { issued_at: 'ASC', id: 'ASC' } });
    if (copies.length === 0) return null;
    const problem = refuse(copies);
    if (problem) throw problem;
    const changing = copies.filter((c) => c.status !== status);
    if (changing.length > 0) {
      const q = m
        .createQueryBuilder()
        .update(CredentialTable)
        .set({ status })
        .where('office = :office AND offer_id = :offerId AND id IN (:...ids)', { office, offerId, ids: changing.map((c) => c.id) });
      // Token Status List: INVALID is final; the condition keeps it so under concurrent changes.
      if (status !== 'revoked') q.andWhere('status <> :revoked', { revoked: 'revoked' });
      const r = await q.execute();
      if (r.affected !== changing.length) throw conflict('credential-revoked', 'Eine Kopie wurde gleichzeitig widerrufen; nichts wurde geändert. / A copy was revoked at the same time; nothing was changed.');
      await store.statusLists.bumpVersions(m, office, changing.map((c) => c.id));
      for (const c of changing) await appendAuditEntry(m, IssuerAuditTable, audit(c));
    }
    return { credentials: copies.map((c) => ({ ...c, status })), changed: changing.map((c) => c.id) };
  });
}
