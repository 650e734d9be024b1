import type * as Y from 'yjs';
import type { BusChange } from './DocumentBus.ts';
import type { ChangePayload, StoreDocumentPayload, SyncExtension, SyncLogger } from './SyncExtension.ts';
import type { TimerHandle, Timers } from './Timers.ts';

export interface DocumentHooksSettings {
  storeDebounceMs: number;
  storeMaxWaitMs: number;
}

/**
 * The extension hooks of one document that run after its changes: `onChange` per durable change,
 * in commit order, on a promise chain (a slow hook delays later hooks, not syncing), and
 * `onStoreDocument` debounced after changes and once on unload. Errors are logged: the change is
 * already durable.
 */
export class DocumentHooks {
  private changeHooks: Promise<void> = Promise.resolve();
  private storeHooks: Promise<void> = Promise.resolve();
  private storeDebounce: TimerHandle | null = null;
  private storeMaxWait: TimerHandle | null = null;
  readonly hasChangeHooks: boolean;
  private readonly hasStoreHooks: boolean;

  constructor(
    private readonly name: string,
    private readonly ydoc: Y.Doc,
    private readonly extensions: readonly SyncExtension[],
    private readonly timers: Timers,
    private readonly logger: SyncLogger,
    private readonly settings: DocumentHooksSettings,
  ) {
    this.hasChangeHooks = extensions.some((e) => e.onChange);
    this.hasStoreHooks = extensions.some((e) => e.onStoreDocument);
  }

  /** Queues onChange for a durable change; `decoded` is the client's update as the server read it. */
  changed(change: BusChange, remote: boolean, decoded?: ChangePayload['decoded']): void {
    if (!this.hasChangeHooks) return;
    const payload: ChangePayload = {
      documentName: this.name,
      document: this.ydoc,
      update: change.update,
      user: change.user,
      origin: change.origin,
      remote,
      ...(decoded ? { decoded } : {}),
    };
    this.changeHooks = this.changeHooks.then(async () => {
      try {
        for (const extension of this.extensions) await extension.onChange?.(payload);
      } catch (error) {
        this.logger.error(`onChange failed for ${this.name}`, error);
      }
    });
  }

  /** (Re)starts the onStoreDocument debounce after a change. */
  scheduleStore(): void {
    if (!this.hasStoreHooks) return;
    if (this.storeDebounce) this.timers.clearTimeout(this.storeDebounce);
    this.storeDebounce = this.timers.setTimeout(() => this.storeAfterDebounce(), this.settings.storeDebounceMs);
    this.storeMaxWait ??= this.timers.setTimeout(() => this.storeAfterDebounce(), this.settings.storeMaxWaitMs);
  }

  /** Lets every queued hook finish, then runs onStoreDocument('unload'). */
  async unload(): Promise<void> {
    this.cancelTimers();
    await this.changeHooks;
    await this.storeHooks;
    await this.runStoreHooks('unload');
  }

  cancelTimers(): void {
    if (this.storeDebounce) this.timers.clearTimeout(this.storeDebounce);
    if (this.storeMaxWait) this.timers.clearTimeout(this.storeMaxWait);
    this.storeDebounce = null;
    this.storeMaxWait = null;
  }

  private storeAfterDebounce(): void {
    this.cancelTimers();
    this.storeHooks = this.storeHooks.then(() => this.runStoreHooks('debounce'));
  }

  private async runStoreHooks(reason: StoreDocumentPayload['reason']): Promise<void> {
    if (!this.hasStoreHooks) return;
    try {
      for (const extension of this.extensions) {
        await extension.onStoreDocument?.({ documentName: this.name, document: this.ydoc, reason });
      }
    } catch (error) {
      this.logger.error(`onStoreDocument failed for ${this.name}`, error);
    }
  }
}
