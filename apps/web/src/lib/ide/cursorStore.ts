'use client';
import { useSyncExternalStore } from 'react';
import type { CursorPosition } from '@/components/ide/CodeEditor';

/**
 * The caret position the status bar shows. Not React state of the workspace: it changes on every
 * keystroke (and y-monaco sets it again after remote edits), and only the status bar needs it;
 * as workspace state, every keystroke re-rendered the whole IDE.
 */
export class CursorStore {
  #position: CursorPosition | null = null;
  readonly #listeners = new Set<() => void>();

  set = (next: CursorPosition | null): void => {
    const c = this.#position;
    if (c === next || (c && next && c.line === next.line && c.column === next.column && c.selected === next.selected)) return;
    this.#position = next;
    for (const l of this.#listeners) l();
  };

  get = (): CursorPosition | null => this.#position;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
}

export function useCursor(store: CursorStore): CursorPosition | null {
  return useSyncExternalStore(store.subscribe, store.get, () => null);
}
