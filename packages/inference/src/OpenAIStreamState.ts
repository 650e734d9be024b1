import { InferenceError } from './InferenceError.ts';
import type { FinishReason, InferenceChunk, ToolCall } from './types.ts';

type ToolCallDelta = Extract<InferenceChunk, { type: 'tool_call_delta' }>;
type AssembledToolCall = Extract<InferenceChunk, { type: 'tool_call' }>;

/** Caps what one streamed call may accumulate, so a runaway model cannot exhaust memory. */
const MAX_TOOL_ARGUMENT_CHARS = 1_000_000;
const MAX_TOOL_CALLS = 64;

/**
 * Interprets the `data` payloads of an OpenAI-style stream (Chat Completions `delta.content`
 * or legacy Completions `text`). Text is accumulated until the reader drains it, so every event
 * that arrived in one network read becomes ONE text chunk downstream.
 */
export class OpenAIStreamState {
  readonly #providerLabel: string;
  readonly #mode: 'chat' | 'fim';
  pendingText = '';
  pendingTokens = 0;
  /** Any event carrying generation (content, reasoning, finish) has arrived since last drain. */
  sawGeneration = false;
  done = false;
  finishReason: FinishReason | undefined;
  usage: { promptTokens: number; completionTokens: number } | undefined;
  /** Function-call fragments since the last drain (live display). */
  pendingToolDeltas: ToolCallDelta[] = [];
  /** Calls assembled so far, by `index`. */
  readonly #calls = new Map<number, { id: string; name: string; arguments: string }>();

  constructor(providerLabel: string, mode: 'chat' | 'fim') {
    this.#providerLabel = providerLabel;
    this.#mode = mode;
  }

  /** Bound so it can be passed straight to `SseParser.push`. Throws `InferenceError`. */
  readonly onData = (data: string, event: string): void => {
    if (this.done) return;
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      throw this.#malformed(`invalid JSON in SSE data: ${data.slice(0, 200)}`);
    }
    if (typeof payload !== 'object' || payload === null) {
      throw this.#malformed(`SSE data is not an object: ${data.slice(0, 200)}`);
    }
    this.accept(payload as Record<string, unknown>, event);
  };

  /** One decoded event object (streamed) or a whole non-streamed response. */
  accept(payload: Record<string, unknown>, event = 'message'): void {
    if (payload.error !== undefined || event === 'error') {
      throw new InferenceError('provider', `The AI provider "${this.#providerLabel}" reported an error while answering. Try again.`, {
        detail: `stream error event: ${JSON.stringify(payload.error ?? payload).slice(0, 500)}`,
      });
    }
    const choices = payload.choices;
    if (Array.isArray(choices) && choices.length > 0) this.#choice(choices[0]);
    const usage = readUsage(payload.usage) ?? readUsage((payload.x_groq as { usage?: unknown } | undefined)?.usage);
    if (usage) this.usage = usage;
  }

  /** Takes the text accumulated since the last call. */
  drainText(): { text: string; tokens: number } | undefined {
    if (this.pendingText.length === 0) return undefined;
    const out = { text: this.pendingText, tokens: this.pendingTokens };
    this.pendingText = '';
    this.pendingTokens = 0;
    return out;
  }

  /** Takes the function-call fragments accumulated since the last call. */
  drainToolDeltas(): ToolCallDelta[] {
    const out = this.pendingToolDeltas;
    this.pendingToolDeltas = [];
    return out;
  }

  /** Every call of the turn, assembled and parsed, in index order. */
  toolCalls(): AssembledToolCall[] {
    return [...this.#calls.entries()].sort((a, b) => a[0] - b[0]).map(([index, c], n) => {
      const call: ToolCall = { id: c.id || `call_${n}`, name: c.name, arguments: c.arguments };
      return { type: 'tool_call', index, call, ...parseArguments(c.arguments) };
    });
  }

  #toolCallDeltas(list: unknown): void {
    if (!Array.isArray(list)) return;
    for (const [position, raw] of list.entries()) {
      if (typeof raw !== 'object' || raw === null) continue;
      const d = raw as { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } };
      const index = typeof d.index === 'number' && Number.isInteger(d.index) && d.index >= 0 ? d.index : position;
      let call = this.#calls.get(index);
      if (!call) {
        if (this.#calls.size >= MAX_TOOL_CALLS) throw this.#malformed(`more than ${MAX_TOOL_CALLS} tool calls in one turn`);
        call = { id: '', name: '', arguments: '' };
        this.#calls.set(index, call);
      }
      const delta: ToolCallDelta = { type: 'tool_call_delta', index, argumentsDelta: '' };
      if (typeof d.id === 'string' && d.id.length > 0 && call.id === '') call.id = delta.id = d.id;
      const name = d.function?.name;
      if (typeof name === 'string' && name.length > 0) {
        // Some servers repeat the name in every fragment; others stream it in pieces.
        if (call.name === '' || !call.name.endsWith(name)) call.name += name;
        delta.name = call.name;
      }
      const args = d.function?.arguments;
      if (typeof args === 'string' && args.length > 0) {
        if (call.arguments.length + args.length > MAX_TOOL_ARGUMENT_CHARS) {
          throw this.#malformed(`tool call arguments over ${MAX_TOOL_ARGUMENT_CHARS} characters`);
        }
        call.arguments += args;
        delta.argumentsDelta = args;
      } else if (typeof args === 'object' && args !== null) {
        // A few servers send already-parsed arguments in non-streamed answers.
        call.arguments += JSON.stringify(args);
        delta.argumentsDelta = call.arguments;
      }
      this.pendingToolDeltas.push(delta);
      this.sawGeneration = true;
    }
  }

  #choice(choice: unknown): void {
    if (typeof choice !== 'object' || choice === null) throw this.#malformed('choice is not an object');
    const c = choice as { delta?: Record<string, unknown>; message?: Record<string, unknown>; text?: unknown; finish_reason?: unknown };
    let text: unknown;
    if (this.#mode === 'chat') {
      const delta = c.delta ?? c.message;
      text = delta?.content;
      if (delta?.tool_calls !== undefined) this.#toolCallDeltas(delta.tool_calls);
      if (delta && (typeof delta.reasoning_content === 'string' || typeof delta.reasoning === 'string')) this.sawGeneration = true;
    } else {
      text = c.text;
    }
    if (typeof text === 'string' && text.length > 0) {
      this.pendingText += text;
      this.pendingTokens++;
      this.sawGeneration = true;
    }
    if (typeof c.finish_reason === 'string') {
      this.finishReason = mapFinishReason(c.finish_reason);
      this.sawGeneration = true;
    }
  }

  #malformed(detail: string): InferenceError {
    return new InferenceError('malformed_stream', `The AI provider "${this.#providerLabel}" sent a response that could not be read.`, { detail });
  }
}

function readUsage(u: unknown): { promptTokens: number; completionTokens: number } | undefined {
  if (typeof u !== 'object' || u === null) return undefined;
  const { prompt_tokens: p, completion_tokens: c } = u as { prompt_tokens?: unknown; completion_tokens?: unknown };
  if (typeof p !== 'number' || typeof c !== 'number') return undefined;
  return { promptTokens: p, completionTokens: c };
}

function parseArguments(text: string): { args: Record<string, unknown> | undefined; argumentsError?: string } {
  if (text.trim() === '') return { args: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { args: value as Record<string, unknown> };
    return { args: undefined, argumentsError: 'the arguments must be a JSON object' };
  } catch (e) {
    return { args: undefined, argumentsError: `the arguments are not valid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
}

function mapFinishReason(reason: string): FinishReason {
  switch (reason) {
    case 'stop':
    case 'eos':
    case 'end_turn':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}
