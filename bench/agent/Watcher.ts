/**
 * One participant watching an agent run as a browser tab does: signed in with a session cookie,
 * one `stream.events` SSE subscription, JSON parsed per event. Records when each text marker
 * `⟦n⟧` of the agent's streamed text arrived, and when the run stopped working.
 */
import { randomUUID } from 'node:crypto';
import { trpcCall } from '../suggestions/Participant.ts';

export class Watcher {
  readonly #abort = new AbortController();
  readonly arrivals = new Map<number, number>();
  readonly #ended = new Map<string, () => void>();
  readonly #endedRuns = new Set<string>();

  private constructor(readonly baseUrl: string, readonly cookie: string) {}

  static async signUp(baseUrl: string, name: string): Promise<Watcher> {
    const res = await fetch(`${baseUrl}/api/trpc/auth.signUp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`, password: 'password123', name }),
    });
    if (!res.ok) throw new Error(`sign up failed: ${res.status} ${await res.text()}`);
    return new Watcher(baseUrl, res.headers.getSetCookie()[0]!.split(';')[0]!);
  }

  call<T = unknown>(path: string, input: unknown): Promise<T> {
    return trpcCall<T>(this.baseUrl, this.cookie, path, input);
  }

  async query<T = unknown>(path: string, input: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie: this.cookie } });
    const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
    if (!res.ok || !body.result) throw new Error(`${path} failed: ${res.status} ${body.error?.message ?? ''}`);
    return body.result.data;
  }

  async subscribe(projectId: string): Promise<void> {
    const input = encodeURIComponent(JSON.stringify({ projectId, tabId: randomUUID() }));
    const res = await fetch(`${this.baseUrl}/api/trpc/stream.events?input=${input}`, { headers: { accept: 'text/event-stream', cookie: this.cookie }, signal: this.#abort.signal });
    if (!res.ok || !res.body) throw new Error(`subscription failed: ${res.status}`);
    let connected!: () => void;
    const isConnected = new Promise<void>((r) => (connected = r));
    void this.#read(res.body, connected);
    await isConnected;
  }

  /** Resolves once this participant saw the run leave `running`. */
  ended(runId: string): Promise<void> {
    if (this.#endedRuns.has(runId)) return Promise.resolve();
    return new Promise((resolve) => this.#ended.set(runId, resolve));
  }

  close(): void {
    this.#abort.abort();
  }

  async #read(body: ReadableStream<Uint8Array>, connected: () => void): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const at = performance.now();
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith('event: connected')) connected();
          const line = block.split('\n').find((l) => l.startsWith('data: '));
          if (line) this.#event(JSON.parse(line.slice(6)) as { type?: string; data?: Record<string, unknown> }, at);
        }
      }
    } catch {
      // closed
    }
  }

  #event(event: { type?: string; data?: Record<string, unknown> }, at: number): void {
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
