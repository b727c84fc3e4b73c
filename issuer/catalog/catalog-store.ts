import type { DataSource, EntityManager } from 'typeorm';
import { appendAuditEntry } from '../../core/audit/audit-table.ts';
import { jcs } from '../../core/crypto/canonical.ts';
import { zCredentialTypeDef, zOfficeDef, type CredentialTypeDef, type OfficeDef } from '../../core/catalog/model.ts';
import { inTransaction, withDb } from '../../core/store/data-source.ts';
import { IssuerAuditTable } from '../store/schema.ts';
import { CatalogOfficeTable, CatalogRevisionTable, CatalogTypeTable } from './catalog-table.ts';

/** What the database holds: every definition validated again on read. */
export interface CatalogSnapshot {
  revision: number;
  types: CredentialTypeDef[];
  offices: OfficeDef[];
  /** Rows that no longer validate (edited in the database): left out, named for the log (no personal data in them). */
  unreadable: string[];
}

export interface PutOutcome {
  created: boolean;
  changed: boolean;
  revision: number;
}

/**
 * The catalogue's storage. A change is one transaction: read the current row, compare the canonical
 * JSON (RFC 8785) of the validated definitions, and only when they differ write the row, increment
 * the revision and append the audit entry. An identical PUT writes nothing (`changed: false`), which
 * makes `config apply` idempotent. `check` runs inside the transaction before anything is written;
 * a refusal it throws leaves the database as it was.
 */
export class CatalogStore {
  constructor(private readonly ds: DataSource) {}

  revision(): Promise<number> {
    return withDb(this.ds, async (m) => (await m.findOneBy(CatalogRevisionTable, { id: 1 }))?.revision ?? 0);
  }

  load(): Promise<CatalogSnapshot> {
    return withDb(this.ds, async (m) => {
      const revision = (await m.findOneBy(CatalogRevisionTable, { id: 1 }))?.revision ?? 0;
      const unreadable: string[] = [];
      const read = <T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, body: string, name: string): T[] => {
        try {
          const r = schema.safeParse(JSON.parse(body));
          if (r.success) return [r.data];
        } catch {
          /* not JSON: reported below */
        }
        unreadable.push(name);
        return [];
      };
      const types = (await m.find(CatalogTypeTable, { order: { id: 'ASC' } })).flatMap((r) => read<CredentialTypeDef>(zCredentialTypeDef, r.body, `credential type ${r.id}`));
      const offices = (await m.find(CatalogOfficeTable, { order: { slug: 'ASC' } })).flatMap((r) => read<OfficeDef>(zOfficeDef, r.body, `office ${r.slug}`));
      return { revision, types, offices, unreadable };
    });
  }

  putType(def: CredentialTypeDef, actor: string, now: string, check: (m: EntityManager, current: CredentialTypeDef | undefined) => Promise<void>): Promise<PutOutcome> {
    return this.put(CatalogTypeTable, 'id', def.id, jcs(def), zCredentialTypeDef, actor, now, 'catalog.credential_type.put', check);
  }

  putOffice(def: OfficeDef, actor: string, now: string, check: (m: EntityManager, current: OfficeDef | undefined) => Promise<void>): Promise<PutOutcome> {
    return this.put(CatalogOfficeTable, 'slug', def.slug, jcs(def), zOfficeDef, actor, now, 'catalog.office.put', check);
  }

  /** Every stored type, validated (for the checks of an office PUT). */
  types(m: EntityManager): Promise<CredentialTypeDef[]> {
    return m.find(CatalogTypeTable).then((rows) => rows.flatMap((r) => parseStored(zCredentialTypeDef, r.body)));
  }

  /** Every stored office, validated (for the checks of a type PUT). */
  offices(m: EntityManager): Promise<OfficeDef[]> {
    return m.find(CatalogOfficeTable).then((rows) => rows.flatMap((r) => parseStored(zOfficeDef, r.body)));
  }

  /** Read-only access outside a change (checks before the transaction). */
  read<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return withDb(this.ds, fn);
  }

  private put<T>(
    table: typeof CatalogTypeTable | typeof CatalogOfficeTable,
    key: 'id' | 'slug',
    id: string,
    body: string,
    schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
    actor: string,
    now: string,
    action: string,
    check: (m: EntityManager, current: T | undefined) => Promise<void>,
  ): Promise<PutOutcome> {
    return inTransaction(this.ds, async (m) => {
      const row = (await m.findOneBy(table as never, { [key]: id } as never)) as { body: string } | null;
      const current = row ? parseStored(schema, row.body)[0] : undefined;
      const revisionRow = await m.findOneBy(CatalogRevisionTable, { id: 1 });
      const revision = revisionRow?.revision ?? 0;
      // Unchanged: nothing written, no audit entry, no revision.
      if (current !== undefined && jcs(current) === body) return { created: false, changed: false, revision };
      await check(m, current);
      if (row) await m.update(table as never, { [key]: id } as never, { body, updated_at: now } as never);
      else await m.insert(table as never, { [key]: id, body, updated_at: now } as never);
      const next = revision + 1;
      if (revisionRow) await m.update(CatalogRevisionTable, { id: 1 }, { revision: next });
      else await m.insert(CatalogRevisionTable, { id: 1, revision: next });
      // Who changed which definition, and the revision it became: the definitions hold no personal data.
      await appendAuditEntry(m, IssuerAuditTable, { at: now, actor, action, target: id, details: { revision: next, created: !row } });
      return { created: !row, changed: true, revision: next };
    });
  }
}

function parseStored<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, body: string): T[] {
  try {
    const r = schema.safeParse(JSON.parse(body));
    return r.success ? [r.data] : [];
  } catch {
    return [];
  }
}

