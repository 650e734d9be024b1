/**
 * Sync benchmark: fan-out latency (open loop) and saturation throughput for one document, for
 * Tandem's SyncServer and two peers, each server in its own process on its own core.
 * Run: `npm run bench -w @tandem/bench` (all benchmarks) or `… -- sync`. See README.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LoadPlan, LoadResult } from './sync/loadGenerator.ts';
import { SERVER_LABELS, type AnnouncedServer, type ServerKind } from './sync/servers.ts';

/**
 * What ships (`tandem`: the real server process on its default embedded store; `tandem-postgres`)
 * against the reference server and Hocuspocus with and without its durable SQLite store.
 * Diagnostics: SYNC_BENCH_SERVERS=tandem,tandem-filestore,… runs a subset or adds the file store.
 */
export const DEFAULT_SERVERS: ServerKind[] = ['tandem', 'tandem-postgres', 'y-websocket-server', 'hocuspocus', 'hocuspocus-sqlite'];
const SERVERS: ServerKind[] = (process.env.SYNC_BENCH_SERVERS?.split(',') as ServerKind[] | undefined) ?? DEFAULT_SERVERS;
const LATENCY_CLIENTS = [2, 8, 32];
const LATENCY_RATE = 200;
/** Latency runs are repeated (`--repeats=N`), servers in rotating order, and the median reported: the cores are shared. */
const REPEATS = 3;
const SATURATION_CLIENTS = 32;
const MAX_IN_FLIGHT = 100;
const WARMUP_MS = 500;
const MEASURE_MS = 3000;
/** A run whose generator could not keep the target rate measures the generator, not the server. */
const MIN_RATE_FRACTION = 0.98;

export const SERVER_CORE = '1';
export const LOAD_CORE = '0';

interface Row {
  server: ServerKind;
  result: LoadResult;
}

export interface RunningServer extends AnnouncedServer {
  process: ChildProcess;
  dataDirectory: string;
}

export async function runSyncBenchmark(options: string[] = []): Promise<void> {
  const repeats = Number(options.find((o) => o.startsWith('--repeats='))?.split('=')[1] ?? REPEATS);
  const pinning = taskSetAvailable();
  const loadBefore = loadavg()[0]!;
  console.log(`\n# Sync benchmark (1 document; server and load generator in separate processes${pinning ? `, pinned to cores ${SERVER_CORE} and ${LOAD_CORE} with taskset` : ', NOT pinned: taskset unavailable'})`);
  const latencyRuns: Row[] = [];
  const saturation: Row[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const order = SERVERS.map((_, i) => SERVERS[(i + repeat) % SERVERS.length]!);
    for (const server of order) {
      const running = await startServer(server, pinning);
      try {
        for (const clients of LATENCY_CLIENTS) {
          const result = await generateLoad(running, pinning, { mode: 'latency', clients }, `latency-${clients}-${repeat}`);
          latencyRuns.push({ server, result });
        }
        if (repeat === 0) {
          const result = await generateLoad(running, pinning, { mode: 'saturation', clients: SATURATION_CLIENTS }, 'saturation');
          saturation.push({ server, result });
        }
      } finally {
        await stopServer(running);
      }
    }
  }
  const latency = SERVERS.flatMap((server) => LATENCY_CLIENTS.map((clients) => ({
    server,
    result: medianResult(latencyRuns.filter((r) => r.server === server && r.result.clients === clients).map((r) => r.result)),
  })));
  printServers();
  printLatency(latency, repeats);
  printSaturation(saturation);
  if (SERVERS.includes('tandem')) printRatios(latency, saturation);
  console.log(`\nMachine load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores; above ~0.5 other processes were competing for the cores.`);
}

export async function startServer(server: ServerKind, pinning: boolean): Promise<RunningServer> {
  const dataDirectory = await mkdtemp(join(tmpdir(), 'tandem-bench-'));
  const child = start('sync/serverProcess.ts', [server, dataDirectory], pinning ? SERVER_CORE : null);
  try {
    // The Tandem kinds start the real server (migrations, sign-ups): allow for a loaded machine.
    const announced = JSON.parse(await firstLine(child, 300_000)) as AnnouncedServer;
    return { process: child, dataDirectory, ...announced };
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dataDirectory, { recursive: true, force: true });
    throw error;
  }
}

/** SIGTERM (a Tandem kind stops its server child and drops its database), SIGKILL after 30 s. */
export async function stopServer(running: RunningServer): Promise<void> {
  const kill = setTimeout(() => running.process.kill('SIGKILL'), 30_000);
  running.process.kill('SIGTERM');
  await exited(running.process);
  clearTimeout(kill);
  await rm(running.dataDirectory, { recursive: true, force: true });
}

async function generateLoad(running: RunningServer, pinning: boolean, shape: Pick<LoadPlan, 'mode' | 'clients'>, documentId: string): Promise<LoadResult> {
  const plan: LoadPlan = {
    ...shape, protocol: running.protocol, syncUrl: running.syncUrl, controlUrl: running.controlUrl,
    documentName: `${running.documentPrefix}${documentId}`, cookies: running.cookies,
    rate: LATENCY_RATE, maxInFlight: MAX_IN_FLIGHT, warmupMs: WARMUP_MS, measureMs: MEASURE_MS,
  };
  const generator = start('sync/loadGenerator.ts', [JSON.stringify(plan)], pinning ? LOAD_CORE : null);
  const result = JSON.parse(await firstLine(generator, 60_000)) as LoadResult;
  await exited(generator);
  process.stdout.write('.');
  return result;
}

/** Median latency and CPU over repeats; the worst rate and max, and all deliveries and misses. */
function medianResult(results: LoadResult[]): LoadResult {
  const median = (pick: (r: LoadResult) => number) => {
    const values = results.map(pick).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)]!;
  };
  return {
    ...results[0]!,
    achievedRate: Math.min(...results.map((r) => r.achievedRate)),
    deliveries: results.reduce((sum, r) => sum + r.deliveries, 0),
    missing: results.reduce((sum, r) => sum + r.missing, 0),
    p50Ms: median((r) => r.p50Ms),
    p99Ms: median((r) => r.p99Ms),
    maxMs: Math.max(...results.map((r) => r.maxMs)),
    serverCpuSeconds: median((r) => r.serverCpuSeconds),
    generatorCpuSeconds: median((r) => r.generatorCpuSeconds),
  };
}

export function start(script: string, args: string[], core: string | null): ChildProcess {
  const node = [process.execPath, '--import', 'tsx', new URL(script, import.meta.url).pathname, ...args];
  const [command, ...rest] = core ? ['taskset', '-c', core, ...node] : node;
  return spawn(command!, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
}

export function firstLine(child: ChildProcess, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('benchmark process timed out')), timeoutMs);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`benchmark process exited with ${code}`)));
  });
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export function taskSetAvailable(): boolean {
  return spawnSync('taskset', ['-c', SERVER_CORE, 'true']).status === 0;
}

const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function isValid(result: LoadResult): boolean {
  return result.mode === 'saturation' || result.achievedRate >= MIN_RATE_FRACTION * result.targetRate;
}

export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

function printServers(): void {
  console.log('\nServers:');
  for (const server of SERVERS) console.log(`- ${server}: ${SERVER_LABELS[server]}`);
}

function printLatency(rows: Row[], repeats: number): void {
  printTable(
    `Fan-out latency: one writer, open loop at ${LATENCY_RATE} updates/s, ${MEASURE_MS / 1000} s window after ${WARMUP_MS / 1000} s warm-up, median of ${repeats} runs (receive time − scheduled send time; sent/s: worst run)`,
    ['server', 'clients', 'sent/s', 'p50 ms', 'p99 ms', 'max ms', 'deliveries', 'missing', 'server CPU %', 'status'],
    rows.map(({ server, result: r }) => [
      server, String(r.clients), fixed(r.achievedRate, 1), fixed(r.p50Ms), fixed(r.p99Ms), fixed(r.maxMs, 1),
      String(r.deliveries), String(r.missing), fixed((100 * r.serverCpuSeconds) / r.windowSeconds, 0),
      isValid(r) ? 'ok' : `INVALID (<${MIN_RATE_FRACTION * 100}% of target rate)`,
    ]),
  );
}

function printSaturation(rows: Row[]): void {
  printTable(
    `Saturation: one writer, closed loop (≤ ${MAX_IN_FLIGHT} updates in flight), ${SATURATION_CLIENTS} clients, ${MEASURE_MS / 1000} s window`,
    ['server', 'updates/s', 'deliveries/s', 'server CPU %', 'generator CPU %', 'deliveries per server CPU-s', 'p50 ms', 'p99 ms'],
    rows.map(({ server, result: r }) => [
      server, fixed(r.achievedRate, 0), fixed(r.deliveries / r.windowSeconds, 0), fixed((100 * r.serverCpuSeconds) / r.windowSeconds, 0),
      fixed((100 * r.generatorCpuSeconds) / r.windowSeconds, 0), fixed(r.deliveries / r.serverCpuSeconds, 0), fixed(r.p50Ms), fixed(r.p99Ms),
    ]),
  );
}

function printRatios(latency: Row[], saturation: Row[]): void {
  const ours = (rows: Row[], clients?: number) => rows.find((r) => r.server === 'tandem' && (clients === undefined || r.result.clients === clients))!.result;
  const body: string[][] = [];
  for (const peer of SERVERS.filter((s) => !s.startsWith('tandem'))) {
    for (const clients of LATENCY_CLIENTS) {
      const a = ours(latency, clients);
      const b = latency.find((r) => r.server === peer && r.result.clients === clients)!.result;
      const note = isValid(a) && isValid(b) ? '' : ' (INVALID run involved)';
      body.push([peer, `latency, ${clients} clients`, `p50 ${fixed(a.p50Ms / b.p50Ms)}×, p99 ${fixed(a.p99Ms / b.p99Ms)}×${note}`]);
    }
    const a = ours(saturation);
    const b = saturation.find((r) => r.server === peer)!.result;
    body.push([peer, `saturation, ${SATURATION_CLIENTS} clients`, `${fixed(a.deliveries / a.serverCpuSeconds / (b.deliveries / b.serverCpuSeconds))}× deliveries per CPU-s, ${fixed(a.deliveries / b.deliveries)}× deliveries/s`]);
  }
  printTable('Tandem vs peers (latency: ours ÷ peer, lower is better; throughput: ours ÷ peer, higher is better)', ['peer', 'measure', 'ratio'], body);
}
