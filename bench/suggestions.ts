/**
 * Shared AI edit propagation: how long after the model emits a token every participant of the
 * session has it. One requester asks for an AI edit; the suggestion streams through the real
 * Tandem server (API only, its own process) to 8 participants, each with its own account and
 * one `stream.events` SSE subscription. The model is an OpenAI-compatible endpoint in THIS
 * process (suggestions/FakeChatModel.ts), so emit and arrival times share a clock:
 *
 *   latency(token, participant) = time the frame completing the token was read − time the token
 *   was written to the model's socket
 *
 * It covers model → server (HTTP SSE) → fence stripping, frame coalescing, streaming diff →
 * EventHub → 8 SSE streams → JSON parse. Server and benchmark are pinned to different cores when
 * taskset works. Run: `npm run bench -w @tandem/bench -- suggestions` (~30 s).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { FILE_TEXT, TREE_MAP, fileDocName, treeDocName } from '@tandem/protocol';
import { startTandem, type Child } from './relay/processes.ts';
import { FakeChatModel, tokenEnds } from './suggestions/FakeChatModel.ts';
import { Participant, type Tracking } from './suggestions/Participant.ts';
import { LatencyHistogram } from './sync/LatencyHistogram.ts';

const PARTICIPANTS = 8;
const RATES = [200, 1000, 3000];
const STREAM_SECONDS = 1.5;
const REPEATS = 2;
const SERVER_CORE = '1';
const BENCH_CORE = '0';

/** The code being rewritten: ~30 lines, so the streaming diff has real work to do per frame. */
const BASE_CODE = Array.from({ length: 30 }, (_, i) => `export function f${i}(x) {\n  return x + ${i};\n}\n`).join('');

interface Row {
  rate: number;
  tokens: number;
  latency: LatencyHistogram;
  first: LatencyHistogram;
  frames: number;
  bytes: number;
  cpuSeconds: number;
  seconds: number;
}

export async function runSuggestionsBenchmark(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const dataDir = await mkdtemp(join(tmpdir(), 'tandem-suggestions-bench-'));
  const model = new FakeChatModel();
  let tandem: Child | null = null;
  const participants: Participant[] = [];
  try {
    tandem = await startTandem(await model.listen(), dataDir);
    const pinned = pin(tandem.proc.pid!, SERVER_CORE) && pin(process.pid, BENCH_CORE);
    console.log(`\n# Shared AI edit propagation: model → Tandem server → ${PARTICIPANTS} participants (SSE)` +
      `${pinned ? `; server on core ${SERVER_CORE}, model and participants on core ${BENCH_CORE}` : '; NOT pinned (taskset unavailable)'}`);

    const owner = await Participant.signUp(tandem.url, 'Owner');
    participants.push(owner);
    const { id: projectId } = await owner.call<{ id: string }>('projects.create', { name: 'Suggestion bench', template: 'empty' });
    for (let i = 1; i < PARTICIPANTS; i++) {
      const p = await Participant.signUp(tandem.url, `Member${i}`);
      const { token } = await owner.call<{ token: string }>('invites.create', { projectId, role: 'editor' });
      await p.call('invites.accept', { token });
      participants.push(p);
    }
    const fileId = await createFile(tandem.url, owner.cookie, projectId, BASE_CODE);
    for (const p of participants) await p.subscribe(projectId);

    const measure = (row: Row, tokens: number) => stream(tandem!, model, participants, projectId, fileId, row, tokens);
    await measure(newRow(3000), 1500); // warm-up: JIT, connections, first queries
    const rows: Row[] = [];
    for (const rate of RATES) {
      const row = newRow(rate);
      for (let k = 0; k < REPEATS; k++) await measure(row, Math.round(rate * STREAM_SECONDS));
      rows.push(row);
    }
    print(rows);
    console.log(`\nMachine load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores; above ~0.5 other processes were competing for the cores.`);
  } finally {
    for (const p of participants) p.close();
    await tandem?.stop();
    await model.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function newRow(rate: number): Row {
  return { rate, tokens: 0, latency: new LatencyHistogram(), first: new LatencyHistogram(), frames: 0, bytes: 0, cpuSeconds: 0, seconds: 0 };
}

/** One suggestion of `tokens` tokens at the row's rate, recorded into `row`; waits until every participant has all of it. */
async function stream(tandem: Child, model: FakeChatModel, participants: Participant[], projectId: string, fileId: string, row: Row, tokens: number): Promise<void> {
  const { rate } = row;
  const ends = tokenEnds(tokens);
  const emitted = model.expect(tokens, rate);
  const trackings: Tracking[] = participants.map((p) => p.track(ends));
  const cpuBefore = cpuSeconds(tandem.proc.pid!);
  const startedAt = performance.now();
  const requester = participants[0]!;
  const view = await requester.call<{ id: string }>('suggestions.request', {
    projectId, fileId, instruction: 'rewrite', range: { kind: 'offsets', start: 0, end: BASE_CODE.length },
  });
  await withTimeout(Promise.all(trackings.map((t) => t.finished)), 60_000, `${tokens} tokens at ${rate} tok/s`);
  const emittedAt = await emitted;
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = cpuSeconds(tandem.proc.pid!) - cpuBefore;
  await waitUntil(() => participants.every((p) => p.statuses.get(view.id) === 'ready'), 10_000);
  await requester.call('suggestions.rejectAll', { projectId, suggestionId: view.id });

  row.tokens += tokens;
  row.cpuSeconds += cpu;
  row.seconds += seconds;
  for (const t of trackings) {
    for (let i = 0; i < tokens; i++) row.latency.record(t.arrivals[i]! - emittedAt[i]!);
    row.first.record(t.arrivals[0]! - emittedAt[0]!);
    row.frames += t.frames;
    row.bytes += t.bytes;
  }
  process.stdout.write('.');
}

function print(rows: Row[]): void {
  const header = ['tok/s', 'tokens', 'deliveries', 'p50 ms', 'p99 ms', 'max ms', 'first token p50 ms', 'frames/s per participant', 'tokens/frame', 'KB/s per participant', 'server CPU %'];
  const cells = rows.map((r) => {
    const perParticipantFrames = r.frames / PARTICIPANTS;
    return [
      String(r.rate), String(r.tokens), String(r.latency.count), fixed(r.latency.quantile(0.5)), fixed(r.latency.quantile(0.99)), fixed(r.latency.max, 1),
      fixed(r.first.quantile(0.5)), fixed(perParticipantFrames / r.seconds, 0), fixed(r.tokens / perParticipantFrames, 1),
      fixed(r.bytes / PARTICIPANTS / 1024 / r.seconds, 0), fixed((100 * r.cpuSeconds) / r.seconds, 0),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n\nToken propagation to ${PARTICIPANTS} participants, ${REPEATS} streams of ${STREAM_SECONDS} s per rate (arrival − model emit)\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

/** A file in the project, written through the sync endpoint like any client; resolves once the server has it. */
async function createFile(baseUrl: string, cookie: string, projectId: string, content: string): Promise<string> {
  const fileId = 'bench-file';
  const tree = await connect(baseUrl, cookie, treeDocName(projectId));
  tree.doc.getMap(TREE_MAP).set(fileId, { path: 'src/bench.js', kind: 'file' });
  const writer = await connect(baseUrl, cookie, fileDocName(projectId, fileId));
  writer.doc.getText(FILE_TEXT).insert(0, content);
  const reader = await connect(baseUrl, cookie, fileDocName(projectId, fileId));
  await waitUntil(() => reader.doc.getText(FILE_TEXT).toString() === content, 10_000);
  for (const c of [tree, writer, reader]) {
    c.provider.destroy();
    c.doc.destroy(); // also stops its awareness timer, which would keep this process alive
  }
  return fileId;
}

async function connect(baseUrl: string, cookie: string, documentName: string) {
  class CookieWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { cookie } });
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(baseUrl.replace(/^http/, 'ws') + '/sync', documentName, doc, {
    WebSocketPolyfill: CookieWebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  await waitUntil(() => provider.synced, 10_000);
  return { doc, provider };
}

function pin(pid: number, core: string): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', core, String(pid)], { stdio: 'ignore' }).status === 0;
}

/** User + system CPU time of a process, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('benchmark: timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms))),
  ]);
}

const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
