/**
 * Replays editing traces through one server with the stock clients (y-websocket's
 * `WebsocketProvider`; Hocuspocus's own `HocuspocusProvider` for Hocuspocus, which speaks a
 * different protocol), in its own process (pinned by traces.ts). Per trace: one writer and two
 * observers on one document; the writer applies one Yjs transaction per trace transaction, as fast
 * as it can (yielding to the event loop every TRANSACTIONS_PER_YIELD transactions so its socket
 * flows). With several traces they run at the same time, one writer (author) each, on their own
 * documents of one project.
 *
 * Measures: time from the first transaction until every observer's text equals the writer's final
 * text, the server's CPU-seconds over that time, and the bytes the server sent (WebSocket payloads
 * received by all clients) and received.
 *
 * usage: replayClient.ts '<ReplayPlan JSON>' → prints one ReplayResult JSON line.
 */
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import type { AnnouncedServer } from '../sync/servers.ts';
import { applyTransaction, readTrace, type EditingTrace } from './EditingTrace.ts';

export interface ReplayPlan {
  server: AnnouncedServer;
  traces: { name: string; limit: number | null }[];
  observers: number;
  /** Distinguishes documents of repeated runs on one server. */
  runId: string;
}

export interface ReplayResult {
  traces: string[];
  transactions: number;
  /** First transaction → every observer has the final text. */
  convergedMs: number;
  /** First transaction → the last writer finished its loop. */
  sentMs: number;
  serverCpuSeconds: number;
  bytesFromServer: number;
  bytesToServer: number;
  converged: boolean;
}

const TRANSACTIONS_PER_YIELD = 100;
const CONVERGE_TIMEOUT_MS = 300_000;

const counters = { fromServer: 0, toServer: 0 };

/** ws with session cookie and byte counting; y-websocket constructs it as `new WS(url, protocols)`. */
function countingWebSocket(cookie: string | undefined): new (url: string, protocols?: string | string[]) => WebSocket {
  return class CountingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { perMessageDeflate: false, ...(cookie ? { headers: { cookie } } : {}) });
      this.on('message', (data: Buffer | ArrayBuffer) => (counters.fromServer += data.byteLength));
    }

    override send(data: Parameters<WebSocket['send']>[0], ...rest: unknown[]): void {
      counters.toServer += (data as Uint8Array).byteLength ?? 0;
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  };
}

interface Client {
  doc: Y.Doc;
  text: Y.Text;
  synced: Promise<void>;
  destroy(): void;
}

let clientCount = 0;

function connect(server: AnnouncedServer, documentName: string): Client {
  const index = clientCount++;
  const doc = new Y.Doc();
  const text = doc.getText('content');
  if (server.protocol === 'hocuspocus') {
    const websocket = new HocuspocusProviderWebsocket({ url: server.syncUrl, WebSocketPolyfill: countingWebSocket(undefined) });
    let resolveSynced!: () => void;
    const synced = new Promise<void>((resolve) => (resolveSynced = resolve));
    const provider = new HocuspocusProvider({ websocketProvider: websocket, name: documentName, document: doc, token: `bench-${index}`, onSynced: () => resolveSynced() });
    provider.attach();
    return { doc, text, synced, destroy: () => { provider.destroy(); websocket.destroy(); } };
  }
  const cookie = server.cookies?.[index % server.cookies.length];
  const provider = new WebsocketProvider(server.syncUrl, documentName, doc, {
    WebSocketPolyfill: countingWebSocket(cookie) as unknown as typeof globalThis.WebSocket,
    params: server.cookies ? {} : { token: `bench-${index}` },
    disableBc: true,
  });
  const synced = new Promise<void>((resolve) => {
    if (provider.synced) resolve();
    provider.once('sync', () => resolve());
  });
  return { doc, text, synced, destroy: () => provider.destroy() };
}

async function cpuMicros(controlUrl: string): Promise<number> {
  return ((await (await fetch(controlUrl)).json()) as { cpuMicros: number }).cpuMicros;
}

async function replay(writer: Client, trace: EditingTrace): Promise<void> {
  let done = 0;
  for (const { patches } of trace.txns) {
    applyTransaction(writer.doc, writer.text, patches);
    if (++done % TRANSACTIONS_PER_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as ReplayPlan;
  const traces = plan.traces.map((t) => readTrace(t.name, t.limit));
  const sessions = traces.map((trace, i) => {
    const documentName = `${plan.server.documentPrefix}${trace.name}-${plan.runId}-${i}`;
    return {
      trace,
      writer: connect(plan.server, documentName),
      observers: Array.from({ length: plan.observers }, () => connect(plan.server, documentName)),
    };
  });
  const everyone = sessions.flatMap((s) => [s.writer, ...s.observers]);
  await withTimeout(Promise.all(everyone.map((c) => c.synced)), 30_000, 'clients synced');
  // Start content (empty in these traces) is not part of the measurement.
  for (const s of sessions) if (s.trace.startContent) s.writer.text.insert(0, s.trace.startContent);
  await waitFor(() => sessions.every((s) => s.observers.every((o) => o.text.length === s.trace.startContent.length)), 30_000, 'start content', () => sessions.map((s) => `${s.trace.startContent.length}: ${s.observers.map((o) => o.text.length).join(',')}`).join('; '));

  counters.fromServer = 0;
  counters.toServer = 0;
  const cpuBefore = await cpuMicros(plan.server.controlUrl);
  const started = performance.now();
  let sentMs = 0;
  const writing = Promise.all(sessions.map((s) => replay(s.writer, s.trace))).then(() => (sentMs = performance.now() - started));
  const converged = waitFor(
    () => sessions.every((s) => s.observers.every((o) => o.text.length === s.trace.endContent.length && o.text.toString() === s.trace.endContent)),
    CONVERGE_TIMEOUT_MS,
    'observers converged',
  ).then(() => true, () => false);
  await writing;
  const ok = await converged;
  const convergedMs = performance.now() - started;
  const cpuAfter = await cpuMicros(plan.server.controlUrl);
  for (const s of sessions) {
    if (s.writer.text.toString() !== s.trace.endContent) throw new Error(`${s.trace.name}: the writer's text differs from the trace's end content`);
  }
  const result: ReplayResult = {
    traces: traces.map((t) => t.name),
    transactions: traces.reduce((sum, t) => sum + t.txns.length, 0),
    convergedMs,
    sentMs,
    serverCpuSeconds: (cpuAfter - cpuBefore) / 1e6,
    bytesFromServer: counters.fromServer,
    bytesToServer: counters.toServer,
    converged: ok,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const client of everyone) client.destroy();
  process.exit(0);
}

/** Checks `condition` every millisecond or so (text.length is O(1); toString only when lengths match). */
async function waitFor(condition: () => boolean, timeoutMs: number, what: string, state?: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}${state ? ` (${state()})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref())]);
}

await main();
