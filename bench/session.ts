/**
 * What a browser tab does against the Tandem API, shared by the benchmarks that measure what
 * participants see: sign up (session cookie), tRPC calls, and one `stream.events` SSE
 * subscription read with fetch (the bytes EventSource would get), JSON parsed per event as the
 * web app does.
 */
import { randomUUID } from 'node:crypto';

/** One event of the project stream. */
export interface StreamEvent {
  type?: string;
  data?: Record<string, unknown>;
}

/** Signs a new user up; returns its session cookie (`name=value`). */
export async function signUp(baseUrl: string, name: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/trpc/auth.signUp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`, password: 'tandem-test-password', name }),
  });
  if (!res.ok) throw new Error(`sign up failed: ${res.status} ${await res.text()}`);
  return res.headers.getSetCookie()[0]!.split(';')[0]!;
}

export async function trpcCall<T = unknown>(baseUrl: string, cookie: string, path: string, input: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}/api/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(input) });
  return trpcResult<T>(res, path);
}

export async function trpcQuery<T = unknown>(baseUrl: string, cookie: string, path: string, input: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie } });
  return trpcResult<T>(res, path);
}

async function trpcResult<T>(res: Response, path: string): Promise<T> {
  const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
  if (!res.ok || !body.result) throw new Error(`${path} failed: ${res.status} ${body.error?.message ?? ''}`);
  return body.result.data;
}

/**
 * Opens the tab's project event stream and resolves once the server says it is connected.
 * `onEvent` gets each event with the time its last chunk was read and its size on the wire.
 */
export async function subscribeEvents(
  baseUrl: string, cookie: string, projectId: string, signal: AbortSignal,
  onEvent: (event: StreamEvent, at: number, bytes: number) => void,
): Promise<void> {
  const input = encodeURIComponent(JSON.stringify({ projectId, tabId: randomUUID() }));
  const res = await fetch(`${baseUrl}/api/trpc/stream.events?input=${input}`, { headers: { accept: 'text/event-stream', cookie }, signal });
  if (!res.ok || !res.body) throw new Error(`subscription failed: ${res.status}`);
  let connected!: () => void;
  const isConnected = new Promise<void>((r) => (connected = r));
  void readBlocks(res.body, (block, at) => {
    if (block.startsWith('event: connected')) connected();
    const line = block.split('\n').find((l) => l.startsWith('data: '));
    if (line) onEvent(JSON.parse(line.slice(6)) as StreamEvent, at, block.length + 2);
  });
  await isConnected;
}

/** SSE blocks (separated by a blank line), each with the time the chunk completing it was read. */
async function readBlocks(body: ReadableStream<Uint8Array>, onBlock: (block: string, at: number) => void): Promise<void> {
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
        onBlock(block, at);
      }
    }
  } catch {
    // closed
  }
}
