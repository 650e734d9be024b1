/**
 * The load generator, in its own process (pinned to its own core by sync.ts). N raw clients join
 * one document; client 0 writes, the others receive. Each update inserts a `~<seq>~` marker, so
 * receivers know which update arrived without running Yjs.
 *
 * latency mode: open loop. Update i is due at t0 + i/rate whatever happened before; latency is
 * receive time − due time (a stalled server or generator shows up as latency, not as a pause).
 * saturation mode: closed loop with at most `maxInFlight` updates not yet seen by every receiver;
 * reports deliveries per second and per server CPU-second over the window.
 *
 * usage: loadGenerator.ts '<LoadPlan JSON>'  → prints one LoadResult JSON line.
 */
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { LatencyHistogram } from './LatencyHistogram.ts';
import { SYNC_STEP2, SYNC_UPDATE, hocuspocusAuth, markersIn, readSync, syncStep1, updateMessage, type WireProtocol } from './wire.ts';

export interface LoadPlan {
  protocol: WireProtocol;
  syncUrl: string;
  controlUrl: string;
  documentName: string;
  /** Session cookies to use in turn (servers that authenticate with cookies), else `?token=`. */
  cookies: string[] | null;
  clients: number;
  mode: 'latency' | 'saturation';
  /** latency mode: updates per second. */
  rate: number;
  /** saturation mode: updates sent but not yet received by every receiver. */
  maxInFlight: number;
  warmupMs: number;
  measureMs: number;
}

export interface LoadResult {
  mode: LoadPlan['mode'];
  clients: number;
  targetRate: number;
  achievedRate: number;
  /** Deliveries (update × receiver) counted in the window. */
  deliveries: number;
  /** Deliveries in the window that never arrived (latency mode). */
  missing: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  windowSeconds: number;
  serverCpuSeconds: number;
  /** This process's CPU over the window: near 1.0 means the generator, not the server, was the limit. */
  generatorCpuSeconds: number;
}

const MAX_UPDATES = 1 << 20;

class Receiver {
  readonly seen = new Uint8Array(MAX_UPDATES);
  count = 0;
  synced = false;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as LoadPlan;
  const due = new Float64Array(MAX_UPDATES);
  const receivers = Array.from({ length: plan.clients - 1 }, () => new Receiver());
  const histogram = new LatencyHistogram();
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let deliveriesInWindow = 0;
  let onDelivered: () => void = () => {};

  const receive = (receiver: Receiver, payload: Uint8Array, at: number) => {
    for (const seq of markersIn(payload)) {
      if (seq >= MAX_UPDATES || receiver.seen[seq]) continue;
      receiver.seen[seq] = 1;
      receiver.count++;
      if (due[seq]! >= windowStart && due[seq]! < windowEnd) {
        deliveriesInWindow++;
        histogram.record(at - due[seq]!);
      }
    }
    onDelivered();
  };

  const writerSynced = { synced: false };
  const sockets = [connect(plan, 0, writerSynced, () => {}), ...receivers.map((r, i) => connect(plan, i + 1, r, (payload, at) => receive(r, payload, at)))];
  await waitUntil(() => writerSynced.synced && receivers.every((r) => r.synced), 10_000, 'clients synced');

  const writerDoc = new Y.Doc();
  const text = writerDoc.getText('content');
  let lastUpdate: Uint8Array = new Uint8Array();
  writerDoc.on('update', (update: Uint8Array) => (lastUpdate = update));
  const writer = sockets[0]!;
  let sent = 0;
  const send = (seq: number, dueAt: number) => {
    due[seq] = dueAt;
    text.insert(text.length, `~${seq}~`);
    writer.send(updateMessage(plan.protocol, plan.documentName, lastUpdate));
    sent++;
  };

  const t0 = performance.now() + 20;
  windowStart = t0 + plan.warmupMs;
  windowEnd = windowStart + plan.measureMs;
  const cpuAtStart = sampleCpuAt(plan.controlUrl, windowStart);
  const cpuAtEnd = sampleCpuAt(plan.controlUrl, windowEnd);
  const ownCpuAtStart = ownCpuAt(windowStart);
  const ownCpuAtEnd = ownCpuAt(windowEnd);
  const generatorCpu = async () => ((await ownCpuAtEnd) - (await ownCpuAtStart)) / 1e6;
  let achievedRate: number;
  let deliveriesAtStart = 0;
  let deliveriesAtEnd = 0;
  const totalDeliveries = () => receivers.reduce((sum, r) => sum + r.count, 0);

  if (plan.mode === 'latency') {
    const total = Math.floor((plan.rate * (plan.warmupMs + plan.measureMs)) / 1000);
    let firstSentAt = 0;
    for (let seq = 0; seq < total; ) {
      const now = performance.now();
      while (seq < total && t0 + (seq * 1000) / plan.rate <= now) {
        if (seq === 0) firstSentAt = now;
        send(seq, t0 + (seq * 1000) / plan.rate);
        seq++;
      }
      if (seq < total) await sleepUntil(t0 + (seq * 1000) / plan.rate);
    }
    // A generator that fell behind sent its last update late: that lowers the achieved rate.
    achievedRate = ((sent - 1) * 1000) / Math.max(1, performance.now() - firstSentAt);
    const expected = (seq: number) => due[seq]! >= windowStart && due[seq]! < windowEnd;
    await waitUntil(() => receivers.every((r) => r.count === sent), 5_000, 'deliveries drained').catch(() => {});
    let inWindow = 0;
    for (let seq = 0; seq < sent; seq++) if (expected(seq)) inWindow++;
    const missing = inWindow * receivers.length - deliveriesInWindow;
    finish(plan, {
      achievedRate, deliveries: deliveriesInWindow, missing, histogram,
      windowSeconds: plan.measureMs / 1000, serverCpuSeconds: ((await cpuAtEnd) - (await cpuAtStart)) / 1e6,
      generatorCpuSeconds: await generatorCpu(),
    });
  } else {
    let stopped = false;
    const pump = () => {
      const slowest = receivers.reduce((min, r) => Math.min(min, r.count), Number.POSITIVE_INFINITY);
      while (!stopped && sent - slowest < plan.maxInFlight && sent < MAX_UPDATES) send(sent, performance.now());
    };
    onDelivered = pump;
    await sleepUntil(t0);
    pump();
    await sleepUntil(windowStart);
    deliveriesAtStart = totalDeliveries();
    const sentAtStart = sent;
    await sleepUntil(windowEnd);
    deliveriesAtEnd = totalDeliveries();
    achievedRate = ((sent - sentAtStart) * 1000) / plan.measureMs;
    stopped = true;
    finish(plan, {
      achievedRate, deliveries: deliveriesAtEnd - deliveriesAtStart, missing: 0, histogram,
      windowSeconds: plan.measureMs / 1000, serverCpuSeconds: ((await cpuAtEnd) - (await cpuAtStart)) / 1e6,
      generatorCpuSeconds: await generatorCpu(),
    });
  }
  for (const socket of sockets) socket.terminate();
}

function finish(
  plan: LoadPlan,
  r: {
    achievedRate: number; deliveries: number; missing: number; histogram: LatencyHistogram;
    windowSeconds: number; serverCpuSeconds: number; generatorCpuSeconds: number;
  },
): void {
  const result: LoadResult = {
    mode: plan.mode,
    clients: plan.clients,
    targetRate: plan.mode === 'latency' ? plan.rate : Number.NaN,
    achievedRate: r.achievedRate,
    deliveries: r.deliveries,
    missing: r.missing,
    p50Ms: r.histogram.quantile(0.5),
    p99Ms: r.histogram.quantile(0.99),
    maxMs: r.histogram.max,
    windowSeconds: r.windowSeconds,
    serverCpuSeconds: r.serverCpuSeconds,
    generatorCpuSeconds: r.generatorCpuSeconds,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function connect(
  plan: LoadPlan,
  index: number,
  state: { synced: boolean },
  onPayload: (payload: Uint8Array, at: number) => void,
): WebSocket {
  const token = `bench-${index}`;
  const url = plan.protocol === 'hocuspocus' ? plan.syncUrl : `${plan.syncUrl}/${plan.documentName}?token=${token}`;
  const cookie = plan.cookies?.[index % plan.cookies.length];
  const socket = new WebSocket(url, { perMessageDeflate: false, ...(cookie ? { headers: { cookie } } : {}) });
  socket.binaryType = 'nodebuffer';
  socket.on('open', () => {
    if (plan.protocol === 'hocuspocus') socket.send(hocuspocusAuth(plan.documentName, token));
    socket.send(syncStep1(plan.protocol, plan.documentName));
  });
  socket.on('message', (data: Buffer) => {
    const at = performance.now();
    const sync = readSync(plan.protocol, data);
    if (!sync) return;
    if (sync.step === SYNC_STEP2) state.synced = true;
    if (sync.step === SYNC_UPDATE || sync.step === SYNC_STEP2) onPayload(sync.payload, at);
  });
  socket.on('close', (code) => {
    if (code !== 1005 && code !== 1006) console.error(`client ${index} closed with ${code}`);
  });
  socket.on('error', (error) => console.error(`client ${index}: ${error.message}`));
  return socket;
}

async function sampleCpuAt(controlUrl: string, at: number): Promise<number> {
  await sleepUntil(at);
  const response = await fetch(controlUrl);
  return ((await response.json()) as { cpuMicros: number }).cpuMicros;
}

async function ownCpuAt(at: number): Promise<number> {
  await sleepUntil(at);
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Coarse timer for the bulk of the wait, then setImmediate turns (which still let I/O run). */
async function sleepUntil(at: number): Promise<void> {
  for (;;) {
    const remaining = at - performance.now();
    if (remaining <= 0) return;
    if (remaining > 2) await new Promise((resolve) => setTimeout(resolve, remaining - 1.5));
    else await new Promise((resolve) => setImmediate(resolve));
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

await main();
