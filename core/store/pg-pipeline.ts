import type { DataSource } from 'typeorm';

/**
 * The hot path's single statements on PostgreSQL, outside any transaction, go over pipelined
 * connections of node-postgres (`pipeline: true`): a statement is sent without waiting for the
 * answers to the ones before it, and PostgreSQL runs them in order, each in its own transaction
 * (every statement ends with its own Sync, so one failing fails alone).
 *
 * Why (issue 16): with a pool, every statement took a connection, woke that connection's backend,
 * waited for its answer and gave the connection back. On PostgreSQL with two instances on the
 * bench machine's two cores, sending statements was the largest single entry of the issuer's
 * profile (`writev`, three quarters of it node-postgres), and PostgreSQL's own CPU was about 2 ms
 * per issuance for five statements. Over pipelined connections the statements of concurrent
 * requests follow each other on one backend, which reads several per wake-up.
 *
 * On one connection a statement waits for those before it. A write can wait for a row lock (of a
 * transaction of another instance, or of this one); the statements behind it wait with it. So
 * reads (a SELECT, which never waits for a row lock) and writes have connections of their own, and
 * a transaction's function runs its statements through its own EntityManager, never through the
 * data source's (which comes here), as on SQLite, where the connection is taken in turn.
 * Transactions keep the pool's connections (core/store/data-source.ts).
 */

export interface PgResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}
interface PgStatementConfig {
  text: string;
  name?: string;
  values: unknown[];
}
/** The part of node-postgres' Client used here. */
export interface PgClient {
  query(config: PgStatementConfig | string): Promise<PgResult>;
  connect(): Promise<void>;
  end(): Promise<void>;
  on(event: 'error' | 'end', listener: (e?: unknown) => void): void;
}
interface Lane {
  client: Promise<PgClient>;
  inFlight: number;
  /** Takes the lane out of its place (a new one opens there on the next statement) and closes its connection. */
  drop(): void;
}
export type StatementKind = 'read' | 'write';
interface Pipelines {
  lanes: Record<StatementKind, (Lane | undefined)[]>;
  closed: boolean;
}

/**
 * Pipelined connections per data source and kind, at most (opened when first needed). A statement
 * goes to the first of its kind with fewer than SPILL_AT statements in flight, else to the one with
 * the fewest. Under the bench's load the first carries nearly all (the more statements a backend
 * finds waiting, the fewer wake-ups); the next take over while it is held up: by a row lock, or by
 * its commits, each of which waits for its WAL flush (with `synchronous_commit` on, one flush after
 * another on one connection, where concurrent connections share one).
 */
export const PIPELINED_CONNECTIONS: Record<StatementKind, number> = { read: 2, write: 4 };
const SPILL_AT = 8;

const pipelines = new WeakMap<DataSource, Pipelines>();

/**
 * Which connections a statement text goes to: a plain SELECT only reads and never waits for a row
 * lock; anything else (WITH, RETURNING, FOR UPDATE) counts as a write. Computed once per text by
 * the caller's statement cache (core/store/prepared.ts).
 */
export function statementKind(text: string): StatementKind {
  return /^\s*SELECT\b/i.test(text) && !/\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b/i.test(text) ? 'read' : 'write';
}

/** Runs one statement on a pipelined connection of `ds` (PostgreSQL). */
export async function pipelinedQuery(ds: DataSource, config: PgStatementConfig, kind: StatementKind): Promise<PgResult> {
  let p = pipelines.get(ds);
  if (!p) pipelines.set(ds, (p = { lanes: { read: [], write: [] }, closed: false }));
  if (p.closed) throw new Error('the data source is closed');
  const lanes = p.lanes[kind];
  let at = -1;
  for (let i = 0; i < PIPELINED_CONNECTIONS[kind]; i++) {
    const inFlight = lanes[i]?.inFlight ?? 0;
    if (inFlight < SPILL_AT) {
      at = i;
      break;
    }
    if (at < 0 || inFlight < lanes[at]!.inFlight) at = i;
  }
  const lane = lanes[at] ?? (lanes[at] = openLane(ds, lanes, at));
  lane.inFlight++;
  try {
    const client = await lane.client;
    return await client.query(config);
  } catch (e) {
    // A broken connection (no answer of the server, which has a severity) or a session the server
    // ended (FATAL, PANIC): the next statement opens another connection, without waiting for this
    // one's own 'end' or 'error' event. (Ending a live connection lets its statements in flight
    // finish first, so a wrong guess costs a new connection, nothing more.)
    const severity = (e as { severity?: unknown } | undefined)?.severity;
    if (typeof severity !== 'string' || severity === 'FATAL' || severity === 'PANIC') lane.drop();
    throw e;
  } finally {
    lane.inFlight--;
  }
}

/** A new connection with the pool's settings; dropped from its place when it fails or ends, so the next statement opens another. */
function openLane(ds: DataSource, lanes: (Lane | undefined)[], at: number): Lane {
  const drop = () => {
    if (lanes[at] !== lane) return;
    lanes[at] = undefined;
    void client.then((c) => c.end()).catch(() => undefined);
  };
  const client = (async () => {
    const { default: pg } = await import('pg');
    // The pool's own settings (TypeORM built them from the data source's options); its password is
    // not enumerable, so it is named.
    const options = (ds.driver as unknown as { master: { options: Record<string, unknown> & { password?: unknown } } }).master.options;
    const connection = new pg.Client({ ...options, password: options.password, pipeline: true } as never) as unknown as PgClient;
    // A connection error reaches the statements in flight; without a listener it would end the process.
    connection.on('error', drop);
    connection.on('end', drop);
    try {
      await connection.connect();
    } catch (e) {
      drop();
      throw e;
    }
    return connection;
  })();
  client.catch(() => undefined);
  const lane: Lane = { client, inFlight: 0, drop };
  return lane;
}

/** The pipelined connections of `ds` open now, by kind (tests and diagnostics). */
export async function pipelinedConnections(ds: DataSource): Promise<Record<StatementKind, PgClient[]>> {
  const p = pipelines.get(ds);
  const open = async (lanes: (Lane | undefined)[] = []) => (await Promise.all(lanes.map((l) => l?.client.catch(() => undefined)))).filter((c): c is PgClient => c !== undefined);
  return { read: await open(p?.lanes.read), write: await open(p?.lanes.write) };
}

/** Ends the pipelined connections of `ds` (with the data source). */
export async function closePipelines(ds: DataSource): Promise<void> {
  const p = pipelines.get(ds);
  if (!p) return;
  p.closed = true;
  const lanes = [...p.lanes.read, ...p.lanes.write].filter((l): l is Lane => l !== undefined);
  p.lanes = { read: [], write: [] };
  await Promise.all(lanes.map(async (l) => (await l.client.catch(() => undefined))?.end().catch(() => undefined)));
}
