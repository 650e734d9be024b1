import { AppError, isAppError } from '@tandem/protocol';
import { MemoryRateStore, RateLimiter, type RateStore } from '@tandem/auth';
import {
  isInferenceError, meter, type InferenceProvider, type MeteredStream, type ProviderInfo, type ProviderRegistry, type StreamMetrics,
} from '@tandem/inference';
import { tabChannel, type EventHub } from '../EventHub.ts';
import { DeltaCoalescer } from './DeltaCoalescer.ts';
import { FenceStripper } from './FenceStripper.ts';
import { completionRequest, type CompletionContext } from './completionPrompt.ts';
import { COMPLETION_EVENT, type CompletionError, type CompletionEvent, type CompletionMetrics } from './completionEvents.ts';

export interface AiLimits {
  /** AI requests one user may start per window (all projects, all tabs). */
  perUser: { limit: number; windowMs: number };
  /** AI requests one project may start per window (all members). */
  perProject: { limit: number; windowMs: number };
}

export const DEFAULT_AI_LIMITS: AiLimits = {
  // A slow typist pausing > 75 ms after each key can start ~7 requests/s (most are aborted by
  // the next key, closing the upstream request at once); beyond 12/s sustained is not typing.
  perUser: { limit: 120, windowMs: 10_000 },
  perProject: { limit: 480, windowMs: 10_000 },
};

export interface AiServiceOptions {
  registry: ProviderRegistry;
  hub: EventHub;
  /** Shown to users when no provider is configured: exactly what the operator must set. */
  notConfiguredHint: string;
  /** Upper bound on tokens of one inline completion. Default 256. */
  maxCompletionTokens?: number;
  /**
   * Longest a project's cached AI settings are used (ms), bounding how long a lost invalidation
   * from another node could matter. Default 60 s.
   */
  settingsCacheMs?: number;
  limits?: Partial<AiLimits>;
  /** Where the per-user and per-project request budgets are counted (several nodes share Redis). */
  rateStore?: RateStore;
  /** Several nodes: a cancel for a request not running here is sent to the other nodes (NodeCommandBus). */
  forwardCancel?: (userId: string, requestId: string) => void;
  /** Several nodes: a project's AI settings changed here; the other nodes call `settingsChangedHere`. */
  forwardSettingsChanged?: (projectId: string) => void;
  now?: () => number;
  /** Unexpected failures (bugs), with their detail. Default console.error. */
  logError?: (message: string, error: unknown) => void;
}

/** What a completion needs from the project row: read on every request, so cached (see `projectSettings`). */
export interface ProjectAiSettings {
  /** The owner's provider choice (null: the server's default). */
  providerId: string | null;
  /** The project's forbidden paths (agent policy): never sent to a model. */
  forbiddenPaths: string[];
}

/** Which provider serves a project, or why none does. */
export interface ProjectAiStatus {
  providers: ProviderInfo[];
  /** The project's choice (null: the server default). */
  selectedProviderId: string | null;
  /** The provider used by projects that chose none. */
  defaultProviderId: string | null;
  /** The provider that will answer, or null. */
  effective: ProviderInfo | null;
  /** Why AI does not work for this project (user-safe, says what to configure), or null. */
  problem: string | null;
}

export interface StartCompletion {
  userId: string;
  projectId: string;
  tabId: string;
  requestId: string;
  provider: InferenceProvider;
  context: CompletionContext;
}

interface InFlight {
  key: string;
  tabKey: string;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * The AI side of the server: the deployment's providers, per-project selection, rate limits,
 * and the relay that streams a completion to the caller's tab. Knows nothing of HTTP: the
 * router calls it, events go out through the EventHub.
 *
 * Every request is in `inFlight` from start to its final event and removed in `finally`, so
 * whatever happens upstream (fault, timeout, cancel, shutdown) nothing stays stuck. A tab has at
 * most one completion in flight: starting another aborts the previous one.
 */
export class AiService {
  readonly #registry: ProviderRegistry;
  readonly #hub: EventHub;
  readonly #hint: string;
  readonly #maxTokens: number;
  readonly #userLimiter: RateLimiter;
  readonly #projectLimiter: RateLimiter;
  readonly #logError: (message: string, error: unknown) => void;
  readonly #forwardCancel: ((userId: string, requestId: string) => void) | undefined;
  readonly #inFlight = new Map<string, InFlight>();
  readonly #forwardSettingsChanged: ((projectId: string) => void) | undefined;
  readonly #settings = new Map<string, { settings: ProjectAiSettings; at: number }>();
  readonly #settingsCacheMs: number;
  #settingsGeneration = 0;
  readonly #now: () => number;
  readonly #byTab = new Map<string, InFlight>();

  constructor(options: AiServiceOptions) {
    this.#registry = options.registry;
    this.#hub = options.hub;
    this.#hint = options.notConfiguredHint;
    this.#maxTokens = options.maxCompletionTokens ?? 256;
    const limits = { ...DEFAULT_AI_LIMITS, ...options.limits };
    const store = options.rateStore ?? new MemoryRateStore(options.now);
    this.#userLimiter = new RateLimiter('ai-user', limits.perUser.limit, limits.perUser.windowMs, store);
    this.#projectLimiter = new RateLimiter('ai-project', limits.perProject.limit, limits.perProject.windowMs, store);
    this.#logError = options.logError ?? ((m, e) => console.error(m, e));
    this.#forwardCancel = options.forwardCancel;
    this.#forwardSettingsChanged = options.forwardSettingsChanged;
    this.#settingsCacheMs = options.settingsCacheMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The project's provider choice and forbidden paths, cached: they are read on every completion
   * and AI edit, where a database round trip before the upstream request adds to the time to the
   * first token, and they change rarely. Exact: every change calls `settingsChanged` (which tells
   * the other nodes), and a read that began before a change is not stored.
   */
  async projectSettings(projectId: string, load: () => Promise<ProjectAiSettings>): Promise<ProjectAiSettings> {
    const cached = this.#settings.get(projectId);
    if (cached && this.#now() - cached.at < this.#settingsCacheMs) return cached.settings;
    const generation = this.#settingsGeneration;
    const settings = await load();
    if (generation === this.#settingsGeneration) {
      if (this.#settings.size > 10_000) this.#settings.clear();
      this.#settings.set(projectId, { settings, at: this.#now() });
    }
    return settings;
  }

  /** The project's provider choice or agent policy changed (here): forget it here and on the other nodes. */
  settingsChanged(projectId: string): void {
    this.settingsChangedHere(projectId);
    this.#forwardSettingsChanged?.(projectId);
  }

  /** `projectId` null: every project (invalidations from other nodes may have been lost). */
  settingsChangedHere(projectId: string | null): void {
    this.#settingsGeneration++;
    if (projectId === null) this.#settings.clear();
    else this.#settings.delete(projectId);
  }

  providers(): ProviderInfo[] {
    return this.#registry.list();
  }

  isConfigured(providerId: string): boolean {
    return this.#registry.get(providerId) !== undefined;
  }

  status(selectedProviderId: string | null): ProjectAiStatus {
    const providers = this.providers();
    const defaultProviderId = this.#registry.defaultProvider()?.id ?? null;
    try {
      return { providers, selectedProviderId, defaultProviderId, effective: this.resolveProvider(selectedProviderId).info, problem: null };
    } catch (e) {
      return { providers, selectedProviderId, defaultProviderId, effective: null, problem: (e as AppError).message };
    }
  }

  /**
   * The provider for a project. A project whose chosen provider was removed from the server's
   * configuration gets an error, not the default: the owner may have picked a local model on
   * purpose, and silently sending the code to another (perhaps cloud) provider would be wrong.
   */
  resolveProvider(selectedProviderId: string | null): InferenceProvider {
    if (this.#registry.list().length === 0) throw new AppError('UNAVAILABLE', this.#hint);
    if (selectedProviderId !== null) {
      const chosen = this.#registry.get(selectedProviderId);
      if (!chosen) {
        throw new AppError('UNAVAILABLE', `This project uses the AI provider "${selectedProviderId}", which this server no longer has. The project owner can choose another in the project settings.`);
      }
      return chosen;
    }
    return this.#registry.defaultProvider()!;
  }

  /** Rejects with RATE_LIMITED (with the wait in the message) or counts one request (on every node with Redis). */
  async admitRequest(userId: string, projectId: string): Promise<void> {
    const userWait = await this.#userLimiter.take(userId);
    if (userWait > 0) throw new AppError('RATE_LIMITED', `Too many AI requests from you; try again in ${Math.ceil(userWait / 1000)} s.`);
    const projectWait = await this.#projectLimiter.take(projectId);
    if (projectWait > 0) {
      await this.#userLimiter.release(userId);
      throw new AppError('RATE_LIMITED', `Too many AI requests in this project; try again in ${Math.ceil(projectWait / 1000)} s.`);
    }
  }

  /** Starts streaming a completion to the caller's tab and returns at once. */
  startCompletion(start: StartCompletion): void {
    const key = `${start.userId}:${start.requestId}`;
    if (this.#inFlight.has(key)) throw new AppError('CONFLICT', 'A request with this id is already running.');
    const tabKey = `${start.userId}:${start.tabId}`;
    this.#byTab.get(tabKey)?.controller.abort();
    const controller = new AbortController();
    const entry: InFlight = { key, tabKey, controller, done: Promise.resolve() };
    this.#inFlight.set(key, entry);
    this.#byTab.set(tabKey, entry);
    entry.done = this.#relay(start, controller.signal).finally(() => {
      this.#inFlight.delete(key);
      if (this.#byTab.get(tabKey) === entry) this.#byTab.delete(tabKey);
    });
  }

  /**
   * Aborts the caller's own request (and its upstream HTTP request). False if not running here;
   * then, with several nodes, the cancel goes to the others (the request may run on any of them).
   */
  cancel(userId: string, requestId: string): boolean {
    if (this.cancelHere(userId, requestId)) return true;
    this.#forwardCancel?.(userId, requestId);
    return false;
  }

  /** Aborts the request if it runs on this node (a cancel forwarded by another node). */
  cancelHere(userId: string, requestId: string): boolean {
    const entry = this.#inFlight.get(`${userId}:${requestId}`);
    if (!entry) return false;
    entry.controller.abort();
    return true;
  }

  /** Requests currently streaming (tests assert it returns to 0: nothing gets stuck). */
  inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Resolves once every running request has sent its final event. */
  async settled(): Promise<void> {
    await Promise.all([...this.#inFlight.values()].map((e) => e.done));
  }

  /** Aborts everything, waits for the final events, frees providers. */
  async close(): Promise<void> {
    for (const entry of this.#inFlight.values()) entry.controller.abort();
    await this.settled();
    await this.#registry.dispose();
  }

  async #relay(start: StartCompletion, signal: AbortSignal): Promise<void> {
    const channel = tabChannel(start.userId, start.tabId);
    const { requestId } = start;
    const publish = (event: CompletionEvent): void => this.#hub.publish(channel, COMPLETION_EVENT, event);
    const request = completionRequest(start.context, start.provider.info, this.#maxTokens);
    const fences = request.mode === 'chat' ? new FenceStripper() : null;
    let stream: MeteredStream | null = null;
    const coalescer = new DeltaCoalescer((text) => publish({ requestId, kind: 'delta', text, metrics: live(stream!.metrics) }));
    try {
      stream = meter(start.provider.generate(request, signal));
      for await (const chunk of stream) {
        if (chunk.type !== 'text') continue;
        if (!fences) {
          coalescer.push(chunk.text);
          continue;
        }
        coalescer.push(fences.push(chunk.text));
        if (fences.closed) break; // the answer is complete; breaking closes the upstream request
      }
      if (fences && !fences.closed) coalescer.push(fences.end());
      if (signal.aborted) coalescer.discard();
      else coalescer.flush();
      const metrics = { ...(await stream.done) };
      // Stopping at a closing fence is the answer ending normally, not a cancellation.
      if (fences?.closed) Object.assign(metrics, { outcome: 'ok', finishReason: 'stop' });
      publish({ requestId, kind: 'done', finishReason: metrics.finishReason ?? 'other', metrics: live(metrics) });
    } catch (e) {
      coalescer.flush();
      const metrics = stream ? await stream.done : null;
      publish({ requestId, kind: 'error', error: this.#describe(e), metrics: live(metrics) });
    }
  }

  #describe(e: unknown): CompletionError {
    if (isInferenceError(e)) return { kind: e.kind, code: e.code, message: e.message, retryAfterMs: e.retryAfterMs ?? null };
    if (isAppError(e)) return { kind: 'unknown', code: e.code, message: e.message, retryAfterMs: null };
    this.#logError('[ai] completion failed unexpectedly:', e);
    return { kind: 'unknown', code: 'INTERNAL', message: 'The completion failed on the server.', retryAfterMs: null };
  }
}

/** The metrics a tab sees, rounded to 0.1 ms / 0.1 tok/s (smaller events, no false precision). */
function live(m: StreamMetrics | null): CompletionMetrics {
  const round = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);
  if (!m) return { outcome: 'error', ttftMs: null, durationMs: 0, completionTokens: 0, tokensPerSecond: null, finishReason: null, errorKind: 'unknown' };
  return {
    outcome: m.outcome,
    ttftMs: round(m.ttftMs),
    durationMs: round(m.durationMs)!,
    completionTokens: m.completionTokens,
    tokensPerSecond: round(m.tokensPerSecond),
    finishReason: m.finishReason,
    errorKind: m.errorKind,
  };
}
