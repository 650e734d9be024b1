import { InferenceError } from './InferenceError.ts';
import type { FinishReason } from './types.ts';

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

  #choice(choice: unknown): void {
    if (typeof choice !== 'object' || choice === null) throw this.#malformed('choice is not an object');
    const c = choice as { delta?: Record<string, unknown>; message?: Record<string, unknown>; text?: unknown; finish_reason?: unknown };
    let text: unknown;
    if (this.#mode === 'chat') {
      const delta = c.delta ?? c.message;
      text = delta?.content;
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
    default:
      return 'other';
  }
}
