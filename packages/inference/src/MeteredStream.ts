import { isInferenceError, type InferenceErrorKind } from './InferenceError.ts';
import type { FinishReason, InferenceChunk } from './types.ts';

export type StreamOutcome = 'streaming' | 'ok' | 'cancelled' | 'error';

export interface StreamMetrics {
  outcome: StreamOutcome;
  /** Request start to first text chunk; null until text arrives. */
  ttftMs: number | null;
  /** Start to now (while streaming) or to the end. */
  durationMs: number;
  /** Running count from text chunks; replaced by the provider's usage count when reported. */
  completionTokens: number;
  promptTokens: number | null;
  /**
   * Generation speed after the first chunk: tokens that arrived after the first text chunk,
   * divided by the time since it — TTFT excluded, so it is the model's streaming rate.
   * null until two text chunks have arrived at different times.
   */
  tokensPerSecond: number | null;
  finishReason: FinishReason | null;
  /** Set when outcome is 'error'. */
  errorKind: InferenceErrorKind | 'unknown' | null;
}

export interface MeteredStreamOptions {
  /** Milliseconds; injectable so tests drive time. Default `performance.now`. */
  now?: () => number;
  /** Called after every chunk and at the end, for live display. Keep it cheap. */
  onUpdate?: (metrics: StreamMetrics) => void;
}

/**
 * Passes chunks through unchanged while measuring them. The clock starts at construction (call
 * `meter()` right before starting the request). `done` resolves with the final metrics however
 * the stream ends — including the consumer breaking out early (outcome 'cancelled').
 */
export class MeteredStream implements AsyncIterable<InferenceChunk> {
  readonly #source: AsyncIterable<InferenceChunk>;
  readonly #now: () => number;
  readonly #onUpdate: ((metrics: StreamMetrics) => void) | undefined;
  readonly #startedAt: number;
  #firstTextAt: number | null = null;
  #lastTextAt: number | null = null;
  #tokensInFirstChunk = 0;
  #endedAt: number | null = null;
  #usageTokens: number | null = null;
  #runningTokens = 0;
  #promptTokens: number | null = null;
  #finishReason: FinishReason | null = null;
  #outcome: StreamOutcome = 'streaming';
  #errorKind: StreamMetrics['errorKind'] = null;
  #iterated = false;
  readonly done: Promise<StreamMetrics>;
  #resolveDone!: (m: StreamMetrics) => void;

  constructor(source: AsyncIterable<InferenceChunk>, options: MeteredStreamOptions = {}) {
    this.#source = source;
    this.#now = options.now ?? performance.now.bind(performance);
    this.#onUpdate = options.onUpdate;
    this.#startedAt = this.#now();
    this.done = new Promise((r) => (this.#resolveDone = r));
  }

  get metrics(): StreamMetrics {
    const end = this.#endedAt ?? this.#now();
    const tokens = this.#usageTokens ?? this.#runningTokens;
    let tokensPerSecond: number | null = null;
    if (this.#firstTextAt !== null && this.#lastTextAt !== null && this.#lastTextAt > this.#firstTextAt) {
      const after = Math.max(0, tokens - this.#tokensInFirstChunk);
      tokensPerSecond = (after * 1000) / (this.#lastTextAt - this.#firstTextAt);
    }
    return {
      outcome: this.#outcome,
      ttftMs: this.#firstTextAt === null ? null : this.#firstTextAt - this.#startedAt,
      durationMs: end - this.#startedAt,
      completionTokens: tokens,
      promptTokens: this.#promptTokens,
      tokensPerSecond,
      finishReason: this.#finishReason,
      errorKind: this.#errorKind,
    };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<InferenceChunk> {
    if (this.#iterated) throw new TypeError('a MeteredStream can be iterated once');
    this.#iterated = true;
    let completed = false;
    try {
      for await (const chunk of this.#source) {
        this.#observe(chunk);
        this.#onUpdate?.(this.metrics);
        yield chunk;
      }
      completed = true;
      this.#end(this.#finishReason === 'cancelled' ? 'cancelled' : 'ok');
    } catch (e) {
      completed = true;
      this.#errorKind = isInferenceError(e) ? e.kind : 'unknown';
      this.#end('error');
      throw e;
    } finally {
      // The consumer broke out of its loop: that is a cancellation from the stream's view.
      if (!completed) this.#end('cancelled');
    }
  }

  #observe(chunk: InferenceChunk): void {
    switch (chunk.type) {
      case 'text':
      case 'tool_call_delta': {
        // A streamed function-call fragment is generated output too (one upstream delta).
        const tokens = chunk.type === 'text' ? chunk.tokens : 1;
        const at = this.#now();
        if (this.#firstTextAt === null) {
          this.#firstTextAt = at;
          this.#tokensInFirstChunk = tokens;
        }
        this.#lastTextAt = at;
        this.#runningTokens += tokens;
        break;
      }
      case 'usage':
        this.#usageTokens = chunk.completionTokens;
        this.#promptTokens = chunk.promptTokens;
        break;
      case 'finish':
        this.#finishReason = chunk.reason;
        break;
    }
  }

  #end(outcome: Exclude<StreamOutcome, 'streaming'>): void {
    if (this.#outcome !== 'streaming') return;
    this.#outcome = outcome;
    this.#endedAt = this.#now();
    const final = this.metrics;
    this.#onUpdate?.(final);
    this.#resolveDone(final);
  }
}

/** Wraps `stream` so it records TTFT, tokens, tokens/s and outcome. */
export function meter(stream: AsyncIterable<InferenceChunk>, options?: MeteredStreamOptions): MeteredStream {
  return new MeteredStream(stream, options);
}
