/**
 * Turns a stream's text chunks into as few published events as possible without adding latency:
 * the first text goes out at once (it is what the typist waits for), and text that arrives
 * while an earlier flush is still pending in this event-loop turn is appended and sent by one
 * `setImmediate`. No fixed timers: a token that arrives alone is sent in the same loop
 * iteration, so the relay adds microseconds, while a burst (an upstream that batches, or many
 * reads in one turn) becomes one event instead of thousands.
 */
export class DeltaCoalescer {
  #pending = '';
  #scheduled: NodeJS.Immediate | null = null;
  #sentFirst = false;

  constructor(private readonly emit: (text: string) => void) {}

  push(text: string): void {
    if (text.length === 0) return;
    if (!this.#sentFirst) {
      this.#sentFirst = true;
      this.emit(text);
      return;
    }
    this.#pending += text;
    this.#scheduled ??= setImmediate(this.flush);
  }

  /** Sends whatever is pending now (call before a final event so order is kept). */
  readonly flush = (): void => {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    if (this.#pending.length === 0) return;
    const text = this.#pending;
    this.#pending = '';
    this.emit(text);
  };

  /** Drops pending text (the stream was cancelled: nobody wants it). */
  discard(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    this.#pending = '';
  }
}
