'use client';
import { useSyncExternalStore } from 'react';

export interface Problem {
  path: string;
  line: number;
  column: number;
  severity: 'error' | 'warning' | 'info';
  message: string;
  source: string;
}

/**
 * The project's diagnostics as this tab's language services report them (every participant's
 * browser computes its own from the same live files, so everyone sees the same problems). Kept
 * free of Monaco so the page can show counts before the editor chunk loads.
 */
class ProblemsStore {
  #problems: Problem[] = [];
  readonly #listeners = new Set<() => void>();

  set(problems: Problem[]): void {
    this.#problems = problems;
    for (const l of this.#listeners) l();
  }

  get = (): Problem[] => this.#problems;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
}

export const problemsStore = new ProblemsStore();

const none: Problem[] = [];
export function useProblems(): Problem[] {
  return useSyncExternalStore(problemsStore.subscribe, problemsStore.get, () => none);
}
