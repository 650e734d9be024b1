/**
 * Trace benchmark: real editing traces (../shared/fixtures/editing-traces) replayed with the stock
 * clients through each server, two observers per document; time until every observer has the
 * final text, server CPU-seconds and bytes, as ratios to @y/websocket-server in the same run.
 * Run: `npm run bench -w @tandem/bench -- traces` (`--full`: whole traces; `--limit=N`: first N transactions; `--repeats=N`). See README.md.
 */
import { cpus, loadavg } from 'node:os';
import { DEFAULT_SERVERS, LOAD_CORE, exited, firstLine, printTable, start, startServer, stopServer, taskSetAvailable } from './sync.ts';
import { SERVER_LABELS, type ServerKind } from './sync/servers.ts';
import type { ReplayPlan, ReplayResult } from './traces/replayClient.ts';

const SERVERS: ServerKind[] = (process.env.TRACES_BENCH_SERVERS?.split(',') as ServerKind[] | undefined) ?? DEFAULT_SERVERS;
const REFERENCE: ServerKind = 'y-websocket-server';
const OBSERVERS = 2;

interface Scenario {
  label: string;
  traces: { name: string; limit: number | null }[];
}

/**
 * The first 20,000 / 10,000 transactions by default (each whole trace is 260k / 137k: minutes per
 * server on two shared cores); `--limit=N` or `--full` replay more. `concurrent`: both at once,
 * one writer (author) each, on two documents.
 */
function scenarios(full: boolean, limit: number | null): Scenario[] {
  const paper = { name: 'automerge-paper', limit: full ? null : (limit ?? 20_000) };
  const blog = { name: 'seph-blog1', limit: full ? null : (limit ?? 10_000) };
  const first = (n: number | null) => (n === null ? '' : ` (first ${n / 1000}k)`);
  return [
    { label: `automerge-paper${first(paper.limit)}`, traces: [paper] },
    { label: `seph-blog1${first(blog.limit)}`, traces: [blog] },
    { label: 'concurrent: both, one writer each', traces: [paper, blog] },
  ];
}

interface Run {
  server: ServerKind;
  scenario: string;
  result: ReplayResult;
}

export async function runTracesBenchmark(options: string[]): Promise<void> {
  const full = options.includes('--full');
  const repeats = Number(options.find((o) => o.startsWith('--repeats='))?.split('=')[1] ?? 1);
  const pinning = taskSetAvailable();
  const loadBefore = loadavg()[0]!;
  const limitOption = options.find((o) => o.startsWith('--limit='));
  const list = scenarios(full, limitOption ? Number(limitOption.split('=')[1]) : null);
  console.log(`\n# Trace benchmark (stock clients, ${OBSERVERS} observers per document, ${repeats} runs per server and trace, servers in rotating order${pinning ? '; server and clients pinned to separate cores' : '; NOT pinned: taskset unavailable'})`);
  const runs: Run[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const order = SERVERS.map((_, i) => SERVERS[(i + repeat) % SERVERS.length]!);
    for (const server of order) {
      const running = await startServer(server, pinning);
      try {
        for (const [index, scenario] of list.entries()) {
          const { process: _child, dataDirectory: _directory, ...announced } = running;
          const plan: ReplayPlan = { server: announced, traces: scenario.traces, observers: OBSERVERS, runId: `${repeat}-${index}` };
          const child = start('traces/replayClient.ts', [JSON.stringify(plan)], pinning ? LOAD_CORE : null);
          const result = JSON.parse(await firstLine(child, 400_000)) as ReplayResult;
          await exited(child);
          runs.push({ server, scenario: scenario.label, result });
          process.stdout.write('.');
        }
      } finally {
        await stopServer(running);
      }
    }
  }
  console.log('\n\nServers:');
  for (const server of SERVERS) console.log(`- ${server}: ${SERVER_LABELS[server]}`);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const rows: string[][] = [];
  for (const scenario of list) {
    const of = (server: ServerKind) => runs.filter((r) => r.server === server && r.scenario === scenario.label).map((r) => r.result);
    const reference = of(REFERENCE);
    const refMs = reference.length > 0 ? median(reference.map((r) => r.convergedMs)) : Number.NaN;
    const refCpu = reference.length > 0 ? median(reference.map((r) => r.serverCpuSeconds)) : Number.NaN;
    for (const server of SERVERS) {
      const results = of(server);
      const ms = median(results.map((r) => r.convergedMs));
      const cpu = median(results.map((r) => r.serverCpuSeconds));
      rows.push([
        scenario.label, server, String(results[0]!.transactions),
        results.map((r) => (r.convergedMs / 1000).toFixed(2)).join(' / '), (ms / 1000).toFixed(2), (ms / refMs).toFixed(2),
        cpu.toFixed(2), (cpu / refCpu).toFixed(2),
        (median(results.map((r) => r.bytesFromServer)) / 1e6).toFixed(2),
        results.every((r) => r.converged) ? 'yes' : `NO (${results.filter((r) => !r.converged).length} runs)`,
      ]);
    }
  }
  printTable(
    `Trace replay: observers have the final text (s after the first transaction); ratios to ${REFERENCE} (lower is better)`,
    ['trace', 'server', 'txns', 'each run s', 'median s', `÷ ${REFERENCE}`, 'server CPU s', `CPU ÷ ${REFERENCE}`, 'MB sent by server', 'converged'],
    rows,
  );
  console.log(`\nMachine load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores.`);
  if (runs.some((r) => !r.result.converged)) process.exitCode = 1;
}
