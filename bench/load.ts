/**
 * Load benchmark: 200 clients over 20 documents, 5 edits/s each (1,000 edits/s, ~9,000
 * deliveries/s), for 60 s after a 5 s warm-up, against the real Tandem server on a fresh
 * PostgreSQL database: one node, then the same load split across two nodes sharing PostgreSQL
 * and Redis (when the multi-node mode is present). Open-loop schedule; latency origin → peer from
 * the scheduled send time; every client's final document is checked for every edit, against the
 * others, a fresh read from every node, and the database.
 *
 * Run: `npm run bench -w @tandem/bench -- load` (~3 min), `… -- load --quick` (10 s windows),
 * `… -- load --nodes=1` or `--nodes=2` for one mode. See README.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as Y from 'yjs';
import { textOf } from '@tandem/collab';
import type { LatencySummary, LoadPlan, LoadResult } from './load/LoadPlan.ts';
import { TandemNodes, setUpProject } from './load/TandemNodes.ts';

const CLIENTS = 200;
const DOCUMENTS = 20;
const EDITS_PER_SECOND = 5;
const USERS = CLIENTS / DOCUMENTS;
/** A run whose generator could not keep the target rate measures the generator, not the server. */
const MIN_RATE_FRACTION = 0.98;
const SERVER_CORE = '1';
const LOAD_CORE = '0';
const MULTI_NODE_SOURCE = resolve(import.meta.dirname, '../apps/server/src/cluster');

interface Run {
  nodes: number;
  result: LoadResult;
  /** Documents whose stored state (PostgreSQL) differs from what the clients hold. */
  storedMismatches: number;
}

export async function runLoadBenchmark(options: string[] = []): Promise<void> {
  const quick = options.includes('--quick');
  const nodeOption = options.find((o) => o.startsWith('--nodes='))?.slice('--nodes='.length);
  const multiNode = existsSync(MULTI_NODE_SOURCE);
  const modes = nodeOption ? [Number(nodeOption)] : multiNode ? [1, 2] : [1];
  const timing = quick ? { warmupMs: 2000, measureMs: 10_000 } : { warmupMs: 5000, measureMs: 60_000 };
  const pinning = spawnSync('taskset', ['-c', SERVER_CORE, 'true']).status === 0;
  const loadBefore = loadavg()[0]!;
  console.log(`\n# Load benchmark: ${CLIENTS} clients, ${DOCUMENTS} documents, ${EDITS_PER_SECOND} edits/s each, ${timing.measureMs / 1000} s window after ${timing.warmupMs / 1000} s warm-up${quick ? ' (--quick)' : ''}`);
  console.log(`(real Tandem server(s) on a fresh PostgreSQL database; load generator in its own process; ${pinning ? `server(s) pinned to core ${SERVER_CORE}, generator to core ${LOAD_CORE}` : 'NOT pinned: taskset unavailable'}; PostgreSQL and Redis unpinned)`);
  if (!nodeOption && !multiNode) console.log('(two nodes skipped: the multi-node mode (apps/server/src/cluster) is not present; --nodes=2 forces it)');

  const runs: Run[] = [];
  for (const nodes of modes) {
    process.stdout.write(`\n${nodes} node${nodes > 1 ? 's' : ''}: starting… `);
    runs.push(await runMode(nodes, timing, pinning));
    console.log('done');
  }
  printResults(runs);
  for (const run of runs) {
    if (run.result.errors.length > 0) console.log(`\nFirst errors (${run.nodes} node${run.nodes > 1 ? 's' : ''}):\n  ${run.result.errors.join('\n  ')}`);
  }
  const broken = runs.filter(({ result: r, storedMismatches }) =>
    r.errorCount + r.lostUpdates + r.duplicatedUpdates + r.divergentDocuments + storedMismatches > 0 || r.deliveriesSeen < r.deliveriesExpected);
  if (broken.length > 0) {
    console.log(`\nFAILED: errors, lost or divergent updates with ${broken.map((r) => `${r.nodes} node(s)`).join(' and ')} (see the table).`);
    process.exitCode = 1;
  } else {
    console.log('\nCorrectness: no errors; every client holds every edit of its document exactly once, identical to every node and to PostgreSQL.');
  }
  console.log(`\nMachine load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores; above ~0.5 other processes were competing for the cores.`);
}

async function runMode(nodeCount: number, timing: { warmupMs: number; measureMs: number }, pinning: boolean): Promise<Run> {
  const system = await TandemNodes.start(nodeCount, pinning ? SERVER_CORE : null);
  try {
    const { projectId, cookies } = await setUpProject(system.nodes[0]!.url, USERS);
    const documents = Array.from({ length: DOCUMENTS }, (_, i) => `${projectId}/file/load-${String(i).padStart(2, '0')}`);
    const plan: LoadPlan = {
      nodes: system.nodes.map(({ url, pid }) => ({ url, pid })),
      databaseName: system.databaseName!,
      documents, cookies, clients: CLIENTS, editsPerSecond: EDITS_PER_SECOND, ...timing,
    };
    process.stdout.write('running… ');
    const result = await generateLoad(plan, pinning, timing.warmupMs + timing.measureMs + 120_000);
    const stored = system.storedDocuments(documents);
    let storedMismatches = 0;
    for (const name of documents) {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, Y.mergeUpdates(stored.get(name)!));
      if (textOf(doc).toString() !== result.documentTexts[name]) storedMismatches++;
      doc.destroy();
    }
    return { nodes: nodeCount, result, storedMismatches };
  } finally {
    await system.stop();
  }
}

function generateLoad(plan: LoadPlan, pinning: boolean, timeoutMs: number): Promise<LoadResult> {
  const node = [process.execPath, '--import', 'tsx', resolve(import.meta.dirname, 'load/loadGenerator.ts'), JSON.stringify(plan)];
  const [command, ...args] = pinning ? ['taskset', '-c', LOAD_CORE, ...node] : node;
  const child: ChildProcess = spawn(command!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolveResult, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('load generator timed out'));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolveResult(JSON.parse(line) as LoadResult);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`load generator exited with ${code}`));
    });
  });
}

const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const percentOfCore = (cpuSeconds: number, r: LoadResult) => fixed((100 * cpuSeconds) / r.windowSeconds, 0);

function printResults(runs: Run[]): void {
  printTable(
    'Throughput and correctness (lost = edits missing from a client\'s final document; stored ≠ = documents whose PostgreSQL state differs from the clients\')',
    ['nodes', 'clients', 'docs', 'target edits/s', 'sent edits/s', 'status', 'errors', 'lost', 'dup', 'diverged', 'stored ≠', 'delivered', 'server CPU %', 'postgres CPU %', 'redis CPU %', 'generator CPU %'],
    runs.map(({ nodes, result: r, storedMismatches }) => [
      String(nodes), String(r.clients), String(r.documents), fixed(r.targetRate, 0), fixed(r.achievedRate, 1),
      r.achievedRate >= MIN_RATE_FRACTION * r.targetRate ? 'ok' : `INVALID (<${MIN_RATE_FRACTION * 100}% of target)`,
      String(r.errorCount), String(r.lostUpdates), String(r.duplicatedUpdates), String(r.divergentDocuments), String(storedMismatches),
      `${r.deliveriesSeen}/${r.deliveriesExpected}`,
      r.serverCpuSeconds.map((s) => percentOfCore(s, r)).join(' + '), percentOfCore(r.postgresCpuSeconds, r),
      r.nodes > 1 ? percentOfCore(r.redisCpuSeconds, r) : '-', percentOfCore(r.generatorCpuSeconds, r),
    ]),
  );
  const latencyRows: string[][] = [];
  for (const { nodes, result: r } of runs) {
    const row = (path: string, s: LatencySummary) => [String(nodes), path, String(s.count), fixed(s.p50, 2), fixed(s.p95, 2), fixed(s.p99, 2), fixed(s.max, 1)];
    latencyRows.push(row('all', r.latency.all));
    if (nodes > 1) {
      latencyRows.push(row('same node', r.latency.sameNode));
      latencyRows.push(row('cross node (origin on A → peer on B)', r.latency.crossNode));
    }
    latencyRows.push(row('(generator send lag)', r.sendLag));
  }
  printTable(
    'Origin → peer latency, ms (arrival at each peer − the edit\'s scheduled send time, open loop; the send lag row is how late the generator itself sent, already included above)',
    ['nodes', 'path', 'samples', 'p50', 'p95', 'p99', 'max'],
    latencyRows,
  );
  console.log('\nWorst seconds of the window (second: slowest delivery ms) — periodic stalls show up here:');
  for (const { nodes, result: r } of runs) {
    console.log(`  ${nodes} node${nodes > 1 ? 's' : ''}: ${r.worstSeconds.map(([second, ms]) => `${second}s: ${fixed(ms, 0)}`).join(', ')}`);
  }
}

function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}
