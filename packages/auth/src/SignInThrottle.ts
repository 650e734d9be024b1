import { AppError } from '@tandem/protocol';
import { RateLimiter } from './RateLimiter.ts';
import { MemoryRateStore, type RateStore } from './RateStore.ts';

export interface SignInThrottleOptions {
  /** Failures per (account, IP) before delays start. */
  freeFailures?: number;
  /** The delay after the first failure past the free ones; doubles with every further failure. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Failed (or in-flight) sign-ins per IP, across accounts, within `ipWindowMs`. */
  maxFailuresPerIp?: number;
  ipWindowMs?: number;
}

/** One reserved attempt: report how it ended exactly once. */
export interface SignInAttempt {
  succeeded(): Promise<void>;
  failed(): Promise<void>;
}

/** How long a reserved attempt blocks its (account, IP) at most if its node dies before settling it. */
const IN_FLIGHT_MS = 30_000;
/** Failures of an (account, IP) are remembered this long after the last one. */
const FAILURES_MS = 24 * 3600_000;

/**
 * Guessing passwords is slowed per (account, IP) with a delay that doubles after each failure,
 * never by locking the account: someone failing from their address does not lock the owner out
 * from theirs. An attempt is reserved before the password is verified (one in flight per pair,
 * and it counts against the IP until it succeeds), so concurrent requests cannot evaluate more
 * guesses than sequential ones. The counters live in a RateStore: with the server's Redis store
 * every node sees the same failures, delays and reservations.
 */
export class SignInThrottle {
  private readonly ips: RateLimiter;
  private readonly freeFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(opts: SignInThrottleOptions = {}, private readonly store: RateStore = new MemoryRateStore()) {
    this.freeFailures = opts.freeFailures ?? 3;
    this.baseDelayMs = opts.baseDelayMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 15 * 60_000;
    this.ips = new RateLimiter('signin-ip', opts.maxFailuresPerIp ?? 50, opts.ipWindowMs ?? 15 * 60_000, store);
  }

  /** Reserves an attempt or throws RATE_LIMITED (saying when to retry). */
  async reserve(email: string, ip: string): Promise<SignInAttempt> {
    const pair = `${email}\n${ip}`;
    const lock = `signin-lock:${pair}`;
    if (!(await this.store.claim(lock, IN_FLIGHT_MS))) throw new AppError('RATE_LIMITED', 'A sign-in for this account is already being checked. Try again in a second.');
    try {
      const delay = await this.store.peek(`signin-wait:${pair}`);
      const wait = delay.count > 0 ? delay.resetInMs : await this.ips.take(ip);
      if (wait > 0) throw new AppError('RATE_LIMITED', `Too many failed sign-in attempts. Try again in ${formatWait(wait)}.`);
    } catch (error) {
      await this.store.delete(lock);
      throw error;
    }
    let settled = false;
    return {
      succeeded: async () => {
        if (settled) return;
        settled = true;
        await Promise.all([this.store.delete(`signin-fail:${pair}`), this.store.delete(`signin-wait:${pair}`), this.ips.release(ip)]);
        await this.store.delete(lock);
      },
      failed: async () => {
        if (settled) return;
        settled = true;
        const { count } = await this.store.increment(`signin-fail:${pair}`, FAILURES_MS);
        const delay = this.delayAfter(count);
        if (delay > 0) await this.store.hold(`signin-wait:${pair}`, delay);
        await this.store.delete(lock);
      },
    };
  }

  delayAfter(failures: number): number {
    if (failures <= this.freeFailures) return 0;
    return Math.min(this.baseDelayMs * 2 ** Math.min(failures - this.freeFailures - 1, 30), this.maxDelayMs);
  }
}

function formatWait(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 120 ? `${s} second${s === 1 ? '' : 's'}` : `${Math.ceil(s / 60)} minutes`;
}
