import { CLOSE_CODES, isAppError } from '@tandem/protocol';
import { LiveDocument, type LiveDocumentContext } from './LiveDocument.ts';
import { SyncConnection } from './SyncConnection.ts';
import type { SyncLogger } from './SyncExtension.ts';
import type { TimerHandle, Timers } from './Timers.ts';
import { closeCodeFor } from './ClientMessages.ts';

export interface DocumentRegistryOptions {
  context: Omit<LiveDocumentContext, 'failed'>;
  timers: Timers;
  logger: SyncLogger;
  unloadAfterIdleMs: number;
  /** Whether the server is shutting down (no idle unloads are scheduled then). */
  closing(): boolean;
  closeConnection(connection: SyncConnection, code: number, reason: string): void;
}

/**
 * The documents in memory: loaded on first use, unloaded after `unloadAfterIdleMs` without
 * peers or holds (flush, store hooks, compaction), forgotten when their load or append failed.
 * A document being unloaded stays in the map until it is gone, so whoever asks for it meanwhile
 * waits and then loads the stored state afresh.
 */
export class DocumentRegistry {
  private readonly documents = new Map<string, LiveDocument>();
  private readonly unloads = new Map<LiveDocument, Promise<void>>();
  private readonly idleTimers = new Map<LiveDocument, TimerHandle>();
  private readonly context: LiveDocumentContext;

  constructor(private readonly o: DocumentRegistryOptions) {
    this.context = { ...o.context, failed: (document, error) => this.failed(document, error) };
  }

  get names(): string[] {
    return [...this.documents.keys()];
  }

  /** The in-memory document for `name`, loading it if needed; waits out an unload in progress. */
  async acquire(name: string): Promise<LiveDocument> {
    for (;;) {
      const existing = this.documents.get(name);
      if (!existing) break;
      const unloading = this.unloads.get(existing);
      if (!unloading) return existing;
      await unloading;
    }
    const document = new LiveDocument(name, this.context);
    this.documents.set(name, document);
    document.ready.then(() => this.scheduleIdleUnload(document), () => {});
    return document;
  }

  /** Runs `use` on the loaded document `name`, keeping it in memory meanwhile (server-side reads and edits). */
  async hold<T>(name: string, use: (document: LiveDocument) => Promise<T> | T): Promise<T> {
    const document = await this.acquire(name);
    document.holds++;
    this.cancelIdleUnload(document);
    try {
      await document.ready;
      return await use(document);
    } finally {
      document.holds--;
      this.scheduleIdleUnload(document);
    }
  }

  /** Restarts the idle time of a document in memory (no-op otherwise). */
  touch(name: string): void {
    const document = this.documents.get(name);
    if (!document || !this.idleTimers.has(document)) return;
    this.cancelIdleUnload(document);
    this.scheduleIdleUnload(document);
  }

  scheduleIdleUnload(document: LiveDocument): void {
    if (document.peers.size > 0 || document.holds > 0 || document.phase !== 'ready') return;
    if (this.idleTimers.has(document) || this.o.closing()) return;
    const timer = this.o.timers.setTimeout(() => {
      this.idleTimers.delete(document);
      void this.unload(document, false);
    }, this.o.unloadAfterIdleMs);
    this.idleTimers.set(document, timer);
  }

  cancelIdleUnload(document: LiveDocument): void {
    const timer = this.idleTimers.get(document);
    if (!timer) return;
    this.o.timers.clearTimeout(timer);
    this.idleTimers.delete(document);
  }

  /** Shutdown: flushes every document, closes its clients with 4000 (reconnect) and unloads it. */
  async shutDown(): Promise<void> {
    await Promise.all([...this.documents.values()].map((document) => this.shutDownDocument(document)));
    await Promise.all(this.unloads.values());
  }

  /** The bus may have lost messages: every loaded document merges the store in again. */
  resync(): void {
    for (const document of this.documents.values()) {
      document.resync().catch((error: unknown) => this.o.logger.warn(`resyncing ${document.name} after a bus reconnect failed`, error));
    }
  }

  private async shutDownDocument(document: LiveDocument): Promise<void> {
    this.cancelIdleUnload(document);
    const unloading = this.unloads.get(document);
    if (unloading) return unloading;
    try {
      await document.ready;
      await document.flush();
    } catch {
      // Load or append failed: `failed` already closed its clients and dropped it.
      return;
    }
    for (const peer of [...document.peers]) {
      if (peer instanceof SyncConnection) this.o.closeConnection(peer, CLOSE_CODES.RECONNECT, 'Server restarting.');
    }
    await this.unload(document, true);
  }

  /** Flushes, stores and drops a document. The map entry stays until the unload finished, so
   * a connection arriving meanwhile waits and then loads the stored state afresh. */
  private unload(document: LiveDocument, force: boolean): Promise<void> {
    const running = this.unloads.get(document);
    if (running) return running;
    if (document.phase !== 'ready') return Promise.resolve();
    if (!force && (document.peers.size > 0 || document.holds > 0)) return Promise.resolve();
    const unloading = document
      .unload()
      .catch((error: unknown) => this.o.logger.error(`unloading ${document.name} failed`, error))
      .finally(() => {
        if (this.documents.get(document.name) === document) this.documents.delete(document.name);
        this.unloads.delete(document);
      });
    this.unloads.set(document, unloading);
    return unloading;
  }

  /** Load or append failed for good: close its clients (they keep their edits and resend them on
   * reconnect) and forget the in-memory state without storing anything. */
  private failed(document: LiveDocument, error: unknown): void {
    this.o.logger.error(`document ${document.name} failed`, error);
    this.cancelIdleUnload(document);
    if (this.documents.get(document.name) === document) this.documents.delete(document.name);
    for (const peer of [...document.peers]) {
      if (peer instanceof SyncConnection) {
        this.o.closeConnection(peer, closeCodeFor(error), isAppError(error) ? error.message : 'Document unavailable.');
      }
    }
    document.destroy('failed');
  }
}
