/**
 * Runs async tasks one at a time per key, in call order. Every change to a suggestion (a
 * decision, the end of its generation, an anchor check, a cancel) reads its state, awaits side
 * effects (the document edit, the database), then writes it back: serialising them per
 * suggestion keeps those read-modify-write sequences from interleaving.
 */
export class KeyedSerialQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(() => undefined, () => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with a task running or queued (tests assert nothing is left behind). */
  get size(): number {
    return this.#tails.size;
  }
}
