export type WatchdogPhase = 'connect' | 'first_token' | 'idle';

export interface WatchdogLimits {
  /** From sending the request until response headers arrive. */
  connectMs: number;
  /** From sending the request until the first generated text arrives. */
  firstTokenMs: number;
  /** Longest silence between stream events once text has started. */
  idleMs: number;
}

/**
 * Enforces the three stream timeouts with ONE timer. Marking activity only stores a timestamp
 * (no clearTimeout/setTimeout per token, which costs real time at thousands of tokens/s); when
 * the timer fires it compares the deadline with the clock and re-arms for the remainder.
 * A limit of 0 or Infinity disables that phase's check.
 */
export class StreamWatchdog {
  readonly #limits: WatchdogLimits;
  readonly #onExpire: (phase: WatchdogPhase, limitMs: number) => void;
  readonly #now: () => number;
  #phase: WatchdogPhase = 'connect';
  #startedAt = 0;
  #lastActivityAt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (clock time). */
  #armedFor = Infinity;
  #stopped = false;

  constructor(
    limits: WatchdogLimits,
    onExpire: (phase: WatchdogPhase, limitMs: number) => void,
    now: () => number = performance.now.bind(performance),
  ) {
    this.#limits = limits;
    this.#onExpire = onExpire;
    this.#now = now;
  }

  start(): void {
    this.#startedAt = this.#now();
    this.#phase = 'connect';
    this.#arm();
  }

  headersReceived(): void {
    if (this.#phase !== 'connect') return;
    this.#phase = 'first_token';
    this.#rearmIfEarlier();
  }

  /** Call when generated text (or, once streaming, any event) arrives. */
  activity(): void {
    this.#lastActivityAt = this.#now();
    if (this.#phase === 'idle') return; // the deadline only moved later: the timer re-arms itself
    this.#phase = 'idle';
    this.#rearmIfEarlier();
  }

  get phase(): WatchdogPhase {
    return this.#phase;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #limit(): number {
    const ms = this.#phase === 'connect' ? this.#limits.connectMs
      : this.#phase === 'first_token' ? this.#limits.firstTokenMs
        : this.#limits.idleMs;
    return ms > 0 && Number.isFinite(ms) ? ms : 0;
  }

  #deadline(): number {
    const limit = this.#limit();
    if (limit === 0) return Infinity;
    // The first-token budget counts from the request, like the user's wait does.
    const from = this.#phase === 'idle' ? this.#lastActivityAt : this.#startedAt;
    return from + limit;
  }

  #arm(): void {
    if (this.#stopped) return;
    const deadline = this.#deadline();
    // A disabled phase still needs a wake-up in case the next phase has a limit.
    const wait = deadline === Infinity ? this.#nextEnabledWait() : Math.max(0, deadline - this.#now());
    if (wait === Infinity) return;
    this.#armedFor = this.#now() + wait;
    this.#timer = setTimeout(() => this.#check(), Math.ceil(wait));
  }

  /** A phase change can bring the deadline forward (e.g. a short first-token limit). */
  #rearmIfEarlier(): void {
    if (this.#stopped || this.#deadline() >= this.#armedFor) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#arm();
  }

  #nextEnabledWait(): number {
    const { connectMs, firstTokenMs, idleMs } = this.#limits;
    const enabled = [connectMs, firstTokenMs, idleMs].filter((ms) => ms > 0 && Number.isFinite(ms));
    return enabled.length > 0 ? Math.min(...enabled) : Infinity;
  }

  #check(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    if (this.#stopped) return;
    if (this.#now() >= this.#deadline()) {
      this.stop();
      this.#onExpire(this.#phase, this.#limit());
      return;
    }
    this.#arm();
  }
}
