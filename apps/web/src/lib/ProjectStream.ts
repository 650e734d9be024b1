'use client';
import type { ProjectStreamEventName, ProjectStreamEvents, ProjectStreamMessage } from '@tandem/protocol';
import { trpc } from './trpc';

/** An event of type `K` as a handler receives it (the map in @tandem/protocol types its payload). */
export type StreamEvent<K extends ProjectStreamEventName = ProjectStreamEventName> = { channel: string; type: K; data: ProjectStreamEvents[K] };
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'closed';
type Handler = (e: ProjectStreamMessage) => void;

/**
 * The ONE live event stream of this browser tab for a project (a tRPC SSE subscription):
 * shared project events (suggestions, runs, terminals) and this tab's private events
 * (completions). Features register handlers by event type; nothing opens its own connection,
 * since browsers allow only 6 HTTP/1.1 connections per origin across all tabs.
 * tRPC resumes after a drop with the last event id; a `resync` event means "refetch your state".
 */
export class ProjectStream {
  readonly tabId = crypto.randomUUID();
  state: StreamState = 'connecting';
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly stateListeners = new Set<(s: StreamState) => void>();
  private sub: { unsubscribe(): void } | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;

  constructor(readonly projectId: string) {
    this.connect();
  }

  private connect(): void {
    this.sub = trpc.stream.events.subscribe(
      { projectId: this.projectId, tabId: this.tabId },
      {
        onStarted: () => {
          this.failures = 0;
          this.setState('live');
        },
        onData: (e) => this.dispatch(e.data as ProjectStreamMessage),
        onError: (error) => this.failed(error),
        onConnectionStateChange: (s) => {
          if (s.state === 'connecting' && this.state === 'live') this.setState('reconnecting');
          if (s.state === 'pending') this.setState('live');
        },
      },
    );
  }

  /**
   * tRPC retries dropped connections itself; an error it does not retry ends the subscription.
   * Lost access ends the stream for good (the IDE shows why); anything else is retried with
   * backoff, and the features refetch their state when it is live again.
   */
  private failed(error: unknown): void {
    this.sub = null;
    const code = (error as { data?: { code?: string } } | null)?.data?.code;
    if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN' || code === 'NOT_FOUND') return this.setState('closed');
    this.setState('reconnecting');
    const delay = Math.min(10_000, 500 * 2 ** this.failures++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /** Calls `handler` for events of `type`, with that event's payload type; returns an unsubscribe function. */
  on<K extends ProjectStreamEventName>(type: K, handler: (e: StreamEvent<K>) => void): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    const h = handler as Handler; // dispatch only hands it events of its own type
    set.add(h);
    return () => set.delete(h);
  }

  onState(listener: (s: StreamState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.sub?.unsubscribe();
    this.sub = null;
    this.setState('closed');
  }

  private dispatch(e: ProjectStreamMessage): void {
    this.handlers.get(e.type)?.forEach((h) => h(e));
  }

  private setState(s: StreamState): void {
    if (this.state === s) return;
    this.state = s;
    this.stateListeners.forEach((l) => l(s));
  }
}
