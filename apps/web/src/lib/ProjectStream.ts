'use client';
import { trpc } from './trpc';

export type StreamEvent = { channel: string; type: string; data: unknown };
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'closed';
type Handler = (e: StreamEvent) => void;

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
  private readonly sub: { unsubscribe(): void };

  constructor(readonly projectId: string) {
    this.sub = trpc.stream.events.subscribe(
      { projectId, tabId: this.tabId },
      {
        onStarted: () => this.setState('live'),
        onData: (e) => this.dispatch(e.data as StreamEvent),
        onError: () => this.setState('closed'),
        onConnectionStateChange: (s) => {
          if (s.state === 'connecting' && this.state === 'live') this.setState('reconnecting');
          if (s.state === 'pending') this.setState('live');
        },
      },
    );
  }

  /** Calls `handler` for events of `type` ('*' for all); returns an unsubscribe function. */
  on(type: string, handler: Handler): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  onState(listener: (s: StreamState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  close(): void {
    this.sub.unsubscribe();
    this.setState('closed');
  }

  private dispatch(e: StreamEvent): void {
    this.handlers.get(e.type)?.forEach((h) => h(e));
    this.handlers.get('*')?.forEach((h) => h(e));
  }

  private setState(s: StreamState): void {
    if (this.state === s) return;
    this.state = s;
    this.stateListeners.forEach((l) => l(s));
  }
}
