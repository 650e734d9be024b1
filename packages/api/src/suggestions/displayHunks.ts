import { computeHunks, type Hunk } from '@tandem/review';
import type { CompactDisplayHunk, DisplayHunk } from './suggestionEvents.ts';

/**
 * The diff drawn over the code while a suggestion streams, sent as offsets only. Outside its
 * hunks a proposal equals its base (hunks are runs of differing lines), so each hunk's inserted
 * text is a contiguous slice of the proposal that the client can cut out itself: frames stay
 * O(hunks) instead of repeating the text that already arrived.
 */
export function compactDisplay(baseText: string, proposedText: string, streaming: boolean): CompactDisplayHunk[] {
  return computeHunks(baseText, proposedText, { streaming }).map((h) => [h.start, h.end, h.inserted.length]);
}

/** The inverse of compactDisplay, given the proposal the frames built up (the web app does the same). */
export function expandDisplay(compact: readonly CompactDisplayHunk[], proposedText: string): DisplayHunk[] {
  let shift = 0;
  return compact.map(([start, end, length]) => {
    const from = start + shift;
    shift += length - (end - start);
    return { start, end, inserted: proposedText.slice(from, from + length), index: null };
  });
}

/** Pending hunks of a ready suggestion, as display hunks. */
export function pendingDisplay(hunks: readonly Hunk[]): DisplayHunk[] {
  return hunks.map((h) => ({ start: h.start, end: h.end, inserted: h.inserted, index: h.index }));
}
