import type { TimerHandle, Timers } from '../Timers.ts';

interface Scheduled {
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * Timers whose delays only elapse when a test calls `advance`: due timers run in order of due
 * time, then of scheduling. A zero delay means "as soon as possible", not "at a time", so those
 * run on the real event loop (the group commit uses them; tests control idle/debounce/ping).
 */
export class ManualTimers implements Timers {
  private now = 0;
  private seq = 0;
  private readonly scheduled = new Set<Scheduled>();

  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (ms <= 0) {
      const immediate = setImmediate(fn);
      return { cancel: () => clearImmediate(immediate) };
    }
    const entry: Scheduled = { due: this.now + Math.max(0, ms), seq: this.seq++, fn };
    this.scheduled.add(entry);
    return { cancel: () => this.scheduled.delete(entry) };
  }

  clearTimeout(handle: TimerHandle): void {
    handle.cancel();
  }

  /** Moves the clock forward by `ms`, running every timer that falls due (including new ones). */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.scheduled.delete(next);
      this.now = next.due;
      next.fn();
    }
    this.now = target;
  }

  get pending(): number {
    return this.scheduled.size;
  }

  private nextDue(limit: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const s of this.scheduled) {
      if (s.due > limit) continue;
      if (!best || s.due < best.due || (s.due === best.due && s.seq < best.seq)) best = s;
    }
    return best;
  }
}
