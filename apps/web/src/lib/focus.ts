'use client';

/**
 * Whether the keyboard is in use somewhere outside `container` (a terminal, a form field, another
 * editor). Things that finish loading later (a file's document, a terminal's scrollback) take the
 * focus only when it is not: they must never grab the keys someone is already typing.
 */
export function typingElsewhere(container: HTMLElement | null): boolean {
  const el = document.activeElement as HTMLElement | null;
  if (!el || el === document.body || container?.contains(el)) return false;
  return el.isContentEditable || el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT';
}
