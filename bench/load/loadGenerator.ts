/**
 * The load generator process (pinned to its own core by load.ts): `clients` LeanClients on
 * `documents` documents, split across the nodes, each appending an edit `~<id>~` at
 * `editsPerSecond` on an open-loop schedule: edit k of client c is due at
 * t0 + k/rate + c/(rate·clients) whatever happened before, so the clients' edits are spread
 * evenly and a stall of the server or of this process shows up as latency. Latency = arrival at
 * a peer − scheduled time of the edit, per (edit, peer), split by whether origin and peer are on
 * the same node. At the end every client's document is checked for every edit of its document,
 * and compared with a fresh read from every node.
 *
 * usage: loadGenerator.ts '<LoadPlan JSON>' → prints one LoadResult JSON line.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { LatencyHistogram } from '../sync/LatencyHistogram.ts';
import { markersIn } from '../sync/wire.ts';
import { LeanClient } from './LeanClient.ts';
import type { LatencySummary, LoadPlan, LoadResult } from './LoadPlan.ts';

const MAX_ERRORS_KEPT = 20;
const CONNECT_BATCH = 20;
const DRAIN_TIMEOUT_MS = 20_000;
/** /proc/<pid>/stat counts CPU in clock ticks (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface Client {
  index: number;
  user: number;
  document: number;
  node: number;
  lean: LeanClient;
  /** Distinct edits of other clients seen so far. */
  received: number;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as LoadPlan;
  const { clients: clientCount, documents, nodes, editsPerSecond } = plan;
  const periodMs = 1000 / editsPerSecond;
  const editsPerClient = Math.floor(((plan.warmupMs + plan.measureMs) * editsPerSecond) / 1000);
  const totalEdits = editsPerClient * clientCount;
  const due = new Float64Array(totalEdits);
  /** seen[client * totalEdits + edit]: first arrival only (merged batches may repeat nothing, but a resync could). */
  const seen = new Uint8Array(clientCount * totalEdits);
  const histograms = { all: new LatencyHistogram(), sameNode: new LatencyHistogram(), crossNode: new LatencyHistogram() };
  const sendLag = new LatencyHistogram();
  /** Slowest delivery per second of the window (stalls show up as a few bad seconds). */
  const maxBySecond = new Float64Array(Math.ceil(plan.measureMs / 1000));
  const errors: string[] = [];
  let errorCount = 0;
  const error = (message: string) => {
    errorCount++;
    if (errors.length < MAX_ERRORS_KEPT) errors.push(message);
  };
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  /** Set once the run is over: closes after that are ours. */
  let finished = false;

  // Client c: user ⌊c / D⌋ on document c mod D, so each document has one client of each user.
  // With two nodes, users alternate between them: every document has clients on both.
  const clients: Client[] = [];
  const arrived = (client: Client, payload: Uint8Array, at: number) => {
    for (const id of markersIn(payload)) {
      if (id >= totalEdits) continue;
      const key = client.index * totalEdits + id;
      if (seen[key]) continue;
      seen[key] = 1;
      const origin = id % clientCount;
      if (origin === client.index) continue;
      client.received++;
      const scheduled = due[id]!;
      if (scheduled < windowStart || scheduled >= windowEnd) continue;
      const latency = at - scheduled;
      const second = Math.floor((scheduled - windowStart) / 1000);
      maxBySecond[second] = Math.max(maxBySecond[second]!, latency);
      histograms.all.record(latency);
      (clients[origin]!.node === client.node ? histograms.sameNode : histograms.crossNode).record(latency);
    }
  };
  for (let index = 0; index < clientCount; index++) {
    const user = Math.floor(index / documents.length);
    const document = index % documents.length;
    const node = user % nodes.length;
    const client: Client = { index, user, document, node, lean: null as unknown as LeanClient, received: 0 };
    client.lean = new LeanClient(nodes[node]!.url.replace(/^http/, 'ws'), documents[document]!, plan.cookies[user]!, (payload, at) => arrived(client, payload, at), (m) => error(`client ${index}: ${m}`));
    clients.push(client);
    if (index % CONNECT_BATCH === CONNECT_BATCH - 1) await waitUntil(() => clients.every((c) => c.lean.synced || c.lean.closeCode !== null), 30_000, 'clients synced');
  }
  await waitUntil(() => clients.every((c) => c.lean.synced || c.lean.closeCode !== null), 30_000, 'clients synced');
  for (const c of clients) if (!c.lean.synced) error(`client ${c.index} never synced (close ${c.lean.closeCode})`);
  for (const c of clients) {
    c.lean.socket.on('close', (code) => {
      if (!finished) error(`client ${c.index} closed by the server with ${code}`);
    });
  }

  // The open-loop schedule.
  const t0 = performance.now() + 100;
  windowStart = t0 + plan.warmupMs;
  windowEnd = windowStart + plan.measureMs;
  const cpuAtStart = cpuAt(windowStart, plan);
  const cpuAtEnd = cpuAt(windowEnd, plan);
  const scheduledAt = (id: number) => t0 + Math.floor(id / clientCount) * periodMs + (id % clientCount) * (periodMs / clientCount);
  let firstSentAt = 0;
  let lastSentAt = 0;
  let sent = 0;
  while (sent < totalEdits) {
    const now = performance.now();
    while (sent < totalEdits && scheduledAt(sent) <= now) {
      const id = sent++;
      const client = clients[id % clientCount]!;
      due[id] = scheduledAt(id);
      const sendAt = performance.now();
      sendLag.record(sendAt - due[id]!);
      if (id === 0) firstSentAt = sendAt;
      lastSentAt = sendAt;
      client.lean.append(`~${id}~`);
    }
    if (sent < totalEdits) await sleepUntil(scheduledAt(sent));
  }
  const achievedRate = ((sent - 1) * 1000) / Math.max(1, lastSentAt - firstSentAt);

  // Drain: every client has every other client's edits of its document.
  const editsPerDocument = totalEdits / documents.length;
  const ownEdits = editsPerClient;
  await waitUntil(() => clients.every((c) => c.received >= editsPerDocument - ownEdits), DRAIN_TIMEOUT_MS, 'deliveries drained').catch(() => {});
  finished = true;
  const [cpuStart, cpuEnd] = [await cpuAtStart, await cpuAtEnd];

  // Every edit is in every client's document exactly once; clients and every node agree.
  let lostUpdates = 0;
  let duplicatedUpdates = 0;
  let divergentDocuments = 0;
  const documentTexts: Record<string, string> = {};
  for (let d = 0; d < documents.length; d++) {
    const members = clients.filter((c) => c.document === d);
    const expected = new Set<number>();
    for (let id = 0; id < totalEdits; id++) if (clients[id % clientCount]!.document === d) expected.add(id);
    for (const c of members) {
      const counts = new Map<number, number>();
      for (const m of c.lean.text.toString().matchAll(/~(\d+)~/g)) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
      for (const id of expected) if (!counts.has(id)) lostUpdates++;
      for (const [id, n] of counts) if (n > 1 || !expected.has(id)) duplicatedUpdates += expected.has(id) ? n - 1 : n;
    }
    const text = members[0]!.lean.text.toString();
    documentTexts[documents[d]!] = text;
    const fresh = await Promise.all(nodes.map((n) => readThrough(n.url, documents[d]!, plan.cookies[0]!)));
    if (members.some((c) => c.lean.text.toString() !== text) || fresh.some((f) => f !== text)) divergentDocuments++;
  }

  const peersPerEdit = clientCount / documents.length - 1;
  let deliveriesExpected = 0;
  for (let id = 0; id < totalEdits; id++) if (due[id]! >= windowStart && due[id]! < windowEnd) deliveriesExpected += peersPerEdit;
  const result: LoadResult = {
    clients: clientCount,
    documents: documents.length,
    nodes: nodes.length,
    targetRate: editsPerSecond * clientCount,
    achievedRate,
    editsSent: sent,
    sendLag: summary(sendLag),
    deliveriesExpected,
    deliveriesSeen: histograms.all.count,
    errorCount,
    errors,
    lostUpdates,
    duplicatedUpdates,
    divergentDocuments,
    latency: { all: summary(histograms.all), sameNode: summary(histograms.sameNode), crossNode: summary(histograms.crossNode) },
    worstSeconds: [...maxBySecond].map((ms, second): [number, number] => [second, ms]).sort((a, b) => b[1] - a[1]).slice(0, 5),
    windowSeconds: plan.measureMs / 1000,
    serverCpuSeconds: cpuEnd.servers.map((s, i) => s - cpuStart.servers[i]!),
    postgresCpuSeconds: cpuEnd.postgres - cpuStart.postgres,
    redisCpuSeconds: cpuEnd.redis - cpuStart.redis,
    generatorCpuSeconds: cpuEnd.generator - cpuStart.generator,
    documentTexts,
  };
  for (const c of clients) c.lean.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The document's text as a node holds it now (a fresh client's first sync). */
async function readThrough(nodeUrl: string, documentName: string, cookie: string): Promise<string> {
  const lean = new LeanClient(nodeUrl.replace(/^http/, 'ws'), documentName, cookie, () => {}, () => {});
  try {
    await waitUntil(() => lean.synced || lean.closeCode !== null, 10_000, `fresh read of ${documentName}`);
    return lean.synced ? lean.text.toString() : `(closed with ${lean.closeCode})`;
  } finally {
    lean.close();
  }
}

function summary(h: LatencyHistogram): LatencySummary {
  return { count: h.count, p50: h.quantile(0.5), p95: h.quantile(0.95), p99: h.quantile(0.99), max: h.max };
}

interface CpuSample {
  servers: number[];
  postgres: number;
  redis: number;
  generator: number;
}

async function cpuAt(at: number, plan: LoadPlan): Promise<CpuSample> {
  await sleepUntil(at);
  const { user, system } = process.cpuUsage();
  return {
    servers: plan.nodes.map((n) => processCpuSeconds(n.pid)),
    postgres: cpuSecondsOf((command, title) => command === 'postgres' && (title.includes(` ${plan.databaseName} `) || POSTGRES_WRITERS.test(title))),
    redis: cpuSecondsOf((command) => command === 'redis-server'),
    generator: (user + system) / 1e6,
  };
}

/** utime + stime of a process (all its threads), in seconds; 0 if it is gone. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** PostgreSQL's shared writers (the other server processes serve other databases too). */
const POSTGRES_WRITERS = /: (walwriter|checkpointer|background writer)\b/;

/** CPU seconds of every process `select`ed by its command name and process title. */
function cpuSecondsOf(select: (command: string, title: string) => boolean): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (command !== 'postgres' && command !== 'redis-server') continue;
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (select(command, title)) total += processCpuSeconds(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** Timer-based: the generator never spins (its CPU stays measurable); ≤ ~1 ms late, counted in sendLag. */
async function sleepUntil(at: number): Promise<void> {
  const remaining = at - performance.now();
  if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

await main();
