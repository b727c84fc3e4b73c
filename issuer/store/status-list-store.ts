import type { DataSource, EntityManager } from 'typeorm';
import { inGroupCommit, inTransaction, withDb } from '../../core/store/data-source.ts';
import { selectAll, sqlAll, sqlOne, sqlRun } from '../../core/store/prepared.ts';
import { StatusListTable, type StatusListFamily, type StatusListRow } from './schema.ts';

/** A slot: one index in one status list. */
export interface StatusSlotRef {
  statusList: string;
  idx: number;
}

/** The stored name of list `number` of an office and family; credentials record it in `status_list`. */
export const statusListName = (office: string, family: StatusListFamily, number: number) => `${family}:${office}:${number}`;

/**
 * Storage of the status lists and their slots (migrations 0005, 0007). A slot row (primary key list
 * and index) is inserted once by whoever claims it, so two requests in flight, in one process or in
 * several, never draw the same index. A claimed slot is a reservation (`credential_id` null) until
 * the transaction that records its credential marks it (IssuerStore.completeIssuance); a reservation
 * whose issuance fails is deleted again.
 */
const SELECT_LIST = selectAll(StatusListTable as never);
/** A stored list row with numbers as numbers (PostgreSQL may return them as text). */
const listRow = (r: Record<string, unknown> | undefined): StatusListRow | null => (r ? ({ ...r, number: Number(r.number), size: Number(r.size) } as unknown as StatusListRow) : null);

export class StatusListStore {
  /**
   * The newest list this process knows per office and family. A list row never changes, and a
   * newer one is only opened when this one is full (openList, which updates this), so issuance
   * reads it from memory (issue 16: one statement per issuance less). A list another process
   * opened is found by openList, idempotent, when this one turns out full.
   */
  private readonly newest = new Map<string, StatusListRow>();

  constructor(private readonly ds: DataSource) {}

  private get pg(): boolean {
    return this.ds.options.type === 'postgres';
  }

  /** `?` placeholders in SQLite form, `$n` on PostgreSQL. */
  private sql(text: string): string {
    let n = 0;
    return this.pg ? text.replace(/\?/g, () => `$${++n}`) : text;
  }

  private db<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return withDb(this.ds, fn);
  }

  /** The list's version: raised by every status change of one of its credentials (0 before the first). */
  version(statusList: string): Promise<number> {
    return this.db(async (m) => Number((await sqlOne<{ version: number }>(m, 'SELECT version FROM issuer_status_list_versions WHERE status_list = ?', [statusList]))?.version ?? 0));
  }

  /**
   * Raises the version of the lists of these credentials, inside the caller's transaction (the one
   * that changes their status), so no reader can see the new status under the old version for long.
   */
  async bumpVersions(m: EntityManager, office: string, credentialIds: string[]): Promise<void> {
    for (const id of credentialIds) {
      // `WHERE true`: SQLite's parser needs a WHERE before ON CONFLICT in INSERT … SELECT (SQLite "upsert" §2.2).
      await sqlRun(
        m,
        'INSERT INTO issuer_status_list_versions (status_list, version) SELECT status_list, 1 FROM issuer_credentials WHERE id = ? AND office = ? AND true ON CONFLICT (status_list) DO UPDATE SET version = issuer_status_list_versions.version + 1',
        [id, office],
      );
    }
  }

  getList(statusList: string): Promise<StatusListRow | null> {
    return this.db(async (m) => listRow(await sqlOne(m, `${SELECT_LIST} WHERE status_list = ?`, [statusList])));
  }

  /** The newest list of an office and family, or null before its first issuance. */
  async newestList(office: string, family: StatusListFamily): Promise<StatusListRow | null> {
    const known = this.newest.get(`${family}:${office}`);
    if (known) return known;
    const row = await this.db(async (m) => listRow(await sqlOne(m, `${SELECT_LIST} WHERE office = ? AND family = ? ORDER BY number DESC LIMIT 1`, [office, family])));
    if (row) this.remember(row);
    return row;
  }

  private remember(row: StatusListRow): void {
    const key = `${row.family}:${row.office}`;
    if ((this.newest.get(key)?.number ?? 0) < row.number) this.newest.set(key, row);
  }

  /**
   * Opens list `number` with `size` slots. Idempotent: concurrent callers (processes, instances)
   * that find the same list full all get the one row that was inserted first.
   */
  async openList(office: string, family: StatusListFamily, number: number, size: number, at: string): Promise<StatusListRow> {
    const row: StatusListRow = { status_list: statusListName(office, family, number), office, family, number, size, created_at: at };
    await this.db((m) => m.createQueryBuilder().insert().into(StatusListTable).values(row).orIgnore().execute());
    const stored = await this.getList(row.status_list);
    if (!stored) throw new Error('status list row missing after insert');
    this.remember(stored);
    return stored;
  }

  /**
   * Claims those of the candidate slots that are free, as reservations; returns the claimed ones.
   * On PostgreSQL one INSERT … ON CONFLICT DO NOTHING; on SQLite one writer at a time (BEGIN
   * IMMEDIATE, across processes too), and each INSERT OR IGNORE reports whether it inserted.
   */
  async claim(statusList: string, candidates: number[], at: string): Promise<number[]> {
    if (candidates.length === 0) return [];
    if (this.pg) {
      const rows = await sqlAll<{ status_idx: number }>(
        this.ds.manager,
        'INSERT INTO issuer_status_slots (status_list, status_idx, claimed_at) SELECT ?, x, ? FROM unnest(CAST(? AS int[])) AS x ON CONFLICT DO NOTHING RETURNING status_idx',
        [statusList, at, candidates],
      );
      return rows.map((r) => Number(r.status_idx));
    }
    const insert = 'INSERT OR IGNORE INTO issuer_status_slots (status_list, status_idx, claimed_at) VALUES (?, ?, ?)';
    // One candidate (one credential per request, the usual case): one statement, atomic by itself, and
    // its change count says whether it inserted; no transaction around it (issue 16: three statements less).
    if (candidates.length === 1) return inGroupCommit(this.ds, async (m) => ((await sqlRun(m, insert, [statusList, candidates[0], at])) === 1 ? [candidates[0]!] : []));
    return inTransaction(this.ds, async (m) => {
      const claimed: number[] = [];
      for (const idx of candidates) {
        if ((await sqlRun(m, insert, [statusList, idx, at])) === 1) claimed.push(idx);
      }
      return claimed;
    });
  }

  /** Which of the candidates are taken (issued or reserved); all taken indices of the list without candidates. */
  async taken(statusList: string, candidates?: number[]): Promise<Set<number>> {
    if (candidates && candidates.length === 0) return new Set();
    const rows: { status_idx: number }[] = await this.db((m) =>
      candidates
        ? m.query(this.sql(`SELECT status_idx FROM issuer_status_slots WHERE status_list = ? AND status_idx IN (${candidates.map(() => '?').join(', ')})`), [statusList, ...candidates])
        : m.query(this.sql('SELECT status_idx FROM issuer_status_slots WHERE status_list = ?'), [statusList]),
    );
    return new Set(rows.map((r) => Number(r.status_idx)));
  }

  /** Slots of a list issued or reserved. */
  count(statusList: string): Promise<number> {
    return this.db(async (m) => Number((await m.query(this.sql('SELECT count(*) AS n FROM issuer_status_slots WHERE status_list = ?'), [statusList]))[0].n));
  }

  /**
   * Gives reservations back (an issuance that failed before its credential left). A slot whose
   * credential was recorded is never released, whatever the caller believes.
   */
  async release(slots: StatusSlotRef[]): Promise<void> {
    if (slots.length === 0) return;
    await inTransaction(this.ds, async (m) => {
      for (const s of slots) {
        await m.query(
          this.sql(
            'DELETE FROM issuer_status_slots WHERE status_list = ? AND status_idx = ? AND credential_id IS NULL AND NOT EXISTS (SELECT 1 FROM issuer_credentials c WHERE c.status_list = issuer_status_slots.status_list AND c.status_idx = issuer_status_slots.status_idx)',
          ),
          [s.statusList, s.idx],
        );
      }
    });
  }

  /**
   * In the caller's transaction: marks a reserved slot as its credential's. A slot that is no longer
   * reserved (its reservation was swept) is claimed here. A slot another credential holds stays
   * unchanged; the unique (list, index) of issuer_credentials then fails the caller's transaction.
   */
  async markIssued(m: EntityManager, slot: StatusSlotRef, credentialId: string, at: string): Promise<void> {
    await sqlRun(
      m,
      'INSERT INTO issuer_status_slots (status_list, status_idx, claimed_at, credential_id) VALUES (?, ?, ?, ?) ON CONFLICT (status_list, status_idx) DO UPDATE SET credential_id = excluded.credential_id WHERE issuer_status_slots.credential_id IS NULL',
      [slot.statusList, slot.idx, at, credentialId],
    );
  }

  /** Deletes reservations claimed before `before` that no credential was recorded for (a crash between claim and record). */
  purgeStaleReservations(before: string): Promise<void> {
    return this.db(async (m) => {
      await m.query(
        this.sql(
          'DELETE FROM issuer_status_slots WHERE credential_id IS NULL AND claimed_at < ? AND NOT EXISTS (SELECT 1 FROM issuer_credentials c WHERE c.status_list = issuer_status_slots.status_list AND c.status_idx = issuer_status_slots.status_idx)',
        ),
        [before],
      );
    });
  }
}
