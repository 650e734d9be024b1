/**
 * A token bucket over characters: how much terminal output may be broadcast to every participant.
 * A terminal has no output cap (it is interactive), so a program flooding it (`yes`, `cat` of a
 * big file) would otherwise push megabytes per second through every viewer's stream and the
 * hub's replay buffer. Past the budget, output is dropped (the pty keeps running; the server-side
 * scrollback still has it) and one notice says how much. Deterministic: the caller passes the clock.
 */
export class OutputBudget {
  private tokens: number;
  private last: number;
  private dropped = 0;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /**
   * What to broadcast of `text` at time `now` (ms): all of it, or the prefix the budget allows.
   * Once output fits again after a drop, one notice (before it) says how much was not shown —
   * one per flood, not one per chunk.
   */
  take(text: string, now: number): string {
    this.refill(now);
    const allowed = Math.max(0, Math.min(text.length, Math.floor(this.tokens)));
    this.tokens -= allowed;
    if (allowed < text.length) {
      this.dropped += text.length - allowed;
      return text.slice(0, allowed);
    }
    if (this.dropped === 0) return text;
    const notice = `\r\n\x1b[2m[tandem: ${formatChars(this.dropped)} of output not shown: it came too fast]\x1b[0m\r\n`;
    this.dropped = 0;
    return notice + text;
  }

  /** Characters dropped since the last notice. */
  get droppedChars(): number {
    return this.dropped;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}

function formatChars(n: number): string {
  if (n < 1024) return `${n} characters`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} K characters`;
  return `${(n / 1024 / 1024).toFixed(1)} M characters`;
}
