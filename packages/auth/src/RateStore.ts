/**
 * Where rate limits keep their counters: in this process (MemoryRateStore, the embedded default)
 * or shared by every node (the server's Redis adapter), so a limit holds for the deployment and
 * not once per node. Every operation is atomic for its key.
 */
export interface RateStore {
  /** Adds 1 to the counter `key`; a counter that did not exist lives `windowMs`. */
  increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /** Takes 1 back (never below 0; nothing when the counter is gone). */
  decrement(key: string): Promise<void>;
  /** The counter now (count 0 when absent) and the time until it resets. */
  peek(key: string): Promise<{ count: number; resetInMs: number }>;
  /** Creates `key` (count 1, living `ttlMs`) only if it does not exist: true when created (a lock). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Sets `key` to count 1 living exactly `ttlMs`, whatever it was (a wait). */
  hold(key: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

const MAX_KEYS = 100_000;

/** Counters in this process's memory: with several nodes, each would count on its own. */
export class MemoryRateStore implements RateStore {
  private readonly entries = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const t = this.now();
    let e = this.live(key, t);
    if (!e) e = this.set(key, 0, t + windowMs, t);
    e.count++;
    return { count: e.count, resetInMs: e.resetAt - t };
  }

  async decrement(key: string): Promise<void> {
    const e = this.live(key, this.now());
    if (e && e.count > 0) e.count--;
  }

  async peek(key: string): Promise<{ count: number; resetInMs: number }> {
    const t = this.now();
    const e = this.live(key, t);
    return e ? { count: e.count, resetInMs: e.resetAt - t } : { count: 0, resetInMs: 0 };
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const t = this.now();
    if (this.live(key, t)) return false;
    this.set(key, 1, t + ttlMs, t);
    return true;
  }

  async hold(key: string, ttlMs: number): Promise<void> {
    const t = this.now();
    this.set(key, 1, t + ttlMs, t);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  private live(key: string, t: number): { count: number; resetAt: number } | undefined {
    const e = this.entries.get(key);
    if (e && t >= e.resetAt) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private set(key: string, count: number, resetAt: number, t: number): { count: number; resetAt: number } {
    if (this.entries.size >= MAX_KEYS) for (const [k, e] of this.entries) if (t >= e.resetAt) this.entries.delete(k);
    const e = { count, resetAt };
    this.entries.set(key, e);
    return e;
  }
}
