/**
 * A write that is asked for often where only the latest state matters (a run's record): at most
 * one runs at a time, a write starts no sooner than `gapMs()` after the one before it started, and
 * every ask made meanwhile shares the one next write, which stores the state as it is when it
 * starts (at the earliest in the event loop's next turn, after the asker's own work). Each ask resolves once a write that started after it finished. `write` must not reject
 * (it reports its own failures).
 */
export class CoalescedWrite {
  readonly #write: () => Promise<void>;
  readonly #gapMs: () => number;
  #running: Promise<void> = Promise.resolve();
  #startedAt = -Infinity;
  #next: Promise<void> | null = null;

  constructor(write: () => Promise<void>, gapMs: () => number = () => 0) {
    this.#write = write;
    this.#gapMs = gapMs;
  }

  request(): Promise<void> {
    this.#next ??= this.#running.then(async () => {
      const wait = this.#startedAt + this.#gapMs() - performance.now();
      // Never in the asker's own turn of the event loop: what it does next (an agent sending its
      // next request) goes first, the write's encoding after.
      await new Promise((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
      this.#next = null;
      this.#startedAt = performance.now();
      this.#running = this.#write();
      return this.#running;
    });
    return this.#next;
  }

  /** Resolves once the writes asked for so far have finished. */
  settled(): Promise<void> {
    return this.#next ?? this.#running;
  }
}
