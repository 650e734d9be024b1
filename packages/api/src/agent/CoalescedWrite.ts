/**
 * A write that is asked for often where only the latest state matters (a run's record): at most
 * one runs at a time, and every ask made meanwhile shares the one next write, which stores the
 * state as it is when it starts. Each ask resolves once a write that started after it finished.
 * `write` must not reject (it reports its own failures).
 */
export class CoalescedWrite {
  readonly #write: () => Promise<void>;
  #running: Promise<void> = Promise.resolve();
  #next: Promise<void> | null = null;

  constructor(write: () => Promise<void>) {
    this.#write = write;
  }

  request(): Promise<void> {
    this.#next ??= this.#running.then(() => {
      this.#next = null;
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
