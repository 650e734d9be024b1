/**
 * Persistence contract the app implements (Prisma in production). A document is stored as an
 * optional snapshot plus an append-only log of Yjs updates (update format V1). The server appends
 * every change before anyone else sees it and now and then compacts the log into a snapshot.
 *
 * Cursors are numbers the store hands out, increasing with every append to the same document
 * (a database row id works). The server only ever passes back cursors it was given.
 */
export interface DocumentStore {
  /** Everything stored for `documentName`. A document never stored loads as empty. */
  load(documentName: string): Promise<StoredDocument>;

  /**
   * Appends `updates` (in order) and resolves with the cursor of the last one, only once they are
   * durable: the server broadcasts them as soon as this resolves. Must not resolve partially:
   * reject if the updates may not all be stored (the server retries, so duplicates are harmless:
   * Yjs updates are idempotent).
   */
  append(documentName: string, updates: readonly Uint8Array[]): Promise<number>;

  /**
   * Atomically replaces the snapshot with `snapshot` (which contains every update up to and
   * including cursor `through` that this node has seen) and drops those updates. Updates appended
   * after `through` must survive: compaction runs concurrently with appends. With several nodes
   * (a `bus`), `snapshot` may lack updates other nodes appended: the store must then merge the
   * stored snapshot and the updates it drops into it (PrismaDocumentStore does).
   */
  compact(documentName: string, snapshot: Uint8Array, through: number): Promise<void>;
}

export interface StoredDocument {
  /** Merged state written by the last compaction, or null if there was none. */
  snapshot: Uint8Array | null;
  /** Updates appended after that snapshot, in append order. */
  updates: Uint8Array[];
  /** Cursor of the last of `updates` (or of the last compaction when there are none; 0 if never stored). */
  cursor: number;
}
