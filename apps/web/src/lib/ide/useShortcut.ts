'use client';
import { useEffect, useRef } from 'react';

/**
 * A window-wide Ctrl/Cmd shortcut, caught before Monaco and the browser (e.g. Ctrl+P would print).
 * `key` is the lower-case key; `shift` whether Shift must be held (or not).
 */
export function useShortcut(key: string, shift: boolean, handler: () => void): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey !== shift || e.key.toLowerCase() !== key) return;
      e.preventDefault();
      e.stopPropagation();
      latest.current();
    };
    window.addEventListener('keydown', onKeyDown, { capture: true });
    return () => window.removeEventListener('keydown', onKeyDown, { capture: true });
  }, [key, shift]);
}
