/**
 * The provider contract. Every model backend (remote OpenAI-compatible server, in-process
 * llama.cpp) is a small adapter that turns an `InferenceRequest` into a stream of chunks.
 *
 * Error contract (one rule, everywhere): a failure is THROWN from the iterator as an
 * `InferenceError` (a subclass of `AppError`, so `isAppError` holds and `message` is user-safe).
 * There is no error chunk. Cancellation is not a failure: when the caller's signal aborts, the
 * stream ends promptly with `{ type: 'finish', reason: 'cancelled' }` (if the caller is still
 * iterating) and the upstream work is stopped at once. Breaking out of a `for await` loop stops
 * it the same way.
 */

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

interface RequestOptions {
  /** Generation stops before any of these strings; they are not part of the output. */
  stop?: readonly string[];
  /** Upper bound on generated tokens. Providers apply a default when omitted. */
  maxTokens?: number;
  temperature?: number;
}

export interface ChatRequest extends RequestOptions {
  mode: 'chat';
  messages: readonly ChatMessage[];
}

/** Fill-in-the-middle: generate the text that belongs between `prefix` and `suffix`. */
export interface FimRequest extends RequestOptions {
  mode: 'fim';
  prefix: string;
  suffix: string;
}

export type InferenceRequest = ChatRequest | FimRequest;

/**
 * `cancelled`: the caller aborted. `length`: maxTokens (or the context) ran out.
 * `stop`: the model finished or hit a stop sequence. `content_filter`: the provider refused.
 * `other`: anything else the provider reported (e.g. tool calls, which we do not request).
 */
export type FinishReason = 'stop' | 'length' | 'cancelled' | 'content_filter' | 'other';

export type InferenceChunk =
  /**
   * `tokens`: how many model tokens this text covers. Providers coalesce deltas that arrive
   * together into one chunk (fewer wake-ups downstream at 3,000 tok/s), so this is a count of
   * upstream deltas — exact for servers that send one token per SSE event, an estimate otherwise.
   */
  | { type: 'text'; text: string; tokens: number }
  /** Authoritative counts, when the provider reports them (sent once, just before `finish`). */
  | { type: 'usage'; promptTokens: number; completionTokens: number }
  /** Always the last chunk of a stream that did not throw. */
  | { type: 'finish'; reason: FinishReason };

export type ProviderKind = 'openai-compatible' | 'local-llama';

export interface ProviderInfo {
  id: string;
  label: string;
  model: string;
  kind: ProviderKind;
  /** True when `mode: 'fim'` requests are supported by configuration. */
  fim: boolean;
}

export interface InferenceProvider {
  readonly id: string;
  readonly label: string;
  readonly model: string;
  readonly info: ProviderInfo;
  generate(request: InferenceRequest, signal?: AbortSignal): AsyncIterable<InferenceChunk>;
  /** Releases sockets, models and memory. The provider is unusable afterwards. */
  dispose(): Promise<void>;
}
