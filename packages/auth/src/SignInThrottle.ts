import { AppError } from '@tandem/protocol';
import { RateLimiter } from './RateLimiter.ts';

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
  succeeded(): void;
  failed(): void;
}

interface Pair {
  failures: number;
  /** The next attempt from this (account, IP) is allowed from then. */
  nextAt: number;
  inFlight: boolean;
}

const MAX_PAIRS = 100_000;

/**
 * Guessing passwords is slowed per (account, IP) with a delay that doubles after each failure,
 * never by locking the account: someone failing from their address does not lock the owner out
 * from theirs. An attempt is reserved before the password is verified (one in flight per pair,
 * and it counts against the IP until it succeeds), so concurrent requests cannot evaluate more
 * guesses than sequential ones. In memory: with several nodes each node throttles on its own.
 */
export class SignInThrottle {
  private readonly pairs = new Map<string, Pair>();
  private readonly ips: RateLimiter;
  private readonly freeFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(opts: SignInThrottleOptions = {}, private readonly now: () => number = Date.now) {
    this.freeFailures = opts.freeFailures ?? 3;
    this.baseDelayMs = opts.baseDelayMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 15 * 60_000;
    this.ips = new RateLimiter(opts.maxFailuresPerIp ?? 50, opts.ipWindowMs ?? 15 * 60_000, now);
  }

  /** Reserves an attempt or throws RATE_LIMITED (saying when to retry). */
  reserve(email: string, ip: string): SignInAttempt {
    const t = this.now();
    const key = `${email}\n${ip}`;
    let pair = this.pairs.get(key);
    if (pair?.inFlight) throw new AppError('RATE_LIMITED', 'A sign-in for this account is already being checked. Try again in a second.');
    const wait = Math.max(pair ? pair.nextAt - t : 0, this.ips.retryAfter(ip));
    if (wait > 0) throw new AppError('RATE_LIMITED', `Too many failed sign-in attempts. Try again in ${formatWait(wait)}.`);
    if (!pair) {
      if (this.pairs.size >= MAX_PAIRS) this.sweep(t);
      pair = { failures: 0, nextAt: 0, inFlight: false };
      this.pairs.set(key, pair);
    }
    pair.inFlight = true;
    this.ips.record(ip);
    const entry = pair;
    let settled = false;
    return {
      succeeded: () => {
        if (settled) return;
        settled = true;
        this.pairs.delete(key);
        this.ips.release(ip);
      },
      failed: () => {
        if (settled) return;
        settled = true;
        entry.inFlight = false;
        entry.failures++;
        entry.nextAt = this.now() + this.delayAfter(entry.failures);
      },
    };
  }

  delayAfter(failures: number): number {
    if (failures <= this.freeFailures) return 0;
    return Math.min(this.baseDelayMs * 2 ** Math.min(failures - this.freeFailures - 1, 30), this.maxDelayMs);
  }

  private sweep(t: number): void {
    for (const [k, p] of this.pairs) if (!p.inFlight && p.nextAt <= t) this.pairs.delete(k);
  }
}

function formatWait(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 120 ? `${s} second${s === 1 ? '' : 's'}` : `${Math.ceil(s / 60)} minutes`;
}
