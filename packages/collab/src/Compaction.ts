import * as Y from 'yjs';
import type { DocumentStore } from './DocumentStore.ts';
import type { SyncLogger } from './SyncExtension.ts';

/**
 * When and how one document's update log is replaced by a snapshot, and its size
 * (`byteSize`: the stored snapshot plus every update since, re-measured at each compaction;
 * it bounds the document, SyncLimits.maxDocumentBytes, without encoding it per update).
 */
export class Compaction {
  byteSize = 0;
  /** The store's cursor of the last durable update. */
  private cursor = 0;
  private uncompactedUpdates = 0;
  /** Bytes of the updates appended since the last snapshot, and the size of that snapshot. */
  private uncompactedBytes = 0;
  private snapshotBytes = 0;
  private running: Promise<void> | null = null;
  private readonly threshold: number;

  constructor(
    private readonly name: string,
    private readonly ydoc: Y.Doc,
    private readonly store: DocumentStore,
    private readonly logger: SyncLogger,
    compactAfterUpdates: number,
  ) {
    this.threshold = spreadThreshold(name, compactAfterUpdates);
  }

  /** The stored state was just applied. */
  loaded(snapshot: Uint8Array | null, updates: readonly Uint8Array[], cursor: number): void {
    this.cursor = cursor;
    this.uncompactedUpdates = updates.length;
    this.uncompactedBytes = byteLength(updates);
    this.snapshotBytes = snapshot?.byteLength ?? 0;
    this.byteSize = this.uncompactedBytes + this.snapshotBytes;
  }

  /** A batch became durable: counts it and compacts when due. */
  appended(updates: readonly Uint8Array[], cursor: number): void {
    this.cursor = cursor;
    this.uncompactedUpdates += updates.length;
    this.uncompactedBytes += byteLength(updates);
    if (this.due && !this.running) void this.compact();
  }

  /** On unload: waits for a compaction in progress, then compacts what is left if `proceed()` still says so. */
  async finish(proceed: () => boolean): Promise<void> {
    await this.running;
    if (this.uncompactedUpdates > 0 && proceed()) await this.compact();
  }

  /**
   * After `compactAfterUpdates` updates, and once they add up to at least the last snapshot's size:
   * a snapshot costs time in proportion to the document, so a long document is snapshotted less
   * often and the cost per appended byte stays flat however long its history (loading replays at
   * most about a snapshot's worth of updates).
   */
  private get due(): boolean {
    return this.uncompactedUpdates >= this.threshold && this.uncompactedBytes >= this.snapshotBytes;
  }

  /** Replaces the stored snapshot with the in-memory state, which contains every durable update. */
  private compact(): Promise<void> {
    if (this.running) return this.running;
    const through = this.cursor;
    const count = this.uncompactedUpdates;
    const bytes = this.uncompactedBytes;
    const snapshot = Y.encodeStateAsUpdate(this.ydoc);
    const sizeAtSnapshot = this.byteSize;
    this.running = this.store
      .compact(this.name, snapshot, through)
      .then(
        () => {
          this.uncompactedUpdates -= count;
          this.uncompactedBytes -= bytes;
          this.snapshotBytes = snapshot.length;
          this.byteSize = snapshot.byteLength + (this.byteSize - sizeAtSnapshot);
        },
        (error: unknown) => this.logger.warn(`compaction failed for ${this.name} (the update log is intact)`, error),
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}

/**
 * `compactAfterUpdates`, spread by ±25% per document (from its name, so it is deterministic):
 * documents edited at the same pace must not all compact in the same instant.
 */
function spreadThreshold(name: string, compactAfterUpdates: number): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return Math.max(1, Math.round(compactAfterUpdates * (0.75 + (h % 1000) / 2000)));
}

function byteLength(updates: readonly Uint8Array[]): number {
  let total = 0;
  for (const update of updates) total += update.length;
  return total;
}
