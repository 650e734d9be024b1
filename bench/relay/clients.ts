/**
 * The two readers being compared, both in this process with the same clock and the same
 * per-read work (count tokens with one regex over the raw bytes, no JSON parsing), so the
 * difference between them is what the relay adds:
 * - DirectClient: POSTs to the test double's /v1/completions and reads its SSE body;
 * - RelayClient: a browser tab's view — one `stream.events` SSE subscription on the Tandem
 *   server (read with fetch, as EventSource would), completions started with `ai.complete`.
 * The test double's default tokens are " t0", " t1", …: each token is one match of / t\d/.
 */
import { randomUUID } from 'node:crypto';

const TOKEN = / t\d/g;

/** Arrival time (performance.now()) of every token of one stream, in order. */
export type Arrivals = Float64Array;

/**
 * Counts tokens in a stream of decoded text. A token may be split across two reads: matching
 * over the previous read's last 2 characters plus the new text counts it exactly once (a
 * 3-character match cannot lie inside the 2-character tail, so nothing is counted twice).
 */
class TokenCounter {
  #tail = '';

  count(text: string): number {
    const joined = this.#tail + text;
    this.#tail = joined.slice(-2);
    return joined.match(TOKEN)?.length ?? 0;
  }
}

interface Collector {
  arrivals: Float64Array;
  received: number;
  done: () => void;
}

function record(c: Collector, tokens: number, at: number): void {
  const end = Math.min(c.arrivals.length, c.received + tokens);
  for (let i = c.received; i < end; i++) c.arrivals[i] = at;
  c.received = end;
  if (c.received >= c.arrivals.length) c.done();
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms))),
  ]);
}

export class DirectClient {
  constructor(private readonly baseUrl: string) {}

  /** Streams `tokens` tokens; resolves with the request start time and every token's arrival. */
  async stream(tokens: number, timeoutMs: number): Promise<{ startedAt: number; arrivals: Arrivals }> {
    const c: Collector = { arrivals: new Float64Array(tokens), received: 0, done: () => {} };
    const finished = new Promise<void>((r) => (c.done = r));
    const abort = new AbortController();
    const startedAt = performance.now();
    const res = await fetch(`${this.baseUrl}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ model: 'bench-model', prompt: 'x', suffix: '', stream: true }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const counter = new TokenCounter();
    const pump = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const at = performance.now();
        record(c, counter.count(decoder.decode(value, { stream: true })), at);
      }
    })();
    try {
      await withTimeout(Promise.race([finished, pump.then(() => finished)]), timeoutMs, `direct stream of ${tokens} tokens`);
    } finally {
      // Not awaited: a read pending on a body that already ended can stay unsettled after abort.
      pump.catch(() => {});
      reader.cancel().catch(() => {});
      abort.abort();
    }
    return { startedAt, arrivals: c.arrivals };
  }
}

export class RelayClient {
  readonly #abort = new AbortController();
  readonly #tabId = randomUUID();
  #current: Collector | null = null;

  private constructor(private readonly baseUrl: string, private readonly cookie: string, private readonly projectId: string) {}

  /** Signs up, creates a project, opens the tab's event stream. */
  static async open(baseUrl: string): Promise<RelayClient> {
    const signUp = await fetch(`${baseUrl}/api/trpc/auth.signUp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `bench-${randomUUID()}@example.com`, password: 'tandem-test-password', name: 'Bench' }),
    });
    if (!signUp.ok) throw new Error(`sign up failed: ${signUp.status} ${await signUp.text()}`);
    const cookie = signUp.headers.getSetCookie()[0]!.split(';')[0]!;
    const project = await call<{ id: string }>(baseUrl, cookie, 'projects.create', { name: 'Relay bench', template: 'empty' });
    const client = new RelayClient(baseUrl, cookie, project.id);
    await client.#subscribe();
    return client;
  }

  async #subscribe(): Promise<void> {
    const input = encodeURIComponent(JSON.stringify({ projectId: this.projectId, tabId: this.#tabId }));
    const res = await fetch(`${this.baseUrl}/api/trpc/stream.events?input=${input}`, {
      headers: { accept: 'text/event-stream', cookie: this.cookie },
      signal: this.#abort.signal,
    });
    if (!res.ok) throw new Error(`subscription failed: ${res.status}`);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const counter = new TokenCounter();
    let connected!: () => void;
    const isConnected = new Promise<void>((r) => (connected = r));
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          const at = performance.now();
          const text = decoder.decode(value, { stream: true });
          if (text.includes('event: connected')) connected();
          const tokens = counter.count(text);
          if (this.#current) record(this.#current, tokens, at);
        }
      } catch {
        // closed
      }
    })();
    await withTimeout(isConnected, 10_000, 'event stream');
  }

  /** Starts a completion of `tokens` tokens and resolves with its start time and arrivals. */
  async stream(tokens: number, timeoutMs: number): Promise<{ startedAt: number; arrivals: Arrivals }> {
    const c: Collector = { arrivals: new Float64Array(tokens), received: 0, done: () => {} };
    const finished = new Promise<void>((r) => (c.done = r));
    this.#current = c;
    const requestId = randomUUID();
    const startedAt = performance.now();
    try {
      await call(this.baseUrl, this.cookie, 'ai.complete', {
        projectId: this.projectId, tabId: this.#tabId, requestId, path: 'bench.ts', language: 'typescript', prefix: 'x', suffix: '', related: [],
      });
      await withTimeout(finished, timeoutMs, `relayed stream of ${tokens} tokens`);
    } finally {
      this.#current = null;
      await call(this.baseUrl, this.cookie, 'ai.cancel', { requestId }).catch(() => {});
    }
    return { startedAt, arrivals: c.arrivals };
  }

  close(): void {
    this.#abort.abort();
  }
}

async function call<T = unknown>(baseUrl: string, cookie: string, path: string, input: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}/api/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(input) });
  const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
  if (!res.ok || !body.result) throw new Error(`${path} failed: ${res.status} ${body.error?.message ?? ''}`);
  return body.result.data;
}
