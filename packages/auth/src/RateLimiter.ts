/**
 * Fixed-window counter per key (e.g. `account:<email>`, `ip:<addr>`). In memory: with
 * several nodes each node limits on its own, which still bounds guessing per node.
 */
export class RateLimiter {
  private readonly hits = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `key` may try again, or 0 when it is not limited. */
  retryAfter(key: string): number {
    const h = this.hits.get(key);
    if (!h) return 0;
    const t = this.now();
    if (t >= h.resetAt) {
      this.hits.delete(key);
      return 0;
    }
    return h.count >= this.limit ? h.resetAt - t : 0;
  }

  record(key: string): void {
    const t = this.now();
    const h = this.hits.get(key);
    if (!h || t >= h.resetAt) this.hits.set(key, { count: 1, resetAt: t + this.windowMs });
    else h.count++;
    if (this.hits.size > 100_000) this.sweep(t);
  }

  /** Takes back one recorded hit (a reserved attempt that turned out fine). */
  release(key: string): void {
    const h = this.hits.get(key);
    if (h && h.count > 0) h.count--;
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  private sweep(t: number): void {
    for (const [k, h] of this.hits) if (t >= h.resetAt) this.hits.delete(k);
  }
}
