import { isAppError } from '@tandem/protocol';
import { meter, type ChatRequest, type InferenceProvider, type MeteredStream, type StreamMetrics } from '@tandem/inference';
import { anyEditor, transition } from '@tandem/review';
import { projectChannel, type EventHub } from '../EventHub.ts';
import { DeltaCoalescer } from '../ai/DeltaCoalescer.ts';
import { FenceStripper } from '../ai/FenceStripper.ts';
import { requestedNow } from '../ai/requestedNow.ts';
import { compactDisplay } from './displayHunks.ts';
import type { SuggestionRecord } from './SuggestionRecord.ts';
import { DISPLAY_INTERVAL_MS, FRAME_EVENT, type CompactDisplayHunk, type LiveMetrics, type SuggestionFrame } from './suggestionEvents.ts';

interface Generation {
  attempt: number;
  controller: AbortController;
  done: Promise<void>;
  /** When the display diff was last computed, and for how much of the proposal. */
  displayedAt: number;
  displayLength: number;
  /** Sends the diff of text that arrived since, if no later frame does (a stream may pause). */
  displayRefresh: NodeJS.Timeout | null;
}

/** How a generation ended, for the orchestrator to record (in the suggestion's queue). */
export interface GenerationEnd {
  record: SuggestionRecord;
  attempt: number;
  /** Why the provider failed, as the participants may read it; null: it did not. */
  failure: string | null;
  metrics: LiveMetrics | null;
  aborted: boolean;
}

/**
 * Streams one attempt of a suggestion from the provider to every participant: provider chunks
 * are stripped of code fences, coalesced per event-loop turn into frames (`DeltaCoalescer`) and
 * published on the project channel with live metrics and, at most every DISPLAY_INTERVAL_MS, the
 * display diff. Nothing streamed touches a document. The end goes to `onEnd`.
 */
export class SuggestionGenerator {
  readonly #generations = new Map<string, Generation>();

  constructor(
    private readonly hub: EventHub,
    private readonly onEnd: (end: GenerationEnd) => Promise<void>,
    private readonly logError: (message: string, error: unknown) => void,
  ) {}

  /** Streams running now (tests assert it drops back to zero). */
  get size(): number {
    return this.#generations.size;
  }

  /**
   * Sends the provider request now; its answer is read once `announced` resolves (the suggestion
   * is stored and published). If it rejects, the request is aborted and nothing is recorded.
   */
  start(record: SuggestionRecord, provider: InferenceProvider, chat: ChatRequest, announced: Promise<unknown> = Promise.resolve()): void {
    const generation: Generation = {
      attempt: record.state.attempt, controller: new AbortController(), done: Promise.resolve(), displayedAt: -Infinity, displayLength: 0, displayRefresh: null,
    };
    this.#generations.set(record.id, generation);
    generation.done = this.#generate(record, generation, provider, chat, announced)
      .catch((error) => this.logError(`[suggestions] generation of ${record.id} failed unexpectedly`, error))
      .finally(() => {
        if (generation.displayRefresh) clearTimeout(generation.displayRefresh);
        if (this.#generations.get(record.id) === generation) this.#generations.delete(record.id);
      });
  }

  /** Stops a suggestion's stream (closing the upstream request), if it has one. */
  abort(id: string): void {
    this.#generations.get(id)?.controller.abort();
  }

  /** Aborts every generation and waits until each has recorded its end. */
  async close(): Promise<void> {
    for (const generation of this.#generations.values()) generation.controller.abort();
    await Promise.all([...this.#generations.values()].map((g) => g.done));
  }

  async #generate(record: SuggestionRecord, generation: Generation, provider: InferenceProvider, chat: ChatRequest, announced: Promise<unknown>): Promise<void> {
    const { attempt, controller: { signal } } = generation;
    const fences = new FenceStripper();
    const stream: MeteredStream = meter(provider.generate(chat, signal));
    const chunks = requestedNow(stream);
    try {
      await announced;
    } catch {
      // Not stored: cancel the request (the stream ends at once) and record nothing.
      generation.controller.abort();
      await drain(chunks);
      return;
    }
    const frames = new DeltaCoalescer((text) => this.#frame(record, generation, text, stream));
    let failure: string | null = null;
    try {
      for await (const chunk of chunks) {
        if (chunk.type !== 'text' || signal.aborted) continue;
        markStreaming(record, attempt);
        frames.push(fences.push(chunk.text));
        if (fences.closed) break; // the code is complete; breaking closes the upstream request
      }
      if (!fences.closed && !signal.aborted) frames.push(fences.end());
    } catch (error) {
      failure = this.#failureMessage(error);
    }
    if (signal.aborted) frames.discard();
    else frames.flush();
    const metrics = liveMetrics(await stream.done);
    if (generation.displayRefresh) clearTimeout(generation.displayRefresh);
    generation.displayRefresh = null;
    await this.onEnd({ record, attempt, failure, metrics, aborted: signal.aborted });
  }

  #failureMessage(error: unknown): string {
    if (isAppError(error)) return error.message; // InferenceError is an AppError with a user-safe message
    this.logError('[suggestions] provider stream failed unexpectedly', error);
    return 'The AI request failed on the server.';
  }

  /**
   * One coalesced frame: the new code text at once, live metrics, and the display diff (offsets
   * only) when DISPLAY_INTERVAL_MS has passed since the last one.
   */
  #frame(record: SuggestionRecord, generation: Generation, text: string, stream: MeteredStream | null): void {
    if (record.state.attempt !== generation.attempt || record.state.status !== 'streaming') return;
    const offset = record.proposed.length;
    record.proposed += text;
    if (stream) record.metrics = liveMetrics(stream.metrics);
    let display: CompactDisplayHunk[] | null = null;
    const now = performance.now();
    if (now - generation.displayedAt >= DISPLAY_INTERVAL_MS) {
      display = compactDisplay(record.baseText, record.proposed, true);
      generation.displayedAt = now;
      generation.displayLength = record.proposed.length;
    } else {
      generation.displayRefresh ??= setTimeout(() => {
        generation.displayRefresh = null;
        if (generation.displayLength < record.proposed.length) this.#frame(record, generation, '', null);
      }, DISPLAY_INTERVAL_MS);
    }
    const frame: SuggestionFrame = {
      id: record.id, attempt: generation.attempt, offset, text, display, displayLength: generation.displayLength, metrics: record.metrics,
    };
    this.hub.publish(projectChannel(record.projectId), FRAME_EVENT, frame);
  }
}

async function drain(chunks: AsyncIterable<unknown>): Promise<void> {
  try {
    for await (const chunk of chunks) void chunk;
  } catch {
    // a cancelled request may end with an error instead
  }
}

function markStreaming(record: SuggestionRecord, attempt: number): void {
  if (record.state.attempt !== attempt || record.state.status !== 'requested') return;
  const result = transition(record.state, { type: 'token' }, { policy: anyEditor }); // R2
  if (result.ok) record.state = result.state;
}

function liveMetrics(m: StreamMetrics): LiveMetrics {
  const round = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);
  return { ttftMs: round(m.ttftMs), tokens: m.completionTokens, tokensPerSecond: round(m.tokensPerSecond), durationMs: round(m.durationMs) };
}
