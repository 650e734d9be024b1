/**
 * One participant of the session as a browser tab sees it: signed in with a session cookie, one
 * `stream.events` SSE subscription (read with fetch, the bytes EventSource would get, JSON parsed
 * per event as the web app does). For the suggestion being measured it records, per token, when
 * the frame completing that token was read.
 */
import { randomUUID } from 'node:crypto';

export interface Tracking {
  /** performance.now() when each token's last character arrived (0: not yet). */
  arrivals: Float64Array;
  frames: number;
  bytes: number;
  finished: Promise<void>;
}

interface Tracked extends Tracking {
  /** null: the next suggestion that streams (its id is not known before the request returns). */
  id: string | null;
  ends: Uint32Array;
  next: number;
  finish: () => void;
}

export async function trpcCall<T = unknown>(baseUrl: string, cookie: string, path: string, input: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}/api/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(input) });
  const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
  if (!res.ok || !body.result) throw new Error(`${path} failed: ${res.status} ${body.error?.message ?? ''}`);
  return body.result.data;
}

export class Participant {
  readonly #abort = new AbortController();
  #tracked: Tracked | null = null;
  /** Status snapshots seen, by suggestion id (the last one wins). */
  readonly statuses = new Map<string, string>();

  private constructor(readonly baseUrl: string, readonly cookie: string, readonly name: string) {}

  static async signUp(baseUrl: string, name: string): Promise<Participant> {
    const res = await fetch(`${baseUrl}/api/trpc/auth.signUp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`, password: 'tandem-test-password', name }),
    });
    if (!res.ok) throw new Error(`sign up failed: ${res.status} ${await res.text()}`);
    return new Participant(baseUrl, res.headers.getSetCookie()[0]!.split(';')[0]!, name);
  }

  call<T = unknown>(path: string, input: unknown): Promise<T> {
    return trpcCall<T>(this.baseUrl, this.cookie, path, input);
  }

  /** Opens the tab's event stream; resolves once the server says it is connected. */
  async subscribe(projectId: string): Promise<void> {
    const input = encodeURIComponent(JSON.stringify({ projectId, tabId: randomUUID() }));
    const res = await fetch(`${this.baseUrl}/api/trpc/stream.events?input=${input}`, {
      headers: { accept: 'text/event-stream', cookie: this.cookie },
      signal: this.#abort.signal,
    });
    if (!res.ok || !res.body) throw new Error(`subscription failed: ${res.status}`);
    let connected!: () => void;
    const isConnected = new Promise<void>((r) => (connected = r));
    void this.#read(res.body, connected);
    await isConnected;
  }

  /** Records arrivals of the tokens (ending at `ends`) of the next suggestion to stream. */
  track(ends: Uint32Array): Tracking {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const tracked: Tracked = { id: null, ends, next: 0, arrivals: new Float64Array(ends.length), frames: 0, bytes: 0, finished, finish };
    this.#tracked = tracked;
    return tracked;
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
          this.#event(block, at, block.length + 2);
        }
      }
    } catch {
      // closed
    }
  }

  #event(block: string, at: number, bytes: number): void {
    const line = block.split('\n').find((l) => l.startsWith('data: '));
    if (!line) return;
    const event = JSON.parse(line.slice(6)) as { type?: string; data?: { id: string; status?: string; offset?: number; text?: string } };
    const data = event.data;
    if (!data) return;
    if (event.type === 'suggestion' && data.status) this.statuses.set(data.id, data.status);
    const t = this.#tracked;
    if (event.type !== 'suggestion.frame' || !t) return;
    t.id ??= data.id;
    if (data.id !== t.id) return;
    t.frames++;
    t.bytes += bytes;
    const received = data.offset! + data.text!.length;
    while (t.next < t.ends.length && t.ends[t.next]! <= received) t.arrivals[t.next++] = at;
    if (t.next === t.ends.length) t.finish();
  }
}
