import type { DocumentStore, StoredDocument } from './DocumentStore.ts';

interface MemoryEntry {
  snapshot: Uint8Array | null;
  snapshotCursor: number;
  updates: { cursor: number; update: Uint8Array }[];
}

/**
 * In-process `DocumentStore` for tests and throwaway servers. Copies bytes in and out so callers
 * can never alias stored data. Cursors are global and increasing, like a database sequence.
 */
export class MemoryDocumentStore implements DocumentStore {
  private readonly entries = new Map<string, MemoryEntry>();
  private nextCursor = 1;

  async load(documentName: string): Promise<StoredDocument> {
    const entry = this.entries.get(documentName);
    if (!entry) return { snapshot: null, updates: [], cursor: 0 };
    const last = entry.updates.at(-1);
    return {
      snapshot: entry.snapshot ? entry.snapshot.slice() : null,
      updates: entry.updates.map((u) => u.update.slice()),
      cursor: last ? last.cursor : entry.snapshotCursor,
    };
  }

  async append(documentName: string, updates: readonly Uint8Array[]): Promise<number> {
    const entry = this.entry(documentName);
    for (const update of updates) entry.updates.push({ cursor: this.nextCursor++, update: update.slice() });
    return this.nextCursor - 1;
  }

  async compact(documentName: string, snapshot: Uint8Array, through: number): Promise<void> {
    const entry = this.entry(documentName);
    entry.snapshot = snapshot.slice();
    entry.snapshotCursor = Math.max(entry.snapshotCursor, through);
    entry.updates = entry.updates.filter((u) => u.cursor > through);
  }

  /** Names of every document with stored data. */
  documentNames(): string[] {
    return [...this.entries.keys()];
  }

  /** How many updates are waiting for compaction (for tests and diagnostics). */
  pendingUpdateCount(documentName: string): number {
    return this.entries.get(documentName)?.updates.length ?? 0;
  }

  private entry(documentName: string): MemoryEntry {
    let entry = this.entries.get(documentName);
    if (!entry) {
      entry = { snapshot: null, snapshotCursor: 0, updates: [] };
      this.entries.set(documentName, entry);
    }
    return entry;
  }
}
