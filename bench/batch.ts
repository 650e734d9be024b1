/**
 * Per-batch broadcast cost: how much server CPU one durable group-commit batch costs to send to
 * its peers, against the batch's size and the document's history. In one process, on purpose:
 * `SyncServer` with a store whose appends wait for a gate, real WebSocket clients (one writer, two
 * observers). Per measurement, B client updates are queued behind a blocked append; the gate opens
 * and the CPU spent until the batch has been handed to the peers' sockets is measured
 * (`process.cpuUsage`, no I/O can run in between: it is one run of microtasks). Next to it, what
 * the previous mechanism added on top: `Y.mergeUpdates` of the same batch.
 * Run: `npm run bench -w @tandem/bench -- batch`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { SyncServer, type DocumentStore, type StoredDocument } from '@tandem/collab';
import { printTable } from './sync.ts';
import { SYNC_STEP2, SYNC_UPDATE, readSync, syncStep1, updateMessage } from './sync/wire.ts';

const AGES = [0, 20_000, 100_000];
const BATCH_SIZES = [1, 10, 100, 1000];
/** Measurements per cell; the median is reported. */
const SAMPLES = 15;
const DOCUMENT = 'bench/file/batch';

/** Appends wait until `open()`; nothing is kept (the broadcast is what is measured). */
class GatedStore implements DocumentStore {
  private cursor = 0;
  private waiting: (() => void)[] = [];
  closed = false;
  batches: number[] = [];

  async load(): Promise<StoredDocument> {
    return { snapshot: null, updates: [], cursor: 0 };
  }

  append(_name: string, updates: readonly Uint8Array[]): Promise<number> {
    this.batches.push(updates.length);
    const cursor = (this.cursor += updates.length);
    if (!this.closed) return Promise.resolve(cursor);
    return new Promise((resolve) => this.waiting.push(() => resolve(cursor)));
  }

  async compact(): Promise<void> {}

  open(): void {
    this.closed = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}

class Observer {
  received = 0;
  synced = false;
  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const sync = readSync('y-websocket', data);
      if (sync?.step === SYNC_STEP2) this.synced = true;
      if (sync?.step === SYNC_UPDATE) this.received++;
    });
  }
}

export async function runBatchBenchmark(): Promise<void> {
  const store = new GatedStore();
  let serverDoc: Y.Doc | null = null;
  let changes = 0;
  const sync = new SyncServer({
    store,
    onAuthenticate: () => ({ user: { id: 'u', name: 'u' }, role: 'editor' }),
    extensions: [{
      onLoadDocument: ({ document }) => void (serverDoc = document),
      onChange: () => void changes++,
    }],
    // Compaction (a full snapshot every ~1,000 updates) is measured separately below.
    tuning: { compactAfterUpdates: Number.MAX_SAFE_INTEGER, pingIntervalMs: 0 },
  });
  const http = createServer();
  http.on('upgrade', (req, socket, head) => sync.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/sync/${DOCUMENT}`;
  const open = async () => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(syncStep1('y-websocket', DOCUMENT));
    return socket;
  };
  const writer = await open();
  const observers = [new Observer(await open()), new Observer(await open())];
  await until(() => observers.every((o) => o.synced) && serverDoc !== null);

  const doc = new Y.Doc();
  const text = doc.getText('content');
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  /** One typing-like update at a random place: the history fragments like real editing. */
  const nextUpdate = (): Uint8Array => {
    let update: Uint8Array | null = null;
    const capture = (u: Uint8Array) => (update = u);
    doc.once('update', capture);
    if (text.length > 50 && random() < 0.2) text.delete(Math.floor(random() * (text.length - 1)), 1);
    else text.insert(Math.floor(random() * (text.length + 1)), 'ab');
    return update!;
  };
  let sent = 0;
  const send = (count: number): Uint8Array[] => {
    const updates = Array.from({ length: count }, nextUpdate);
    for (const update of updates) writer.send(updateMessage('y-websocket', DOCUMENT, update));
    sent += count;
    return updates;
  };
  const serverText = () => serverDoc!.getText('content');
  const delivered = () => observers.every((o) => o.received >= sent);

  const rows: string[][] = [];
  const compactionRows: string[][] = [];
  let age = 0;
  for (const targetAge of AGES) {
    while (age < targetAge) {
      const n = Math.min(2000, targetAge - age);
      send(n);
      age += n;
      await until(delivered);
    }
    const snapshotStart = process.cpuUsage();
    const snapshot = Y.encodeStateAsUpdate(serverDoc!);
    const snapshotCpu = cpuMs(snapshotStart);
    const kib = Math.max(1, snapshot.length / 1024);
    compactionRows.push([String(targetAge), kib.toFixed(0), snapshotCpu.toFixed(2), ((1000 * snapshotCpu) / kib).toFixed(0), ((1000 * snapshotCpu) / 1000).toFixed(1)]);
    for (const size of BATCH_SIZES) {
      const broadcast: number[] = [];
      const merge: number[] = [];
      for (let sample = 0; sample < SAMPLES; sample++) {
        store.closed = true;
        send(1); // its append is now in flight, blocked: the next B updates form one batch
        const before = store.batches.length;
        await until(() => store.batches.length > before);
        const updates = send(size);
        await until(() => serverText().length === text.length);
        const start = process.cpuUsage();
        store.open();
        // Both batches are committed, broadcast and reported to onChange (after the broadcast) in
        // the microtasks that follow: no I/O runs in between.
        for (let i = 0; changes < sent && i < 1_000_000; i++) await Promise.resolve();
        broadcast.push(cpuMs(start));
        if (store.batches.at(-1) !== size) throw new Error(`batch of ${store.batches.at(-1)} instead of ${size}`);
        if (changes !== sent) throw new Error(`only ${changes} of ${sent} changes committed after the gate opened`);
        const mergeStart = process.cpuUsage();
        if (updates.length > 1) Y.mergeUpdates(updates);
        merge.push(cpuMs(mergeStart));
        await until(delivered);
      }
      const b = median(broadcast);
      rows.push([String(targetAge), String(size), (1000 * b).toFixed(0), ((1000 * b) / size).toFixed(1), size > 1 ? (1000 * median(merge)).toFixed(0) : '-']);
    }
  }
  printTable(
    `Commit and broadcast of one durable batch to 2 peers (server CPU µs, median of ${SAMPLES}, incl. a no-op onChange hook per update; age = updates in the document's history before the batch)`,
    ['document age (updates)', 'batch size', 'commit + broadcast µs (this batch and the 1-update batch before it)', 'µs / update', 'Y.mergeUpdates of the batch µs (previous mechanism, on top)'],
    rows,
  );
  printTable(
    'Compaction snapshot (Y.encodeStateAsUpdate of the whole document, on the event loop). Now: after ≥ compactAfterUpdates updates that add up to ≥ the last snapshot\'s size, so its cost per appended KiB is flat; before: every ~1,000 updates whatever the size',
    ['document age (updates)', 'snapshot KiB', 'CPU ms', 'now: µs per appended KiB', 'before: µs per update'],
    compactionRows,
  );
  console.log(`\nMachine load average (1 min): ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores.`);
  writer.terminate();
  for (const o of observers) o.socket.terminate();
  await sync.close();
  http.close();
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('batch benchmark: timed out');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

