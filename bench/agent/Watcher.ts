/**
 * One participant watching an agent run as a browser tab does (../session.ts): records when each
 * text marker `⟦n⟧` of the agent's streamed text arrived, and when the run stopped working.
 */
import { signUp, subscribeEvents, trpcCall, trpcQuery, type StreamEvent } from '../session.ts';

export class Watcher {
  readonly #abort = new AbortController();
  readonly arrivals = new Map<number, number>();
  readonly #ended = new Map<string, () => void>();
  readonly #endedRuns = new Set<string>();

  private constructor(readonly baseUrl: string, readonly cookie: string) {}

  static async signUp(baseUrl: string, name: string): Promise<Watcher> {
    return new Watcher(baseUrl, await signUp(baseUrl, name));
  }

  call<T = unknown>(path: string, input: unknown): Promise<T> {
    return trpcCall<T>(this.baseUrl, this.cookie, path, input);
  }

  query<T = unknown>(path: string, input: unknown): Promise<T> {
    return trpcQuery<T>(this.baseUrl, this.cookie, path, input);
  }

  subscribe(projectId: string): Promise<void> {
    return subscribeEvents(this.baseUrl, this.cookie, projectId, this.#abort.signal, (event, at) => this.#event(event, at));
  }

  /** Resolves once this participant saw the run leave `running`. */
  ended(runId: string): Promise<void> {
    if (this.#endedRuns.has(runId)) return Promise.resolve();
    return new Promise((resolve) => this.#ended.set(runId, resolve));
  }

  close(): void {
    this.#abort.abort();
  }

  #event(event: StreamEvent, at: number): void {
    const data = event.data;
    if (!data) return;
    if (event.type === 'agent.delta') {
      for (const m of String(data.text).matchAll(/⟦(\d+)⟧/g)) this.arrivals.set(Number(m[1]), at);
    } else if (event.type === 'agent.run' && data.status !== 'running' && data.status !== 'waiting_permission') {
      const id = String(data.id);
      this.#endedRuns.add(id);
      this.#ended.get(id)?.();
    }
  }
}
