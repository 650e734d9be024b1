/**
 * A tRPC subscription read over real HTTP with fetch (Node 20 has no EventSource): the same SSE
 * bytes a browser's EventSource receives. Records each data event with its arrival time.
 */
import { SseParser } from '@tandem/inference';

export interface SseMessage {
  event: string;
  data: unknown;
  /** performance.now() when the bytes carrying it were read. */
  at: number;
}

export class HttpSubscription {
  readonly messages: SseMessage[] = [];
  readonly #abort = new AbortController();
  readonly #waiters = new Set<() => void>();
  #ended = false;

  private constructor() {}

  /** Opens `path` (e.g. `stream.events`) and resolves once the server says it is connected. */
  static async open(baseUrl: string, path: string, input: unknown, headers: Record<string, string>): Promise<HttpSubscription> {
    const sub = new HttpSubscription();
    const url = `${baseUrl}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: sub.#abort.signal });
    if (!res.ok || !res.body) throw new Error(`subscription failed: ${res.status} ${await res.text()}`);
    void sub.#read(res.body);
    await sub.waitFor((m) => m.event === 'connected', 5000);
    return sub;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const at = performance.now();
        parser.push(decoder.decode(value, { stream: true }), (data, event) => {
          this.messages.push({ event: event || 'message', data: data === '' ? null : JSON.parse(data), at });
        });
        for (const w of this.#waiters) w();
      }
    } catch {
      // aborted by close()
    } finally {
      this.#ended = true;
      for (const w of this.#waiters) w();
    }
  }

  /** Resolves with the first message matching `predicate`, waiting up to `timeoutMs`. */
  async waitFor(predicate: (m: SseMessage) => boolean, timeoutMs = 5000): Promise<SseMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (this.#ended || left <= 0) throw new Error(`no matching SSE message (${this.#ended ? 'stream ended' : 'timeout'}); got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }

  close(): void {
    this.#abort.abort();
  }
}
