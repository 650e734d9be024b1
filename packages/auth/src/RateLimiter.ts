import { MemoryRateStore, type RateStore } from './RateStore.ts';

/**
 * Fixed-window counter per key (e.g. `ip:<addr>`, a user id) on a RateStore: in memory by
 * default, shared by every node with the server's Redis store. `name` keeps limiters that share
 * a store apart.
 */
export class RateLimiter {
  constructor(
    private readonly name: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly store: RateStore = new MemoryRateStore(),
  ) {}

  /**
   * Counts one hit for `key` unless it is at the limit. Returns 0 when counted, else the
   * milliseconds until it may try again. Check and count are one step: concurrent callers (on
   * any node) cannot overshoot.
   */
  async take(key: string): Promise<number> {
    const k = this.key(key);
    const { count, resetInMs } = await this.store.increment(k, this.windowMs);
    if (count <= this.limit) return 0;
    await this.store.decrement(k);
    return Math.max(1, resetInMs);
  }

  /** Takes back one counted hit (a reserved attempt that turned out fine). */
  async release(key: string): Promise<void> {
    await this.store.decrement(this.key(key));
  }

  private key(key: string): string {
    return `${this.name}:${key}`;
  }
}
