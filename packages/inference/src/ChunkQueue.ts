import type { InferenceChunk } from './types.ts';

/**
 * Bridges a callback producer (node-llama-cpp's `onTextChunk`) to an async iterator. Text pushed
 * while the consumer is busy is merged into the queued text chunk, so a slow consumer wakes up
 * once per batch instead of once per token and the queue never grows per token.
 */
export class ChunkQueue {
  readonly #items: InferenceChunk[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #error: unknown;
  #failed = false;

  pushText(text: string, tokens: number): void {
    if (this.#ended) return;
    const last = this.#items[this.#items.length - 1];
    if (last?.type === 'text') {
      this.#items[this.#items.length - 1] = { type: 'text', text: last.text + text, tokens: last.tokens + tokens };
    } else {
      this.#items.push({ type: 'text', text, tokens });
    }
    this.#wake();
  }

  push(chunk: InferenceChunk): void {
    if (this.#ended) return;
    this.#items.push(chunk);
    this.#wake();
  }

  end(): void {
    this.#ended = true;
    this.#wake();
  }

  fail(error: unknown): void {
    if (this.#ended) return;
    this.#failed = true;
    this.#error = error;
    this.#ended = true;
    this.#wake();
  }

  async *drain(): AsyncGenerator<InferenceChunk> {
    for (;;) {
      if (this.#items.length > 0) {
        // Take everything queued in one go; new pushes land in the (now empty) array.
        const batch = this.#items.splice(0);
        for (const chunk of batch) yield chunk;
        continue;
      }
      if (this.#ended) {
        if (this.#failed) throw this.#error;
        return;
      }
      await new Promise<void>((r) => (this.#waiter = r));
    }
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}
