export type OutputStream = 'stdout' | 'stderr' | 'pty';

export interface OutputChunk {
  stream: OutputStream;
  text: string;
}

export interface OutputCoalescerOptions {
  /** At most one emission per interval once output is flowing. */
  intervalMs: number;
  /** Buffered characters at which the source is paused until the next emission. */
  maxPendingChars: number;
  emit: (chunks: OutputChunk[]) => void;
  /** Stop reading from the source (pipe/pty), so the program blocks on write: real backpressure. */
  pause: () => void;
  resume: () => void;
  setTimer?: (fn: () => void, ms: number) => NodeJS.Timeout;
}

/**
 * Turns a stream of tiny writes into at most one emission per interval, so a program printing in
 * a tight loop costs listeners a bounded number of events, and a bounded buffer: past
 * `maxPendingChars` the source is paused until the next emission drains it. Emission is
 * leading-edge (the first write after a quiet interval goes out at once), so interactive echo
 * in a terminal is not delayed.
 */
export class OutputCoalescer {
  private readonly opts: OutputCoalescerOptions;
  private pending: OutputChunk[] = [];
  private pendingChars = 0;
  private timer: NodeJS.Timeout | null = null;
  private paused = false;
  private closed = false;

  constructor(opts: OutputCoalescerOptions) {
    this.opts = opts;
  }

  push(stream: OutputStream, text: string): void {
    if (this.closed || text.length === 0) return;
    const last = this.pending[this.pending.length - 1];
    if (last && last.stream === stream) last.text += text;
    else this.pending.push({ stream, text });
    this.pendingChars += text.length;
    if (this.timer === null) {
      this.flush();
      this.startTimer();
    } else if (this.pendingChars >= this.opts.maxPendingChars && !this.paused) {
      this.paused = true;
      this.opts.pause();
    }
  }

  /** Emits what is buffered now and stops the timer (call when the source ended). */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private startTimer(): void {
    const set = this.opts.setTimer ?? setTimeout;
    this.timer = set(() => this.onTick(), this.opts.intervalMs);
  }

  private onTick(): void {
    this.timer = null;
    if (this.closed) return;
    if (this.pending.length === 0) return; // quiet: next write goes out immediately
    this.flush();
    this.startTimer();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    if (this.paused) {
      this.paused = false;
      this.opts.resume();
    }
    this.opts.emit(chunks);
  }
}
