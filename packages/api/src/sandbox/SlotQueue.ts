import { AppError } from '@tandem/protocol';

export interface SlotQueueOptions {
  /** Sessions that may start right now (the host's free slots). */
  free(): number;
  /** Sessions each user holds on the host right now (their runs and terminals). */
  held(userId: string): number;
  /** Starts waiting at once (all users); more are refused. */
  maxWaiting: number;
  /** A start waiting this long is refused. */
  timeoutMs: number;
}

/** A granted slot: call once the session started (or failed to), so it is counted by the host. */
export type SlotGrant = () => void;

interface Waiter {
  userId: string;
  seq: number;
  position: number;
  onPosition: (position: number) => void;
  grant: (release: SlotGrant) => void;
  refuse: (error: AppError) => void;
  timer: NodeJS.Timeout;
}

/**
 * Fair queuing for the host's sandbox slots. While the host has room, starts go through at once;
 * when it is full they wait, and each freed slot goes to the waiting user who holds the fewest
 * sessions (ties: who waits longest), so users take turns (round robin) and one person queuing
 * many starts does not delay another's first. Waiters learn their position as it changes;
 * the queue is capped and a wait times out, each with a message.
 */
export class SlotQueue {
  private readonly waiting: Waiter[] = [];
  /** Slots handed out whose sessions have not started yet (the host does not count them). */
  private granted = 0;
  private seq = 0;
  /** When each user was last given a slot (a counter): among equals, whoever waited longest since goes next. */
  private readonly lastServed = new Map<string, number>();
  private served = 0;

  constructor(private readonly options: SlotQueueOptions) {}

  /**
   * Resolves with a grant when a slot is this caller's; `onPosition` hears the position in the
   * queue (1 = next) whenever it changes, only when the caller has to wait.
   */
  acquire(userId: string, onPosition: (position: number) => void): Promise<SlotGrant> {
    if (this.waiting.length === 0 && this.room() > 0) return Promise.resolve(this.grant());
    if (this.waiting.length >= this.options.maxWaiting) {
      return Promise.reject(new AppError('RATE_LIMITED', `The server is busy: all sandboxes are in use and ${this.waiting.length} starts are already waiting. Try again in a minute.`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        userId, seq: this.seq++, position: 0, onPosition, grant: resolve, refuse: reject,
        timer: setTimeout(() => {
          this.remove(waiter);
          reject(new AppError('RATE_LIMITED', `The server stayed busy for ${Math.round(this.options.timeoutMs / 1000)} s (all sandboxes in use), so this did not start. Try again later.`));
        }, this.options.timeoutMs).unref(),
      };
      this.waiting.push(waiter);
      this.pump();
    });
  }

  /** Hands free slots to waiters (call when a session ended). */
  pump(): void {
    while (this.waiting.length > 0 && this.room() > 0) {
      const next = this.order()[0]!;
      this.remove(next, false);
      if (this.lastServed.size > 10_000) this.lastServed.clear();
      this.lastServed.set(next.userId, ++this.served);
      next.grant(this.grant());
    }
    this.announce();
  }

  /** Refuses every waiting start (the server is shutting down). */
  close(): void {
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.refuse(new AppError('UNAVAILABLE', 'The server is shutting down.'));
    }
  }

  private room(): number {
    return this.options.free() - this.granted;
  }

  private grant(): SlotGrant {
    this.granted++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.granted--;
      this.pump();
    };
  }

  private remove(waiter: Waiter, announce = true): void {
    clearTimeout(waiter.timer);
    const i = this.waiting.indexOf(waiter);
    if (i >= 0) this.waiting.splice(i, 1);
    if (announce) this.announce();
  }

  /**
   * The waiters in the order they will be served: the user holding the fewest sessions first
   * (counting the turns before), then whoever was served least recently, then the oldest wait.
   */
  private order(): Waiter[] {
    const held = new Map<string, number>();
    const last = new Map(this.lastServed);
    let served = this.served;
    const byUser = new Map<string, Waiter[]>();
    for (const w of [...this.waiting].sort((a, b) => a.seq - b.seq)) {
      if (!byUser.has(w.userId)) {
        byUser.set(w.userId, []);
        held.set(w.userId, this.options.held(w.userId));
      }
      byUser.get(w.userId)!.push(w);
    }
    const out: Waiter[] = [];
    while (out.length < this.waiting.length) {
      let pick: Waiter | null = null;
      for (const [userId, list] of byUser) {
        const head = list[0];
        if (!head) continue;
        if (!pick || compare(held.get(userId)!, last.get(userId) ?? 0, head.seq, held.get(pick.userId)!, last.get(pick.userId) ?? 0, pick.seq) < 0) pick = head;
      }
      byUser.get(pick!.userId)!.shift();
      held.set(pick!.userId, held.get(pick!.userId)! + 1);
      last.set(pick!.userId, ++served);
      out.push(pick!);
    }
    return out;
  }

  private announce(): void {
    this.order().forEach((w, i) => {
      if (w.position === i + 1) return;
      w.position = i + 1;
      w.onPosition(w.position);
    });
  }
}

function compare(heldA: number, lastA: number, seqA: number, heldB: number, lastB: number, seqB: number): number {
  return heldA - heldB || lastA - lastB || seqA - seqB;
}
