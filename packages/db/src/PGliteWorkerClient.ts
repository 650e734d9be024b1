import { Worker } from 'node:worker_threads';
import { messages, type ParserOptions, type QueryOptions, type Results } from '@electric-sql/pglite';

interface WorkerError {
  message: string;
  database?: boolean;
  length?: number;
  name?: string;
  [field: string]: unknown;
}

interface Reply {
  id?: number;
  ready?: boolean;
  value?: unknown;
  error?: WorkerError;
}

type Request =
  | { op: 'query'; sql: string; params: unknown[]; raw: number[] | undefined; tx?: number }
  | { op: 'exec'; sql: string; tx?: number }
  | { op: 'rollback' | 'end'; tx: number; commit?: boolean }
  | { op: 'begin' | 'close' };

interface WireResults {
  rows: unknown[][];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}

/** What PGlite's transaction callback receives; the part Prisma's adapter and migrations use. */
export interface PGliteWorkerTransaction {
  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(sql: string): Promise<Results[]>;
  rollback(): Promise<void>;
}

/**
 * The embedded database (PGlite) running in a worker thread (`pgliteWorker.mjs`), with the part of
 * PGlite's interface Prisma's PGlite adapter, the migrations and the document store's raw appends
 * use: `query`, `exec`, `transaction`, `close`. The worker executes the SQL and writes the files;
 * this thread only copies parameters and rows. Queries and transactions are serialized by PGlite in
 * the worker exactly as in-process (a query outside a transaction waits for it to end).
 */
export class PGliteWorkerClient {
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;
  /** OIDs a caller's parsers handle, per parser set (Prisma passes the same object every time). */
  private readonly rawOids = new WeakMap<ParserOptions, number[]>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      const call = reply.id === undefined ? undefined : this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id!);
      if (this.pending.size === 0) worker.unref();
      if (reply.error) call.reject(toError(reply.error));
      else call.resolve(reply.value);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const call of this.pending.values()) call.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The embedded database's worker exited (code ${code})`)));
  }

  /** Starts the worker and opens (or creates) the database in `dataDir`. */
  static async open(dataDir: string): Promise<PGliteWorkerClient> {
    const worker = new Worker(new URL('./pgliteWorker.mjs', import.meta.url), { workerData: { dataDir } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`The embedded database's worker exited (code ${code}) while opening ${dataDir}`)));
    });
    // Idle, the worker does not keep the process alive (as PGlite in-process did not); a call does.
    worker.unref();
    return new PGliteWorkerClient(worker);
  }

  query<T>(sql: string, params: unknown[] = [], options?: QueryOptions, tx?: number): Promise<Results<T>> {
    const parsers = options?.parsers;
    const raw = parsers ? this.rawOidsOf(parsers) : undefined;
    return this.call<WireResults>({ op: 'query', sql, params: params.map(ownBytes), raw, ...(tx ? { tx } : {}) }).then((r) => {
      if (parsers) parseRaw(r, parsers);
      const rows = options?.rowMode === 'array' ? r.rows : r.rows.map((row) => Object.fromEntries(r.fields.map((f, i) => [f.name, row[i]])));
      return { rows: rows as T[], fields: r.fields, ...(r.affectedRows === undefined ? {} : { affectedRows: r.affectedRows }) };
    });
  }

  exec(sql: string, tx?: number): Promise<Results[]> {
    return this.call<Results[]>({ op: 'exec', sql, ...(tx ? { tx } : {}) });
  }

  /** Commits when `fn` resolves, rolls back when it throws (or called `tx.rollback()`). */
  async transaction<T>(fn: (tx: PGliteWorkerTransaction) => Promise<T>): Promise<T> {
    const id = await this.call<number>({ op: 'begin' });
    const tx: PGliteWorkerTransaction = {
      query: (sql, params, options) => this.query(sql, params, options, id),
      exec: (sql) => this.exec(sql, id),
      rollback: () => this.call({ op: 'rollback', tx: id }),
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (e) {
      await this.call({ op: 'end', tx: id, commit: false });
      throw e;
    }
    await this.call({ op: 'end', tx: id, commit: true });
    return result;
  }

  async close(): Promise<void> {
    if (!this.failure) await this.call({ op: 'close' });
    await this.worker.terminate();
  }

  private call<T>(request: Request): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, ...request });
    });
  }

  private rawOidsOf(parsers: ParserOptions): number[] {
    let oids = this.rawOids.get(parsers);
    if (!oids) this.rawOids.set(parsers, (oids = Object.keys(parsers).map(Number)));
    return oids;
  }
}

/**
 * A parameter as it should cross to the worker: posting a typed array copies its whole
 * ArrayBuffer, and a document update is usually a small view of a large one (ws hands out each
 * message as a slice of its 64 KiB socket read): a 30-byte keystroke would cost a 64 KiB copy on
 * this thread and a 64 KiB allocation in the worker. Such a view is copied to its own bytes first.
 */
export function ownBytes(param: unknown): unknown {
  if (!(param instanceof Uint8Array) || param.byteLength === param.buffer.byteLength) return param;
  return new Uint8Array(param.buffer, param.byteOffset, param.byteLength).slice();
}

/** Applies the caller's parsers to the columns the worker left as text. */
function parseRaw(r: WireResults, parsers: ParserOptions): void {
  const columns = r.fields.map((f, i) => [i, parsers[f.dataTypeID]] as const).filter(([, parse]) => parse);
  if (columns.length === 0) return;
  for (const row of r.rows) {
    for (const [i, parse] of columns) {
      const value = row[i];
      if (typeof value === 'string') row[i] = parse!(value);
    }
  }
}

/** PostgreSQL errors come back as PGlite's `DatabaseError` (Prisma's adapter maps them by class). */
function toError(e: WorkerError): Error {
  if (!e.database) return new Error(e.message);
  const error = new messages.DatabaseError(e.message, e.length ?? 0, (e.name ?? 'error') as messages.DatabaseError['name']);
  for (const [field, value] of Object.entries(e)) {
    if (field !== 'message' && field !== 'database' && field !== 'length' && field !== 'name' && field !== 'stack') {
      (error as unknown as Record<string, unknown>)[field] = value;
    }
  }
  return error;
}
