import type { DataSource, EntityManager, EntitySchema } from 'typeorm';
import type { AuditLog } from '../../core/access/api-key-store.ts';
import { sha256Hex } from '../../core/crypto/canonical.ts';
import { inTransaction, withDb } from '../../core/store/data-source.ts';
import { CatalogRelyingPartyTable, CatalogRevisionTable, CatalogTypeTable, type CatalogItemRow } from './tables.ts';

export type CatalogKind = 'credential-type' | 'relying-party';

const TABLE: Record<CatalogKind, EntitySchema<CatalogItemRow>> = { 'credential-type': CatalogTypeTable, 'relying-party': CatalogRelyingPartyTable };

export interface PutResult {
  created: boolean;
  changed: boolean;
  revision: number;
}

/**
 * The catalogue's rows. A change is one transaction: the row, the revision bump and the audit entry
 * (no personal data: which item, its new digest, who, when). An identical body changes nothing —
 * no row write, no revision bump, no audit entry — which makes applying a city file idempotent.
 */
export class CatalogStore {
  constructor(
    readonly ds: DataSource,
    private readonly audit: AuditLog,
  ) {}

  /** The one cheap query other processes poll (every CATALOG_REFRESH seconds). */
  async revision(): Promise<number> {
    const row = await withDb(this.ds, (m) => m.findOneBy(CatalogRevisionTable, { id: 1 }));
    return row?.revision ?? 0;
  }

  /** Revision first, rows after: a change landing in between is newer than the revision read, so the next poll reloads again. */
  async readAll(): Promise<{ revision: number; types: CatalogItemRow[]; relyingParties: CatalogItemRow[] }> {
    const revision = await this.revision();
    const types = await withDb(this.ds, (m) => m.find(CatalogTypeTable, { order: { key: 'ASC' } }));
    const relyingParties = await withDb(this.ds, (m) => m.find(CatalogRelyingPartyTable, { order: { key: 'ASC' } }));
    return { revision, types, relyingParties };
  }

  async isEmpty(): Promise<boolean> {
    return withDb(this.ds, async (m) => (await m.count(CatalogTypeTable)) === 0 && (await m.count(CatalogRelyingPartyTable)) === 0);
  }

  /** Stores `body` (canonical JSON) under `key` unless it is already exactly that. */
  put(kind: CatalogKind, key: string, body: string, by: { actor: string; at: string }): Promise<PutResult> {
    return inTransaction(this.ds, async (m) => {
      const table = TABLE[kind];
      const before = await m.findOneBy(table, { key });
      if (before && before.body === body) return { created: false, changed: false, revision: await revisionIn(m) };
      if (before) await m.update(table, { key }, { body, updated_at: by.at });
      else await m.insert(table, { key, body, updated_at: by.at });
      await m.createQueryBuilder().update(CatalogRevisionTable).set({ revision: () => 'revision + 1' }).where('id = 1').execute();
      const revision = await revisionIn(m);
      await this.audit.appendIn(m, { at: by.at, actor: by.actor, action: `catalog.${kind}.${before ? 'update' : 'create'}`, target: key, details: { revision, sha256: sha256Hex(body) } });
      return { created: !before, changed: true, revision };
    });
  }
}

async function revisionIn(m: EntityManager): Promise<number> {
  return (await m.findOneBy(CatalogRevisionTable, { id: 1 }))?.revision ?? 0;
}
