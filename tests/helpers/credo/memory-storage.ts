/**
 * A Credo StorageService (@credo-ts/core 0.6) that keeps records in memory, for the test holder.
 *
 * Written here because Credo's stores need native code (Askar's FFI library) or a database driver
 * set-up (drizzle); a wallet in one test run needs neither. Records are kept as their JSON and their
 * tags, per agent context and record type, and read back as fresh instances, as a real store would.
 *
 * Query semantics (Credo's StorageService `Query`): every member of a simple query must match a tag;
 * an array value matches a tag that holds all its items; a scalar matches an equal tag or an array
 * tag that holds it; `null` matches a missing tag; `undefined` is ignored. `$and`, `$or` and `$not`
 * combine queries.
 */
import {
  JsonTransformer,
  RecordDuplicateError,
  RecordNotFoundError,
  type AgentContext,
  type BaseRecord,
  type BaseRecordConstructor,
  type Query,
  type QueryOptions,
  type StorageService,
} from '@credo-ts/core';

type Tags = Record<string, unknown>;
type Stored = { type: string; value: Record<string, unknown>; tags: Tags };
type AnyRecord = BaseRecord<any, any, any>;

export class MemoryStorageService<T extends AnyRecord = AnyRecord> implements StorageService<T> {
  readonly supportsCursorPagination = false;
  /** contextCorrelationId → record id → stored record. */
  private readonly contexts = new Map<string, Map<string, Stored>>();

  private records(ctx: AgentContext): Map<string, Stored> {
    let m = this.contexts.get(ctx.contextCorrelationId);
    if (!m) this.contexts.set(ctx.contextCorrelationId, (m = new Map()));
    return m;
  }

  private toStored(record: T): Stored {
    const value = JsonTransformer.toJSON(record) as Record<string, unknown>;
    delete value._tags;
    return { type: record.type, value, tags: structuredClone(record.getTags() as Tags) };
  }

  private fromStored(cls: BaseRecordConstructor<T>, s: Stored): T {
    const record = JsonTransformer.fromJSON(s.value, cls);
    record.replaceTags(structuredClone(s.tags) as never);
    return record;
  }

  private find(ctx: AgentContext, cls: BaseRecordConstructor<T>, id: string): Stored {
    const s = this.records(ctx).get(id);
    if (!s || s.type !== cls.type) throw new RecordNotFoundError(`record ${id} of type ${cls.type} not found`, { recordType: cls.type });
    return s;
  }

  async save(ctx: AgentContext, record: T): Promise<void> {
    record.updatedAt = new Date();
    const records = this.records(ctx);
    if (records.has(record.id)) throw new RecordDuplicateError(`record ${record.id} already exists`, { recordType: record.type });
    records.set(record.id, this.toStored(record));
  }

  async update(ctx: AgentContext, record: T): Promise<void> {
    record.updatedAt = new Date();
    this.find(ctx, record.constructor as BaseRecordConstructor<T>, record.id);
    this.records(ctx).set(record.id, this.toStored(record));
  }

  async delete(ctx: AgentContext, record: T): Promise<void> {
    await this.deleteById(ctx, record.constructor as BaseRecordConstructor<T>, record.id);
  }

  async deleteById(ctx: AgentContext, cls: BaseRecordConstructor<T>, id: string): Promise<void> {
    this.find(ctx, cls, id);
    this.records(ctx).delete(id);
  }

  async getById(ctx: AgentContext, cls: BaseRecordConstructor<T>, id: string): Promise<T> {
    return this.fromStored(cls, this.find(ctx, cls, id));
  }

  async getAll(ctx: AgentContext, cls: BaseRecordConstructor<T>): Promise<T[]> {
    return [...this.records(ctx).values()].filter((s) => s.type === cls.type).map((s) => this.fromStored(cls, s));
  }

  async findByQuery(ctx: AgentContext, cls: BaseRecordConstructor<T>, query: Query<T>, options?: QueryOptions): Promise<T[]> {
    if (options?.cursor) throw new Error('cursor pagination is not supported by this store');
    const hits = [...this.records(ctx).values()].filter((s) => s.type === cls.type && matches(s.tags, query as Q));
    const offset = options?.offset ?? 0;
    const page = hits.slice(offset, options?.limit === undefined ? undefined : offset + options.limit);
    return page.map((s) => this.fromStored(cls, s));
  }
}

type Q = { $and?: Q[]; $or?: Q[]; $not?: Q } & Record<string, unknown>;

function matches(tags: Tags, q: Q): boolean {
  for (const [key, want] of Object.entries(q)) {
    if (want === undefined) continue;
    if (key === '$and') {
      if (!(want as Q[]).every((sub) => matches(tags, sub))) return false;
    } else if (key === '$or') {
      const subs = want as Q[];
      if (subs.length > 0 && !subs.some((sub) => matches(tags, sub))) return false;
    } else if (key === '$not') {
      if (matches(tags, want as Q)) return false;
    } else if (!tagMatches(tags[key], want)) return false;
  }
  return true;
}

function tagMatches(have: unknown, want: unknown): boolean {
  if (want === undefined) return true;
  if (want === null) return have === undefined || have === null;
  if (Array.isArray(want)) return Array.isArray(have) && want.every((w) => have.includes(w));
  if (Array.isArray(have)) return have.includes(want);
  return have === want;
}
