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

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** A function call the model made (OpenAI `tool_calls[i]`); `arguments` is the raw JSON text. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  /** `toolCalls`: the calls this assistant turn made; their results follow as `tool` messages. */
  | { role: 'assistant'; content: string; toolCalls?: readonly ToolCall[] }
  /** The result of the call `toolCallId`, fed back to the model. */
  | { role: 'tool'; content: string; toolCallId: string };

/** One function the model may call (OpenAI `tools[i].function`). `parameters` is a JSON Schema. */
export interface ToolDefinition {
  name: string;
  description: string;
  parameters: Readonly<Record<string, unknown>>;
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
  /**
   * Functions the model may call. Providers that cannot call tools throw an `InferenceError` of
   * kind `unsupported` (see `ProviderInfo.tools`) instead of silently ignoring them.
   */
  tools?: readonly ToolDefinition[];
  /** Default `auto` when `tools` are given. */
  toolChoice?: 'auto' | 'none' | 'required';
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
 * `tool_calls`: the turn ended with function calls (the `tool_call` chunks before `finish`).
 * `other`: anything else the provider reported.
 */
export type FinishReason = 'stop' | 'length' | 'cancelled' | 'content_filter' | 'tool_calls' | 'other';

export type InferenceChunk =
  /**
   * `tokens`: how many model tokens this text covers. Providers coalesce deltas that arrive
   * together into one chunk (fewer wake-ups downstream at 3,000 tok/s), so this is a count of
   * upstream deltas — exact for servers that send one token per SSE event, an estimate otherwise.
   */
  | { type: 'text'; text: string; tokens: number }
  /**
   * A fragment of function call `index` as it streams (`delta.tool_calls`): `id` and `name`
   * arrive with the first fragment, `argumentsDelta` is the next piece of the JSON arguments.
   * For live display only; the assembled call follows as a `tool_call` chunk.
   */
  | { type: 'tool_call_delta'; index: number; id?: string; name?: string; argumentsDelta: string }
  /**
   * One complete function call, emitted once the turn ends (before `usage`/`finish`), in index
   * order. `args` is the parsed arguments object; when the model wrote arguments that are not a
   * JSON object, `args` is undefined and `argumentsError` says why — the caller reports that to
   * the model as the tool's result; it is not a stream failure.
   */
  | { type: 'tool_call'; index: number; call: ToolCall; args: Record<string, unknown> | undefined; argumentsError?: string }
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
  /** True when chat requests may carry `tools` (function calling). */
  tools: boolean;
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
