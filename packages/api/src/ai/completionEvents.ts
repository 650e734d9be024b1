import type { AppErrorCode } from '@tandem/protocol';
import type { FinishReason, InferenceErrorKind, StreamMetrics } from '@tandem/inference';

/** Event type on the caller's private tab channel (see EventHub `tabChannel`). */
export const COMPLETION_EVENT = 'completion' as const;

/** TTFT, tokens, tokens/s and outcome of one request, live while it streams and final at the end. */
export type CompletionMetrics = Pick<StreamMetrics, 'outcome' | 'ttftMs' | 'durationMs' | 'completionTokens' | 'tokensPerSecond' | 'finishReason' | 'errorKind'>;

export interface CompletionError {
  /** The inference layer's failure kind (`unknown`: a bug on our side, logged). */
  kind: InferenceErrorKind | 'unknown';
  code: AppErrorCode;
  /** User-safe; names the provider by label, never a key or a raw upstream body. */
  message: string;
  retryAfterMs: number | null;
}

/**
 * What a tab receives for one `ai.complete` request, in order: zero or more `delta`s (text to
 * append; the first is sent the moment it arrives, later ones coalesced per event-loop turn),
 * then exactly one `done` or `error`.
 */
export type CompletionEvent =
  | { requestId: string; kind: 'delta'; text: string; metrics: CompletionMetrics }
  | { requestId: string; kind: 'done'; finishReason: FinishReason; metrics: CompletionMetrics }
  | { requestId: string; kind: 'error'; error: CompletionError; metrics: CompletionMetrics };

declare module '@tandem/protocol' {
  interface ProjectStreamEvents {
    /** On the typist's own tab channel only. */
    completion: CompletionEvent;
  }
}
