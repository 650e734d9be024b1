import type { DocumentStore, StoredDocument } from '../DocumentStore.ts';

export type StoreEvent =
  | { kind: 'append-start'; documentName: string; updates: readonly Uint8Array[] }
  | { kind: 'append-done'; documentName: string; updates: readonly Uint8Array[] }
  | { kind: 'compact'; documentName: string; through: number }
  | { kind: 'load'; documentName: string };

/**
 * Wraps a real store to record what reaches it, and to make it slow or failing on demand — the
 * conditions under which ordering and durability bugs show.
 */
export class ObservedStore implements DocumentStore {
  readonly events: StoreEvent[] = [];
  /** Awaited before each append completes (a slow disk). */
  appendDelay: () => Promise<void> = async () => {};
  /** Awaited before each load completes. */
  loadGate: Promise<void> = Promise.resolve();
  /** Awaited before each compaction completes. */
  compactGate: Promise<void> = Promise.resolve();
  /** Number of upcoming appends that fail. */
  failAppends = 0;
  /** Number of upcoming loads that fail. */
  failLoads = 0;

  constructor(readonly inner: DocumentStore) {}

  async load(documentName: string): Promise<StoredDocument> {
    this.events.push({ kind: 'load', documentName });
    await this.loadGate;
    if (this.failLoads > 0) {
      this.failLoads--;
      throw new Error('injected load failure');
    }
    return this.inner.load(documentName);
  }

  async append(documentName: string, updates: readonly Uint8Array[]): Promise<number> {
    this.events.push({ kind: 'append-start', documentName, updates });
    await this.appendDelay();
    if (this.failAppends > 0) {
      this.failAppends--;
      throw new Error('injected append failure');
    }
    const cursor = await this.inner.append(documentName, updates);
    this.events.push({ kind: 'append-done', documentName, updates });
    return cursor;
  }

  async compact(documentName: string, snapshot: Uint8Array, through: number): Promise<void> {
    await this.compactGate;
    await this.inner.compact(documentName, snapshot, through);
    this.events.push({ kind: 'compact', documentName, through });
  }

  appendedUpdates(documentName: string): Uint8Array[] {
    return this.events.flatMap((e) => (e.kind === 'append-done' && e.documentName === documentName ? [...e.updates] : []));
  }
}
