/**
 * A token bucket: up to `burst` actions at once, refilled at `perSecond`. Used per connection for
 * the messages that cost the server more than they cost the sender (awareness updates are relayed
 * to every peer; state requests make the server encode and send state), so a flood is cut off
 * while a busy but honest client (a cursor dragged at 60 Hz) never notices.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: () => number,
  ) {
    this.tokens = burst;
    this.updatedAt = clock();
  }

  /** True when the bucket has refilled completely (forgetting it changes nothing). */
  get full(): boolean {
    return this.tokens + ((this.clock() - this.updatedAt) * this.perSecond) / 1000 >= this.burst;
  }

  /**
   * Takes `cost` tokens (0 always succeeds). False when there are not enough: the action should be
   * refused; the bucket is left empty, so a refused flood stays refused.
   */
  take(cost: number): boolean {
    if (cost <= 0) return true;
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.perSecond) / 1000);
    this.updatedAt = now;
    if (this.tokens < cost) {
      this.tokens = 0;
      return false;
    }
    this.tokens -= cost;
    return true;
  }
}
