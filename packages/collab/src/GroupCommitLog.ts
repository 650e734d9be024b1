import type { TimerHandle, Timers } from './Timers.ts';

export interface CommitEntry<Origin> {
  update: Uint8Array;
  origin: Origin;
}

export interface GroupCommitLogOptions<Origin> {
  /** Durably stores the updates; resolves with the store's cursor of the last one. */
  append(updates: Uint8Array[]): Promise<number>;
  /** Called once per durable batch, in order, before the next batch is appended. */
  committed(batch: CommitEntry<Origin>[], cursor: number): void;
  /** Called once when appending failed for good; the log accepts nothing afterwards. */
  failed(error: unknown): void;
  timers: Timers;
  /** How long to gather updates before an append while the log is idle (0: end of I/O phase). */
  windowMs: number;
  /** Delays between attempts of a failing append; after the last one the log fails. */
  retryDelaysMs: readonly number[];
}

interface DurabilityWaiter {
  target: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for one document: updates are queued as they arrive, written as one batch per
 * `append` while the previous append is in flight, and released (`committed`) only once
 * durable. Throughput follows the store: the slower an append, the bigger the next batch.
 */
export class GroupCommitLog<Origin> {
  private pending: CommitEntry<Origin>[] = [];
  private enqueued = 0;
  private durable = 0;
  private draining = false;
  private scheduled: TimerHandle | null = null;
  private failure: { error: unknown } | null = null;
  private waiters: DurabilityWaiter[] = [];

  constructor(private readonly options: GroupCommitLogOptions<Origin>) {}

  enqueue(entry: CommitEntry<Origin>): void {
    if (this.failure) return;
    this.pending.push(entry);
    this.enqueued++;
    this.schedule();
  }

  /** True when something was enqueued that is not durable yet. */
  get busy(): boolean {
    return this.durable < this.enqueued;
  }

  /** Resolves once everything enqueued so far is durable; rejects if the log failed. */
  whenDurable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.durable >= this.enqueued) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ target: this.enqueued, resolve, reject }));
  }

  /** Appends whatever is queued now instead of waiting for the window. */
  flushNow(): Promise<void> {
    if (this.scheduled && !this.draining) {
      this.options.timers.clearTimeout(this.scheduled);
      this.scheduled = null;
      void this.drain();
    }
    return this.whenDurable();
  }

  private schedule(): void {
    if (this.draining || this.scheduled) return;
    this.scheduled = this.options.timers.setTimeout(() => {
      this.scheduled = null;
      void this.drain();
    }, this.options.windowMs);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.pending.length > 0 && !this.failure) {
      const batch = this.pending;
      this.pending = [];
      const cursor = await this.appendWithRetry(batch.map((e) => e.update));
      if (cursor === null) return;
      this.durable += batch.length;
      try {
        this.options.committed(batch, cursor);
      } catch {
        // `committed` owns its error handling; a throw there must not stall later batches.
      }
      this.releaseWaiters();
    }
    this.draining = false;
  }

  private async appendWithRetry(updates: Uint8Array[]): Promise<number | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.options.append(updates);
      } catch (error) {
        const delay = this.options.retryDelaysMs[attempt];
        if (delay === undefined) {
          this.fail(error);
          return null;
        }
        await new Promise<void>((resolve) => this.options.timers.setTimeout(resolve, delay));
      }
    }
  }

  private releaseWaiters(): void {
    const ready = this.waiters.filter((w) => w.target <= this.durable);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.target > this.durable);
    for (const w of ready) w.resolve();
  }

  private fail(error: unknown): void {
    this.failure = { error };
    this.pending = [];
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
    this.options.failed(error);
  }
}
