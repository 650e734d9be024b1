import { InferenceError } from './InferenceError.ts';
import { HttpPoster } from './HttpPoster.ts';
import { OpenAIStreamState } from './OpenAIStreamState.ts';
import { SseParser } from './SseParser.ts';
import { StreamWatchdog, type WatchdogLimits, type WatchdogPhase } from './StreamWatchdog.ts';
import { fimWireFields, type FimFormat } from './fimPrompt.ts';
import type { ChatMessage, InferenceChunk, InferenceProvider, InferenceRequest, ProviderInfo } from './types.ts';

export interface OpenAICompatibleConfig {
  kind: 'openai-compatible';
  id: string;
  label?: string;
  /** Up to and including the version segment, e.g. `https://api.groq.com/openai/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; omit for local servers that need none. */
  apiKey?: string;
  model: string;
  /** Extra request headers (organization/project headers, proxies, test options). */
  headers?: Readonly<Record<string, string>>;
  timeouts?: Partial<WatchdogLimits>;
  /** The server has the legacy `/completions` endpoint and the model can fill in the middle. */
  fim?: boolean;
  /** How FIM requests are encoded (see fimPrompt.ts). Default `suffix-field`. */
  fimFormat?: FimFormat;
  /** Ask for a final usage event (`stream_options.include_usage`). Default true. */
  streamUsage?: boolean;
  /** Newer OpenAI models want `max_completion_tokens`. Default `max_tokens` (understood by all). */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Applied when a request gives no `maxTokens`; omitted from the request when unset. */
  defaultMaxTokens?: number;
  /**
   * The served model handles `tools` (function calling). Default true; set false for servers or
   * models that reject or ignore them, so agent runs refuse with a clear message.
   */
  tools?: boolean;
}

export const DEFAULT_TIMEOUTS: WatchdogLimits = { connectMs: 10_000, firstTokenMs: 30_000, idleMs: 30_000 };

/** Marks an abort that the caller asked for (as opposed to a timeout firing). */
const CANCELLED = Symbol('cancelled');
const ERROR_BODY_LIMIT = 4096;
/** How long a finished stream may take to close after `[DONE]` before we drop the socket. */
const DRAIN_LIMIT_MS = 100;

/**
 * Streams from any server speaking the OpenAI wire protocol: Chat Completions for chat and the
 * legacy Completions endpoint for fill-in-the-middle. Requests go through `HttpPoster` (node:http
 * with a keep-alive pool: connections are reused between requests, and the request is written
 * sooner than with the global fetch). Aborting closes the upstream socket immediately.
 */
export class OpenAICompatibleProvider implements InferenceProvider {
  readonly id: string;
  readonly label: string;
  readonly model: string;
  readonly #config: OpenAICompatibleConfig;
  readonly #limits: WatchdogLimits;
  readonly #headers: Record<string, string>;
  readonly #baseUrl: string;
  readonly #live = new Set<AbortController>();
  readonly #http = new HttpPoster();
  #disposed = false;

  constructor(config: OpenAICompatibleConfig) {
    this.#config = config;
    this.id = config.id;
    this.label = config.label ?? config.id;
    this.model = config.model;
    this.#baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.#limits = { ...DEFAULT_TIMEOUTS, ...config.timeouts };
    this.#headers = {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
      ...config.headers,
    };
  }

  get info(): ProviderInfo {
    return { id: this.id, label: this.label, model: this.model, kind: 'openai-compatible', fim: this.#config.fim === true, tools: this.#config.tools !== false };
  }

  generate(request: InferenceRequest, signal?: AbortSignal): AsyncIterable<InferenceChunk> {
    return this.#stream(request, signal);
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const controller of this.#live) controller.abort(CANCELLED);
    this.#live.clear();
    this.#http.dispose();
  }

  async *#stream(request: InferenceRequest, signal: AbortSignal | undefined): AsyncGenerator<InferenceChunk> {
    if (this.#disposed) throw new InferenceError('disposed', `The AI provider "${this.label}" is shut down.`);
    const body = this.#requestBody(request);
    if (signal?.aborted) {
      yield { type: 'finish', reason: 'cancelled' };
      return;
    }
    const controller = new AbortController();
    const onCallerAbort = (): void => controller.abort(CANCELLED);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    this.#live.add(controller);
    const watchdog = new StreamWatchdog(this.#limits, (phase, ms) => controller.abort(this.#timeoutError(phase, ms)));
    let finished = false;
    try {
      watchdog.start();
      const url = `${this.#baseUrl}${request.mode === 'chat' ? '/chat/completions' : '/completions'}`;
      let response: Response;
      try {
        response = await this.#http.post(url, this.#headers, JSON.stringify(body), controller.signal);
      } catch (e) {
        throw this.#failure(e, controller, 'fetch');
      }
      watchdog.headersReceived();
      if (!response.ok) throw await this.#httpError(response);
      const state = new OpenAIStreamState(this.label, request.mode);
      const contentType = response.headers.get('content-type') ?? '';
      if (!contentType.includes('text/event-stream')) {
        // Servers that ignore `stream: true` answer with one JSON document.
        yield* this.#wholeResponse(response, contentType, state, controller);
        finished = true;
        return;
      }
      if (!response.body) throw this.#malformed('response has no body');
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (e) {
          throw this.#failure(e, controller, 'read');
        }
        if (result.done) {
          parser.end(state.onData);
          break;
        }
        let streamError: unknown;
        try {
          parser.push(decoder.decode(result.value, { stream: true }), state.onData);
        } catch (e) {
          streamError = e; // deliver the text that came before the bad event first
        }
        if (state.sawGeneration) {
          state.sawGeneration = false;
          watchdog.activity();
        }
        const text = state.drainText();
        if (text) {
          yield { type: 'text', text: text.text, tokens: text.tokens };
          // Time the consumer spent with the chunk is not upstream silence.
          watchdog.activity();
        }
        const deltas = state.drainToolDeltas();
        if (deltas.length > 0) {
          yield* deltas;
          watchdog.activity();
        }
        if (streamError !== undefined) throw streamError;
        if (state.done) {
          await drainAfterDone(reader, controller);
          break;
        }
      }
      const tail = state.drainText();
      if (tail) yield { type: 'text', text: tail.text, tokens: tail.tokens };
      yield* state.drainToolDeltas();
      if (!state.done && state.finishReason === undefined) {
        throw new InferenceError('connection_dropped', `The connection to the AI provider "${this.label}" ended before the answer was complete.`, {
          detail: 'stream ended without [DONE] or finish_reason',
        });
      }
      finished = true;
      watchdog.stop();
      const calls = state.toolCalls();
      yield* calls;
      if (state.usage) yield { type: 'usage', ...state.usage };
      yield { type: 'finish', reason: calls.length > 0 ? 'tool_calls' : state.finishReason ?? 'stop' };
    } catch (e) {
      if (controller.signal.aborted && controller.signal.reason === CANCELLED) {
        finished = true;
        yield { type: 'finish', reason: 'cancelled' };
        return;
      }
      throw e;
    } finally {
      watchdog.stop();
      signal?.removeEventListener('abort', onCallerAbort);
      this.#live.delete(controller);
      if (!finished) controller.abort(CANCELLED); // consumer stopped early: close the socket now
    }
  }

  #requestBody(request: InferenceRequest): Record<string, unknown> {
    const config = this.#config;
    const body: Record<string, unknown> = { model: this.model, stream: true };
    if (request.mode === 'chat') {
      body.messages = request.messages.map(wireMessage);
      if (request.tools && request.tools.length > 0) {
        if (config.tools === false) {
          throw new InferenceError('unsupported', `The AI provider "${this.label}" is not set up for tool calling (function calls), which agent runs need.`);
        }
        body.tools = request.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
        body.tool_choice = request.toolChoice ?? 'auto';
      }
    } else {
      if (config.fim !== true) {
        throw new InferenceError('unsupported', `The AI provider "${this.label}" is not set up for inline (fill-in-the-middle) completions.`);
      }
      Object.assign(body, fimWireFields(config.fimFormat ?? 'suffix-field', request.prefix, request.suffix));
    }
    const maxTokens = request.maxTokens ?? config.defaultMaxTokens;
    if (maxTokens !== undefined) body[config.maxTokensField ?? 'max_tokens'] = maxTokens;
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.stop && request.stop.length > 0) body.stop = request.stop;
    if (config.streamUsage !== false) body.stream_options = { include_usage: true };
    return body;
  }

  async *#wholeResponse(response: Response, contentType: string, state: OpenAIStreamState, controller: AbortController): AsyncGenerator<InferenceChunk> {
    if (!contentType.includes('json')) throw this.#malformed(`unexpected content-type ${contentType}`);
    let payload: unknown;
    try {
      payload = await response.json();
    } catch (e) {
      if (controller.signal.aborted) throw this.#failure(e, controller, 'read');
      throw this.#malformed('invalid JSON body');
    }
    if (typeof payload !== 'object' || payload === null) throw this.#malformed('JSON body is not an object');
    state.accept(payload as Record<string, unknown>);
    const text = state.drainText();
    if (text) yield { type: 'text', text: text.text, tokens: state.usage?.completionTokens ?? text.tokens };
    yield* state.drainToolDeltas();
    const calls = state.toolCalls();
    yield* calls;
    if (state.usage) yield { type: 'usage', ...state.usage };
    yield { type: 'finish', reason: calls.length > 0 ? 'tool_calls' : state.finishReason ?? 'stop' };
  }

  /** Turns a rejected fetch or body read into the error the user should see. */
  #failure(e: unknown, controller: AbortController, stage: 'fetch' | 'read'): unknown {
    if (controller.signal.aborted) return controller.signal.reason;
    const code = errorCode(e);
    const detail = `${stage}: ${describe(e)}`;
    if (stage === 'read' || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') {
      return new InferenceError('connection_dropped', stage === 'read'
        ? `The connection to the AI provider "${this.label}" dropped in the middle of the answer.`
        : `The AI provider "${this.label}" closed the connection without answering.`, { detail });
    }
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
      return this.#timeoutError('connect', this.#limits.connectMs, detail);
    }
    return new InferenceError('unreachable', `Could not connect to the AI provider "${this.label}". Check its address and that it is running.`, { detail });
  }

  #timeoutError(phase: WatchdogPhase, ms: number, detail?: string): InferenceError {
    const seconds = formatSeconds(ms);
    switch (phase) {
      case 'connect':
        return new InferenceError('connect_timeout', `The AI provider "${this.label}" did not respond within ${seconds}.`, { detail });
      case 'first_token':
        return new InferenceError('first_token_timeout', `The AI provider "${this.label}" did not start answering within ${seconds}.`, { detail });
      case 'idle':
        return new InferenceError('idle_timeout', `The AI provider "${this.label}" stopped sending for ${seconds} in the middle of the answer.`, { detail });
    }
  }

  async #httpError(response: Response): Promise<InferenceError> {
    const status = response.status;
    const body = await readLimited(response, ERROR_BODY_LIMIT);
    const detail = `HTTP ${status}: ${upstreamMessage(body)}`;
    const name = `The AI provider "${this.label}"`;
    if (status === 401 || status === 403) {
      return new InferenceError('auth', `${name} rejected the API key (HTTP ${status}). Check the key configured for it.`, { detail, status });
    }
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers);
      const when = retryAfterMs === undefined ? 'in a moment' : `in ${formatSeconds(retryAfterMs)}`;
      return new InferenceError('rate_limited', `${name} is rate limiting requests. Try again ${when}.`, { detail, status, retryAfterMs });
    }
    if (status === 404) {
      return new InferenceError('not_found', `${name} does not know this model or endpoint (HTTP 404). Check its base URL and model name.`, { detail, status });
    }
    if (status >= 500) {
      return new InferenceError('provider', `${name} had an internal error (HTTP ${status}). Try again.`, { detail, status });
    }
    return new InferenceError('bad_request', `${name} refused the request (HTTP ${status}).`, { detail, status });
  }

  #malformed(detail: string): InferenceError {
    return new InferenceError('malformed_stream', `The AI provider "${this.label}" sent a response that could not be read.`, { detail });
  }
}

/**
 * After `[DONE]` the server ends the response, normally in the same packet. Reading to the end
 * lets undici return the socket to its keep-alive pool, so the next request skips TCP/TLS setup.
 * A server that keeps the response open after `[DONE]` gets its socket closed instead.
 */
async function drainAfterDone(reader: ReadableStreamDefaultReader<Uint8Array>, controller: AbortController): Promise<void> {
  const timer = setTimeout(() => controller.abort(CANCELLED), DRAIN_LIMIT_MS);
  try {
    for (;;) if ((await reader.read()).done) return;
  } catch {
    // Closing after [DONE] cannot hurt the answer we already have.
  } finally {
    clearTimeout(timer);
  }
}

/** Our message shape → the Chat Completions wire shape (tool calls and results included). */
function wireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  if (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0) {
    return {
      role: 'assistant',
      content: m.content.length > 0 ? m.content : null,
      tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  return { role: m.role, content: m.content };
}

async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // The status already says what went wrong; a truncated body only loses log detail.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return text.slice(0, limit);
}

/** The provider's own error text for the log detail, from `{ error: { message } }` when present. */
function upstreamMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const err = parsed.error;
    if (typeof err === 'string') return err;
    if (err && typeof err.message === 'string') return err.message;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, 500);
}

/** `retry-after-ms` (OpenAI/Azure) wins; else `Retry-After` in seconds or as an HTTP date. */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? Number(s.toFixed(1)) : Math.round(s)} s`;
}

function errorCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    parts.push(cur instanceof Error ? `${cur.name}: ${cur.message}` : String(cur));
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join(' <- ');
}
