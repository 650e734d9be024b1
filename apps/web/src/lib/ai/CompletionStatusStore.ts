'use client';
import type { CompletionMetrics } from '@tandem/api';

export type CompletionState = 'idle' | 'waiting' | 'streaming' | 'done' | 'cancelled' | 'error';

export interface CompletionStatus {
  /** `unavailable`: no provider for this project (`problem` says what to configure). */
  availability: 'loading' | 'ready' | 'unavailable' | 'viewer';
  provider: { label: string; model: string; fim: boolean } | null;
  problem: string | null;
  /** The latest completion of this tab. */
  state: CompletionState;
  metrics: CompletionMetrics | null;
  error: string | null;
}

const INITIAL: CompletionStatus = { availability: 'loading', provider: null, problem: null, state: 'idle', metrics: null, error: null };

/**
 * The inline-completion status of one project in this tab: written by the completion controller
 * (inside the editor), read by the status component (useSyncExternalStore).
 */
export class CompletionStatusStore {
  private snapshot: CompletionStatus = INITIAL;
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): CompletionStatus => this.snapshot;

  update(patch: Partial<CompletionStatus>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of this.listeners) l();
  }
}

const stores = new Map<string, CompletionStatusStore>();

export function completionStatusStore(projectId: string): CompletionStatusStore {
  let store = stores.get(projectId);
  if (!store) stores.set(projectId, (store = new CompletionStatusStore()));
  return store;
}
