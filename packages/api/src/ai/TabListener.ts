import { COMPLETION_EVENT, type CompletionEvent } from './completionEvents.ts';

type Caller = { stream: { events(input: { projectId: string; tabId: string }): Promise<AsyncIterable<unknown>> } };
/** Makes a caller whose subscriptions end when `signal` aborts. */
type CallerWithSignal = (signal: AbortSignal) => Caller;

/**
 * Test helper: one tab's real `stream.events` subscription (through a tRPC caller), collecting
 * completion events so tests can wait for a request's events with a deadline.
 */
export class TabListener {
  readonly events: CompletionEvent[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #abort = new AbortController();
  #iterator: AsyncIterator<unknown> | null = null;

  private constructor(readonly tabId: string) {}

  /** Subscribes and resolves once the hub has registered the subscription. */
  static async open(callerWith: CallerWithSignal, projectId: string, tabId: string, subscriberCount: () => number): Promise<TabListener> {
    const listener = new TabListener(tabId);
    const before = subscriberCount();
    const iterable = await callerWith(listener.#abort.signal).stream.events({ projectId, tabId });
    listener.#iterator = iterable[Symbol.asyncIterator]();
    void listener.#pump();
    const end = Date.now() + 5000;
    while (subscriberCount() <= before) {
      if (Date.now() > end) throw new Error('subscription did not start');
      await new Promise((r) => setTimeout(r, 2));
    }
    return listener;
  }

  async #pump(): Promise<void> {
    for (;;) {
      const r = await this.#iterator!.next().catch(() => ({ done: true as const, value: undefined }));
      if (r.done || this.#abort.signal.aborted) return;
      // Through a caller, tracked events arrive as the `tracked()` envelope: [id, data, marker].
      const value = Array.isArray(r.value) ? (r.value[1] as unknown) : r.value;
      const e = value as { type: string; data: CompletionEvent };
      if (e.type === COMPLETION_EVENT) {
        this.events.push(e.data);
        for (const w of this.#waiters) w();
      }
    }
  }

  of(requestId: string): CompletionEvent[] {
    return this.events.filter((e) => e.requestId === requestId);
  }

  /** Waits until `predicate` holds for the request's events. */
  async waitFor(requestId: string, predicate: (events: CompletionEvent[]) => boolean, timeoutMs = 5000): Promise<CompletionEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.of(requestId))) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for events of ${requestId}: ${JSON.stringify(this.of(requestId))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        const waiters = this.#waiters;
        waiters.add(done);
      });
    }
    return this.of(requestId);
  }

  /** Waits for the request's final event (`done` or `error`) and returns all its events. */
  finished(requestId: string, timeoutMs?: number): Promise<CompletionEvent[]> {
    return this.waitFor(requestId, (es) => es.some((e) => e.kind !== 'delta'), timeoutMs);
  }

  close(): void {
    this.#abort.abort();
  }
}
