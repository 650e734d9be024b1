/**
 * Polls `GET /api/health` on a fresh connection every `intervalMs` while an abuse test runs and
 * reports latency percentiles: the measure of "one user must not stall the server for others".
 * Probes come from `localAddress` (default 127.0.0.2, another loopback address than the attacker's
 * 127.0.0.1, so per-IP limits apply to the attacker only). A probe that fails or exceeds
 * `timeoutMs` counts as `timeoutMs` and as a failure. Printed, not asserted as a timing.
 */
import { request } from 'node:http';

export interface HealthReport {
  probes: number;
  failures: number;
  p50: number;
  p99: number;
  max: number;
}

export class HealthProbe {
  private readonly latencies: number[] = [];
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly baseUrl: string,
    private readonly options: { intervalMs?: number; timeoutMs?: number; localAddress?: string } = {},
  ) {}

  start(): this {
    const tick = () => {
      const probe = this.probe().finally(() => this.inFlight.delete(probe));
      this.inFlight.add(probe);
      this.timer = setTimeout(tick, this.options.intervalMs ?? 25);
    };
    tick();
    return this;
  }

  /** Stops probing, waits for the probes in flight, prints and returns the report. */
  async stop(label: string): Promise<HealthReport> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.inFlight);
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const report = { probes: sorted.length, failures: this.failures, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
    console.log(`[health during ${label}] probes=${report.probes} failures=${report.failures} p50=${report.p50.toFixed(1)}ms p99=${report.p99.toFixed(1)}ms max=${report.max.toFixed(1)}ms (target p99 <= 50 ms)`);
    return report;
  }

  private probe(): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 5000;
    const started = performance.now();
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (!ok) this.failures++;
        this.latencies.push(ok ? performance.now() - started : timeoutMs);
        resolve();
      };
      const req = request(`${this.baseUrl}/api/health`, { agent: false, localAddress: this.options.localAddress ?? '127.0.0.2' }, (res) => {
        res.resume();
        res.on('end', () => finish(res.statusCode === 200));
        res.on('error', () => finish(false));
      });
      req.on('error', () => finish(false));
      const timer = setTimeout(() => {
        req.destroy();
        finish(false);
      }, timeoutMs);
      req.end();
    });
  }
}
