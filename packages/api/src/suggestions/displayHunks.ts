import { computeHunks, type ChangesetHunk, type Hunk, type HunkReview } from '@tandem/review';
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

/** Pending hunks of a ready suggestion, each placed on its own anchor (`anchored[i]` anchors `hunks[i]`). */
export function pendingDisplay(hunks: readonly Hunk[], anchored: readonly ChangesetHunk[], reviews: readonly HunkReview[]): DisplayHunk[] {
  return hunks.flatMap((h, i) => {
    const a = anchored[i];
    const review = reviews[i];
    if (!a || review?.decision !== 'pending') return [];
    return [{
      start: h.start - a.start, end: h.end - a.start, inserted: h.inserted, index: h.index, stale: review.stale === true,
      hunkAnchor: { start: base64(a.anchor.start), end: base64(a.anchor.end), text: a.removed },
    }];
  });
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
