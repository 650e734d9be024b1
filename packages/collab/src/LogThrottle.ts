import type { SyncLogger } from './SyncExtension.ts';

/**
 * Bounds how much a hostile client can make the server log: at most `burst` warnings of one kind
 * per window; the rest are counted, and the count is logged with the first warning of the next
 * window. Without it, a client sending garbage in a loop fills the disk with stack traces.
 */
export class LogThrottle {
  private windowStart = Number.NEGATIVE_INFINITY;
  private logged = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: SyncLogger,
    private readonly clock: () => number,
    private readonly burst = 20,
    private readonly windowMs = 60_000,
  ) {}

  warn(message: string, error?: unknown): void {
    const now = this.clock();
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) this.logger.warn(`${this.suppressed} similar warnings were suppressed in the previous ${Math.round(this.windowMs / 1000)} s`);
      this.windowStart = now;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (this.logged < this.burst) {
      this.logged++;
      this.logger.warn(message, error);
    } else {
      this.suppressed++;
    }
  }
}
