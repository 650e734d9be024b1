/** Log-bucketed latency histogram (1% resolution): constant memory, whatever the sample count. */
export class LatencyHistogram {
  private static readonly GROWTH = Math.log(1.01);
  /** Smallest resolvable latency: 1 µs. */
  private static readonly FLOOR_MS = 0.001;
  private readonly counts = new Map<number, number>();
  count = 0;
  max = 0;

  record(ms: number): void {
    const bucket = Math.max(0, Math.floor(Math.log(Math.max(ms, LatencyHistogram.FLOOR_MS) / LatencyHistogram.FLOOR_MS) / LatencyHistogram.GROWTH));
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** Upper edge of the bucket holding the q-quantile (0 < q ≤ 1), in ms. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)!;
      if (seen >= rank) return Math.min(this.max, LatencyHistogram.FLOOR_MS * Math.exp((bucket + 1) * LatencyHistogram.GROWTH));
    }
    return this.max;
  }
}
