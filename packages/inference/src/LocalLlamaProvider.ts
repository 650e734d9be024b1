import { basename } from 'node:path';
import type { ChatHistoryItem, Llama, LlamaChat, LlamaCompletion, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { ChunkQueue } from './ChunkQueue.ts';
import { InferenceError } from './InferenceError.ts';
import type { ChatMessage, FinishReason, InferenceChunk, InferenceProvider, InferenceRequest, ProviderInfo } from './types.ts';

export interface LocalLlamaConfig {
  kind: 'local-llama';
  id: string;
  label?: string;
  /** Absolute path of a GGUF file already on disk. Nothing is ever downloaded. */
  modelPath: string;
  /** Shown to users; default: the file name. */
  model?: string;
  /** Tokens of context (KV cache). Default 4096, capped at the model's training context. */
  contextSize?: number;
  /**
   * CPU threads for evaluation. Default: 1 for models under 256 MiB, else the machine's math
   * cores. Never more threads than cores: llama.cpp's threads spin-wait on each other, and an
   * oversubscribed or shared core turns every token into a scheduler wait (see README).
   */
  threads?: number;
  /** Prompt tokens evaluated per batch. Default 512 (node-llama-cpp's default). */
  batchSize?: number;
  /** Accept `mode: 'fim'`. A model without FIM tokens continues the prefix instead (no suffix). */
  fim?: boolean;
  /** Applied when a request gives no `maxTokens`. Default 512. */
  defaultMaxTokens?: number;
}

const DEFAULT_CONTEXT_SIZE = 4096;
const DEFAULT_MAX_TOKENS = 512;
const SMALL_MODEL_BYTES = 256 * 1024 * 1024;

type LlamaModule = typeof import('node-llama-cpp');

interface LoadedModel {
  lib: LlamaModule;
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  chat: LlamaChat | undefined;
  completion: LlamaCompletion | undefined;
}

/**
 * Runs a GGUF model in-process on the CPU through node-llama-cpp (prebuilt llama.cpp, never
 * built or downloaded at run time). One context sequence, so requests run one at a time in
 * arrival order; a waiting request can still be cancelled. Consecutive requests that share a
 * prompt prefix reuse the evaluated KV cache (node-llama-cpp compares tokens), which keeps TTFT
 * low for repeated completions in the same file.
 *
 * The model loads on first use; call `load()` at startup to keep that out of the first TTFT.
 */
export class LocalLlamaProvider implements InferenceProvider {
  readonly id: string;
  readonly label: string;
  readonly model: string;
  readonly #config: LocalLlamaConfig;
  #loading: Promise<LoadedModel> | undefined;
  #runtimeLoading: Promise<{ lib: LlamaModule; llama: Llama }> | undefined;
  #lockTail: Promise<void> = Promise.resolve();
  readonly #live = new Set<AbortController>();
  #disposed = false;
  #threads: number | undefined;

  constructor(config: LocalLlamaConfig) {
    this.#config = config;
    this.id = config.id;
    this.label = config.label ?? config.id;
    this.model = config.model ?? basename(config.modelPath);
  }

  get info(): ProviderInfo {
    return { id: this.id, label: this.label, model: this.model, kind: 'local-llama', fim: this.#config.fim === true, tools: false };
  }

  /** Threads the loaded context uses (undefined until loaded). */
  get threads(): number | undefined {
    return this.#threads;
  }

  /** Loads the model now (idempotent). Rejects with an `InferenceError` of kind `model_load`. */
  async load(): Promise<void> {
    await this.#ensureLoaded();
  }

  generate(request: InferenceRequest, signal?: AbortSignal): AsyncIterable<InferenceChunk> {
    return this.#stream(request, signal);
  }

  /** Frees the model and its memory (not the runtime); the next request loads it again. */
  async unload(): Promise<void> {
    for (const c of this.#live) c.abort();
    const release = await this.#acquire(undefined);
    try {
      const loading = this.#loading;
      this.#loading = undefined;
      const loaded = await loading?.catch(() => undefined);
      if (loaded) await disposeLoaded(loaded);
    } finally {
      release?.();
    }
  }

  /** Unloads the model and shuts down the llama.cpp runtime; the provider is unusable after. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.unload();
    const runtime = await this.#runtimeLoading?.catch(() => undefined);
    this.#runtimeLoading = undefined;
    await runtime?.llama.dispose();
  }

  async *#stream(request: InferenceRequest, signal: AbortSignal | undefined): AsyncGenerator<InferenceChunk> {
    this.#assertUsable();
    if (request.mode === 'fim' && this.#config.fim !== true) {
      throw new InferenceError('unsupported', `The local model "${this.label}" is not set up for inline (fill-in-the-middle) completions.`);
    }
    if (request.mode === 'chat' && request.tools && request.tools.length > 0) {
      // node-llama-cpp's function calling needs grammar-constrained, model-specific chat wrappers;
      // the in-process provider does not offer it, so agent runs are refused up front.
      throw new InferenceError('unsupported', `The local model "${this.label}" cannot call tools (function calling), which agent runs need. Serve it with llama.cpp's llama-server (--jinja) and use an OpenAI-compatible provider instead.`);
    }
    const release = await this.#acquire(signal);
    if (!release) {
      yield { type: 'finish', reason: 'cancelled' };
      return;
    }
    const controller = new AbortController();
    const onCallerAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    this.#live.add(controller);
    let run: Promise<void> | undefined;
    try {
      this.#assertUsable();
      const loaded = await this.#ensureLoaded();
      if (controller.signal.aborted) {
        yield { type: 'finish', reason: 'cancelled' };
        return;
      }
      const queue = new ChunkQueue();
      run = this.#run(loaded, request, controller.signal, queue);
      yield* queue.drain();
    } finally {
      controller.abort(); // no-op when finished; stops generation when the consumer left early
      await run;
      signal?.removeEventListener('abort', onCallerAbort);
      this.#live.delete(controller);
      release();
    }
  }

  /** Generates into `queue`; never rejects (failures go into the queue). */
  async #run(loaded: LoadedModel, request: InferenceRequest, signal: AbortSignal, queue: ChunkQueue): Promise<void> {
    const meterBefore = loaded.sequence.tokenMeter.getState();
    let pendingTokens = 0;
    let completionTokens = 0;
    const callbacks = {
      onToken: (tokens: Token[]): void => {
        pendingTokens += tokens.length;
        completionTokens += tokens.length;
      },
      onTextChunk: (text: string): void => {
        queue.pushText(text, pendingTokens);
        pendingTokens = 0;
      },
      signal,
      stopOnAbortSignal: true,
      maxTokens: request.maxTokens ?? this.#config.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
      temperature: request.temperature,
      customStopTriggers: request.stop && request.stop.length > 0 ? [...request.stop] : undefined,
    };
    try {
      let stopReason: string;
      if (request.mode === 'chat') {
        loaded.chat ??= new loaded.lib.LlamaChat({ contextSequence: loaded.sequence, autoDisposeSequence: false });
        const response = await loaded.chat.generateResponse(toChatHistory(request.messages), callbacks);
        stopReason = response.metadata.stopReason;
      } else {
        loaded.completion ??= new loaded.lib.LlamaCompletion({ contextSequence: loaded.sequence, autoDisposeSequence: false });
        // A model without FIM tokens cannot see the suffix; continuing the prefix still gives a
        // useful completion (instead of failing every request).
        const response = loaded.completion.infillSupported
          ? await loaded.completion.generateInfillCompletionWithMeta(request.prefix, request.suffix, callbacks)
          : await loaded.completion.generateCompletionWithMeta(request.prefix, callbacks);
        stopReason = response.metadata.stopReason;
      }
      const used = loaded.lib.TokenMeter.diff(loaded.sequence.tokenMeter, meterBefore);
      queue.push({ type: 'usage', promptTokens: used.usedInputTokens, completionTokens });
      queue.push({ type: 'finish', reason: signal.aborted ? 'cancelled' : mapStopReason(stopReason) });
      queue.end();
    } catch (e) {
      if (signal.aborted) {
        // Aborted before the first token: node-llama-cpp throws instead of returning.
        queue.push({ type: 'finish', reason: 'cancelled' });
        queue.end();
      } else if (e instanceof InferenceError) {
        queue.fail(e);
      } else {
        queue.fail(new InferenceError('provider', `The local model "${this.label}" failed while generating. Try again.`, { detail: describe(e) }));
      }
    }
  }

  #assertUsable(): void {
    if (this.#disposed) throw new InferenceError('disposed', `The local model "${this.label}" is shut down.`);
  }

  #ensureLoaded(): Promise<LoadedModel> {
    this.#assertUsable();
    this.#loading ??= this.#load().catch((e: unknown) => {
      this.#loading = undefined;
      throw new InferenceError('model_load', `The local model "${this.label}" could not be loaded. Check that its GGUF file exists and is a supported model.`, {
        detail: `${this.#config.modelPath}: ${describe(e)}`,
      });
    });
    return this.#loading;
  }

  async #load(): Promise<LoadedModel> {
    const { lib, llama } = await this.#runtime();
    const model = await llama.loadModel({ modelPath: this.#config.modelPath });
    try {
      const threads = this.#config.threads ?? defaultThreads(model.size, llama.cpuMathCores);
      const context = await model.createContext({
        contextSize: Math.min(this.#config.contextSize ?? DEFAULT_CONTEXT_SIZE, model.trainContextSize),
        threads,
        ...(this.#config.batchSize !== undefined ? { batchSize: this.#config.batchSize } : {}),
      });
      this.#threads = threads;
      return { lib, llama, model, context, sequence: context.getSequence(), chat: undefined, completion: undefined };
    } catch (e) {
      await model.dispose().catch(() => undefined);
      throw e;
    }
  }

  /**
   * The llama.cpp runtime, kept across unload/reload: `getLlama` spawns a process to test the
   * prebuilt binary on Linux (~0.5 s), which a reload should not pay again.
   */
  #runtime(): Promise<{ lib: LlamaModule; llama: Llama }> {
    this.#runtimeLoading ??= (async () => {
      // Imported lazily: apps that configure only remote providers never load the native addon.
      const lib = await import('node-llama-cpp');
      // maxThreads 0 = no pool-wide cap, so the context gets exactly the threads we ask for
      // (the default cap is max(cores, 4): 4 threads on a 2-core machine, the 3 tok/s trap).
      const llama = await lib.getLlama({ gpu: false, build: 'never', maxThreads: 0, logLevel: lib.LlamaLogLevel.error, progressLogs: false });
      return { lib, llama };
    })().catch((e: unknown) => {
      this.#runtimeLoading = undefined;
      throw e;
    });
    return this.#runtimeLoading;
  }

  /**
   * Waits for our turn on the single sequence. Resolves with a release function, or with
   * undefined if `signal` aborted first (the slot is then released as soon as it comes up).
   */
  #acquire(signal: AbortSignal | undefined): Promise<(() => void) | undefined> {
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const previous = this.#lockTail;
    this.#lockTail = previous.then(() => mine);
    if (!signal) return previous.then(() => release);
    if (signal.aborted) {
      void previous.then(release);
      return Promise.resolve(undefined);
    }
    return new Promise((resolveAcquire) => {
      const onAbort = (): void => {
        void previous.then(release);
        resolveAcquire(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void previous.then(() => {
        if (signal.aborted) return;
        signal.removeEventListener('abort', onAbort);
        resolveAcquire(release);
      });
    });
  }
}

/**
 * A model this small does microseconds of math per token, so thread synchronisation dominates
 * and a single thread is fastest; bigger models are compute-bound and use every core.
 */
export function defaultThreads(modelBytes: number, mathCores: number): number {
  return modelBytes < SMALL_MODEL_BYTES ? 1 : Math.max(1, mathCores);
}

function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === 'system') return { type: 'system', text: m.content };
    if (m.role === 'user' || m.role === 'tool') return { type: 'user', text: m.content };
    return { type: 'model', response: [m.content] };
  });
  // The last item is the model turn being generated; a trailing assistant message is continued.
  if (history[history.length - 1]?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

function mapStopReason(reason: string): FinishReason {
  switch (reason) {
    case 'eogToken':
    case 'stopGenerationTrigger':
    case 'customStopTrigger':
      return 'stop';
    case 'maxTokens':
      return 'length';
    case 'abort':
      return 'cancelled';
    default:
      return 'other';
  }
}

async function disposeLoaded(loaded: LoadedModel): Promise<void> {
  loaded.chat?.dispose({ disposeSequence: false });
  loaded.completion?.dispose({ disposeSequence: false });
  await loaded.context.dispose();
  await loaded.model.dispose();
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
