/**
 * External agents over ACP: what the protocol adds over the built-in agent's path, with the
 * scripted SDK agent as a real process in the real sandbox (bubblewrap), a real SyncServer on
 * PGlite, and 8 participants subscribed to the project channel (the hub every SSE stream reads).
 *
 *   - per `fs/read_text_file`: the agent's round trip (request → answer, measured in the agent)
 *     against the built-in agent's read of the same file (`AgentWorkspace.read`, in process),
 *     after the same warm-up on both sides. To say where the tail comes from it also shows
 *     Tandem's own share (request bytes in on the agent's stdout → answer written to its stdin,
 *     timed on the streams the runner reads), and how many of the slowest 1% overlapped a GC
 *     pause of the agent process or of the server.
 *   - per `fs/write_text_file` (a whole-file write of src/math.js, last line changing): the same,
 *     against the built-in agent's write tool (`AgentWorkspace.write` + the changeset event).
 *     The ACP write also puts the file on the agent's disk (its shell must see what it wrote).
 *   - per `session/update` fan-out: agent stamps a message chunk (wall clock, µs) → the chunk's
 *     `agent.delta` arrives at all 8 participants, against the built-in path (a delta published
 *     by the run, stamped in process → the same 8 participants).
 * Target: ≤ 2 ms p99 added per call / per update. Run: `npm run bench -w @tandem/bench -- acp`.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { join } from 'node:path';
import { createPGliteTestDatabase } from '@tandem/db/testing';
import { PrismaDocumentStore } from '@tandem/db';
import { SyncServer } from '@tandem/collab';
import { AGENT_EVENTS, AppError, type AgentDeltaEvent, type AgentItem } from '@tandem/protocol';
import { SandboxHost } from '@tandem/sandbox';
import { callerFactory, RecordedEvents, testServices } from '../src/testing.ts';
import { projectChannel } from '../src/EventHub.ts';
import { LiveProjectFiles } from '../src/sandbox/LiveProjectFiles.ts';
import { AgentService } from '../src/agent/AgentService.ts';
import { AgentWorkspace } from '../src/agent/AgentWorkspace.ts';
import { SearchWorkers } from '../src/search/SearchWorkers.ts';
import { LiveAgentRun } from '../src/agent/LiveAgentRun.ts';
import { fixtureAgent } from '../src/agent/acp/testing/fixtureAgentConfig.ts';

const N = 1000;
/** Discarded calls before timing, the same on both sides. */
const WARMUP = 50;
const PARTICIPANTS = 8;
const MATH = Array.from({ length: 200 }, (_, i) => `export const v${i} = ${i}; // a line of a 200-line file`).join('\n') + '\n';

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const fmt = (v: number[]) => `p50 ${pct(v, 50).toFixed(3)} ms  p99 ${pct(v, 99).toFixed(3)} ms`;

const db = await createPGliteTestDatabase();
const base = mkdtempSync(join(tmpdir(), 'tandem-acp-bench-'));
chmodSync(base, 0o711);
const services = testServices();
const files: LiveProjectFiles = new LiveProjectFiles({ editDocument: (...a) => sync.editDocument(...a), readDocument: (name, read) => sync.readDocument(name, read), touch: (name) => sync.touch(name) });
const sync: SyncServer = new SyncServer({ store: new PrismaDocumentStore(db.prisma), onAuthenticate: () => { throw new AppError('UNAUTHENTICATED', 'none'); }, extensions: [files.syncExtension] });
const host = new SandboxHost({ rootDir: join(base, 'sandboxes'), cgroupName: 'tandem-acp-bench', log: () => {} });
// Tandem's share of each call: the agent's request arriving on its stdout → the answer written.
const served: number[] = [];
/**
 * The server's main thread CPU time (user + system, ms; 10 ms ticks, so read over 1000 calls):
 * what Tandem's own work per call costs, which load hardly changes (unlike the wall clock).
 */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const [utime, stime] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number);
  return (utime! + stime!) * 10;
}
// Main thread CPU when answer k was written, for the answers that open and close the timed calls.
const cpuAt = new Map<number, number>();
const cpuMarks = new Set([2 + WARMUP, 2 + WARMUP + N, 2 + 2 * WARMUP + N, 2 + 2 * WARMUP + 2 * N]);
const spawn = host.spawn.bind(host);
host.spawn = async (...args) => {
  const proc = await spawn(...args);
  let arrived: number | null = null;
  proc.stdout.on('data', () => (arrived = performance.now()));
  const write = proc.stdin.write.bind(proc.stdin) as (...a: unknown[]) => boolean;
  proc.stdin.write = ((...a: unknown[]) => {
    if (arrived !== null) served.push(performance.now() - arrived);
    if (cpuMarks.has(served.length - 1) && !cpuAt.has(served.length - 1)) cpuAt.set(served.length - 1, mainThreadCpuMs());
    arrived = null;
    return write(...a);
  }) as typeof proc.stdin.write;
  return proc;
};
const serverGc: number[][] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) serverGc.push([performance.timeOrigin + e.startTime, e.duration]);
}).observe({ entryTypes: ['gc'] });
const fixture = fixtureAgent();
const agent = new AgentService({ prisma: db.prisma, hub: services.hub, documents: sync, files, sandbox: host, acpAgents: [fixture.config], logError: () => {} });
const t = callerFactory(db.prisma, undefined, new RecordedEvents(), { ...services, agent });
try {
  const loadBefore = loadavg()[0]!;
  const owner = await t.signUp('Owner');
  const { id: projectId } = await t.callerFor(owner).projects.create({ name: 'ACP bench', template: 'empty' });
  await files.create(projectId, 'src/math.js', MATH, { id: owner.id, name: owner.name });
  await t.callerFor(owner).agent.setExternalAgents({ projectId, enabled: ['fixture'] });

  // 8 participants; each delta's arrival time per participant, keyed by its text.
  const arrivals: Array<Map<string, number>> = [];
  const aborts: AbortController[] = [];
  for (let i = 0; i < PARTICIPANTS; i++) {
    const seen = new Map<string, number>();
    const abort = new AbortController();
    arrivals.push(seen);
    aborts.push(abort);
    void (async () => {
      for await (const e of services.hub.subscribe([projectChannel(projectId)], { projectId, userId: owner.id, signal: abort.signal })) {
        if (e.type === AGENT_EVENTS.delta) seen.set((e.data as AgentDeltaEvent).text, nowUs());
      }
    })();
  }
  const fanOut = (stamps: string[]) => stamps.map((s) => (Math.max(...arrivals.map((m) => m.get(s) ?? Infinity)) - Number(s.slice(1, -1))) / 1000);

  // Built-in path: the workspace read and write tool, and a delta published by the run.
  const workspace = new AgentWorkspace({ docs: sync, files, searches: new SearchWorkers({ maxWorkers: 1, timeoutMs: 5000 }) }, projectId, []);
  const run = new LiveAgentRun(services.hub, { id: 'builtin-bench', projectId } as never, workspace);
  const builtinCpu: number[] = [];
  const timed = async (call: (i: number) => Promise<unknown>): Promise<number[]> => {
    for (let i = 0; i < WARMUP; i++) await call(i);
    const out: number[] = [];
    const cpu0 = mainThreadCpuMs();
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await call(WARMUP + i);
      out.push(performance.now() - t0);
    }
    builtinCpu.push((mainThreadCpuMs() - cpu0) / N);
    return out;
  };
  const reads = await timed(() => workspace.read('src/math.js'));
  const writes = await timed(async (i) => {
    await workspace.write('src/math.js', `${MATH}// write ${i}\n`);
    run.changesetChanged();
  });
  const item = run.add<Extract<AgentItem, { kind: 'agent_message' }>>({ kind: 'agent_message', text: '', turn: 1 });
  const builtinStamps: string[] = [];
  for (let i = 0; i < N; i++) {
    const text = `@${nowUs()};`;
    builtinStamps.push(text);
    run.publish(AGENT_EVENTS.delta, { runId: run.id, seq: item.seq, offset: item.text.length, text });
    item.text += text;
    await new Promise((r) => setTimeout(r, 3));
  }
  await new Promise((r) => setTimeout(r, 200));
  const builtinFan = fanOut(builtinStamps);

  // ACP path: the scripted agent in the sandbox.
  const view = await t.callerFor(owner).agent.start({ projectId, task: `bench:${N}:${WARMUP}`, agent: 'fixture' });
  let done: Awaited<ReturnType<typeof agent.get>>;
  for (;;) {
    done = await agent.get(projectId, view.id);
    if (done.run.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (done.run.status !== 'ready') throw new Error(`the run ended ${done.run.status}: ${done.run.error}`);
  const thought = done.items.find((i) => i.kind === 'thought');
  type Timed = { rtts: number[]; sent: number[] };
  type Sent = { first: number; rtts: number[]; gaps: number[] };
  const raw = JSON.parse(thought?.kind === 'thought' ? thought.text : '{}') as { reads: Sent; writes: Sent; gc: number[][] };
  const decode = ({ first, rtts, gaps }: Sent): Timed => {
    let at = first;
    return { rtts: rtts.map((u) => u / 100), sent: gaps.map((g) => (at += g / 100)) };
  };
  const measured = { reads: decode(raw.reads), writes: decode(raw.writes) };
  const agentGc = raw.gc;
  // Answers before the timed reads: initialize, session/new, the first read, WARMUP reads; then the writes' WARMUP.
  const tandemReads = served.slice(3 + WARMUP, 3 + WARMUP + N);
  const tandemWrites = served.slice(3 + 2 * WARMUP + N, 3 + 2 * WARMUP + 2 * N);
  const cpuOver = (from: number) => (cpuAt.get(from + N)! - cpuAt.get(from)!) / N;
  const acpCpu = [cpuOver(2 + WARMUP), cpuOver(2 + 2 * WARMUP + N)];
  const tail = ({ rtts, sent }: Timed) => {
    const slowest = rtts.map((ms, i) => ({ ms, from: sent[i]!, to: sent[i]! + ms })).sort((a, b) => b.ms - a.ms).slice(0, Math.ceil(N / 100));
    const overlaps = (pauses: number[][]) => slowest.filter((c) => pauses.some(([at, ms]) => at! < c.to && at! + ms! > c.from)).length;
    return `slowest 1% (${slowest.length}, ${slowest.map((c) => c.ms.toFixed(2)).join(' ')} ms): ${overlaps(agentGc)} overlap a GC pause of the agent (${agentGc.length} pauses in all, max ${Math.max(0, ...agentGc.map((g) => g[1]!)).toFixed(2)} ms), ${overlaps(serverGc)} one of the server`;
  };
  const message = done.items.find((i) => i.kind === 'agent_message');
  const acpStamps = (message?.kind === 'agent_message' ? message.text : '').split(';').filter(Boolean).map((s) => `${s};`);
  const acpFan = fanOut(acpStamps);
  for (const a of aborts) a.abort();

  console.log(`\nACP overhead (${N} calls each, ${PARTICIPANTS} participants, load ${loadBefore.toFixed(1)} on ${cpus().length} cores)`);
  for (const [name, acp, builtin, tandem, what, i] of [
    ['fs/read_text_file ', measured.reads, reads, tandemReads, 'read (AgentWorkspace.read)     ', 0],
    ['fs/write_text_file', measured.writes, writes, tandemWrites, 'write (AgentWorkspace.write)   ', 1],
  ] as const) {
    console.log(`  ${name} round trip (agent in sandbox) ${fmt(acp.rtts)}`);
    console.log(`  built-in ${what}      ${fmt(builtin)}`);
    console.log(`  → added per call: p50 ${(pct(acp.rtts, 50) - pct(builtin, 50)).toFixed(3)} ms, p99 ${(pct(acp.rtts, 99) - pct(builtin, 99)).toFixed(3)} ms (target ≤ 2 ms p99)`);
    console.log(`    of which Tandem (request in → answer written) ${fmt(tandem)}`);
    console.log(`    server main thread CPU per call: ${acpCpu[i]!.toFixed(3)} ms over ACP, ${builtinCpu[i]!.toFixed(3)} ms built-in`);
    console.log(`    ${tail(acp)}`);
  }
  console.log(`  session/update → all ${PARTICIPANTS} participants    ${fmt(acpFan)}`);
  console.log(`  built-in delta → all ${PARTICIPANTS} participants    ${fmt(builtinFan)}`);
  console.log(`  → added per update: p50 ${(pct(acpFan, 50) - pct(builtinFan, 50)).toFixed(3)} ms, p99 ${(pct(acpFan, 99) - pct(builtinFan, 99)).toFixed(3)} ms (target ≤ 2 ms p99)`);
} finally {
  await agent.close();
  await host.close();
  await sync.close();
  await db.destroy();
  fixture.dispose();
  rmSync(base, { recursive: true, force: true });
}
