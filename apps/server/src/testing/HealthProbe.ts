/**
 * Polls `GET /api/health` on a fresh connection every `intervalMs` while an abuse test runs and
 * reports latency percentiles: the measure of "one user must not stall the server for others".
 * The probe runs in a worker thread, so the test's own work (building a zip, a large Yjs
 * transaction) cannot delay it; it connects from `localAddress` (default 127.0.0.2, another
 * loopback address than the attacker's 127.0.0.1, so per-IP limits apply to the attacker only).
 * A probe that fails or exceeds `timeoutMs` counts as `timeoutMs` and as a failure.
 * Printed, not asserted as a timing.
 */
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface HealthReport {
  probes: number;
  failures: number;
  p50: number;
  p99: number;
  max: number;
}

const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { request } = require('node:http');
const { url, intervalMs, timeoutMs, localAddress } = workerData;
const latencies = [];
let failures = 0;
let stopping = false;
let inFlight = 0;
function probe() {
  inFlight++;
  const started = performance.now();
  let done = false;
  const finish = (ok) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (!ok) failures++;
    latencies.push(ok ? performance.now() - started : timeoutMs);
    inFlight--;
    maybeReport();
  };
  const req = request(url + '/api/health', { agent: false, localAddress }, (res) => {
    res.resume();
    res.on('end', () => finish(res.statusCode === 200));
    res.on('error', () => finish(false));
  });
  req.on('error', () => finish(false));
  const timer = setTimeout(() => { req.destroy(); finish(false); }, timeoutMs);
  req.end();
}
function maybeReport() {
  if (stopping && inFlight === 0) parentPort.postMessage({ latencies, failures });
}
const ticker = setInterval(probe, intervalMs);
probe();
parentPort.on('message', () => { stopping = true; clearInterval(ticker); maybeReport(); });
`;

export class HealthProbe {
  private worker: Worker | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly options: { intervalMs?: number; timeoutMs?: number; localAddress?: string } = {},
  ) {}

  start(): this {
    this.worker = new Worker(PROBE_SOURCE, {
      eval: true,
      workerData: { url: this.baseUrl, intervalMs: this.options.intervalMs ?? 25, timeoutMs: this.options.timeoutMs ?? 5000, localAddress: this.options.localAddress ?? '127.0.0.2' },
    });
    return this;
  }

  /** Stops probing, waits for the probes in flight, prints and returns the report. */
  async stop(label: string): Promise<HealthReport> {
    const worker = this.worker!;
    const result = await new Promise<{ latencies: number[]; failures: number }>((resolve) => {
      worker.once('message', resolve);
      worker.postMessage('stop');
    });
    await worker.terminate();
    const sorted = [...result.latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const report = { probes: sorted.length, failures: result.failures, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
    console.log(`[health during ${label}] probes=${report.probes} failures=${report.failures} p50=${report.p50.toFixed(1)}ms p99=${report.p99.toFixed(1)}ms max=${report.max.toFixed(1)}ms (target p99 <= 50 ms; load ${loadAverage()})`);
    return report;
  }
}

function loadAverage(): string {
  return (loadavg()[0] ?? 0).toFixed(1);
}
