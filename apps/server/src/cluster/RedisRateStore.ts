import type { Redis } from 'ioredis';
import { MemoryRateStore, type RateStore } from '@tandem/auth';

/** INCR, starting the window on the first hit; answers the count and the time left. */
const INCREMENT = `local c = redis.call('incr', KEYS[1])
if c == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then redis.call('pexpire', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {c, ttl}`;
/** DECR only an existing positive counter (never creates one, never goes below 0). */
const DECREMENT = `local c = tonumber(redis.call('get', KEYS[1]) or '0')
if c > 0 then redis.call('decr', KEYS[1]) end
return 0`;
const PEEK = `local c = tonumber(redis.call('get', KEYS[1]) or '0')
return {c, redis.call('pttl', KEYS[1])}`;

/**
 * Rate-limit counters in Redis, shared by every node (REDIS_URL): the sign-in throttle, sign-ups
 * per IP and the per-user / per-project budgets then hold for the deployment, not once per node.
 * Each operation is one atomic command or script. While Redis cannot be reached, the limits are
 * counted in this node's memory instead (still enforced, per node) rather than failing the calls
 * they guard; one warning when that starts and one when Redis answers again.
 */
export class RedisRateStore implements RateStore {
  readonly #local = new MemoryRateStore();
  #unreachable = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly warn: (message: string) => void = (m) => console.warn(`[cluster] ${m}`),
  ) {}

  increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    return this.#either(async () => {
      const [count, ttl] = (await this.redis.eval(INCREMENT, 1, this.k(key), String(Math.max(1, Math.round(windowMs))))) as [number, number];
      return { count, resetInMs: Math.max(0, ttl) };
    }, () => this.#local.increment(key, windowMs));
  }

  decrement(key: string): Promise<void> {
    return this.#either(async () => {
      await this.redis.eval(DECREMENT, 1, this.k(key));
    }, () => this.#local.decrement(key));
  }

  peek(key: string): Promise<{ count: number; resetInMs: number }> {
    return this.#either(async () => {
      const [count, ttl] = (await this.redis.eval(PEEK, 1, this.k(key))) as [number, number];
      return count > 0 ? { count, resetInMs: Math.max(0, ttl) } : { count: 0, resetInMs: 0 };
    }, () => this.#local.peek(key));
  }

  claim(key: string, ttlMs: number): Promise<boolean> {
    return this.#either(
      async () => (await this.redis.set(this.k(key), '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK',
      () => this.#local.claim(key, ttlMs),
    );
  }

  hold(key: string, ttlMs: number): Promise<void> {
    return this.#either(async () => {
      await this.redis.set(this.k(key), '1', 'PX', Math.max(1, Math.round(ttlMs)));
    }, () => this.#local.hold(key, ttlMs));
  }

  delete(key: string): Promise<void> {
    return this.#either(async () => {
      await this.redis.del(this.k(key));
    }, () => this.#local.delete(key));
  }

  async #either<T>(shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    try {
      const result = await shared();
      if (this.#unreachable) {
        this.#unreachable = false;
        this.warn('redis answers again: rate limits are shared by every node again');
      }
      return result;
    } catch (error) {
      if (!this.#unreachable) {
        this.#unreachable = true;
        this.warn(`redis is unreachable (${error instanceof Error ? error.message : String(error)}): rate limits are counted on this node until it is back`);
      }
      return local();
    }
  }

  private k(key: string): string {
    return `${this.prefix}rate:${key}`;
  }
}
