import type { Redis } from 'ioredis';
import type { RateStore } from '@tandem/auth';

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
 * Each operation is one atomic command or script.
 */
export class RedisRateStore implements RateStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const [count, ttl] = (await this.redis.eval(INCREMENT, 1, this.k(key), String(Math.max(1, Math.round(windowMs))))) as [number, number];
    return { count, resetInMs: Math.max(0, ttl) };
  }

  async decrement(key: string): Promise<void> {
    await this.redis.eval(DECREMENT, 1, this.k(key));
  }

  async peek(key: string): Promise<{ count: number; resetInMs: number }> {
    const [count, ttl] = (await this.redis.eval(PEEK, 1, this.k(key))) as [number, number];
    return count > 0 ? { count, resetInMs: Math.max(0, ttl) } : { count: 0, resetInMs: 0 };
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.k(key), '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK';
  }

  async hold(key: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.k(key), '1', 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.k(key));
  }

  private k(key: string): string {
    return `${this.prefix}rate:${key}`;
  }
}
