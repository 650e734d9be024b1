import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';
import { anchoredText, createAnchor, resolveAnchor, type Anchor } from './anchor.ts';
import { applyHunksToText, rebaseHunks, type Hunk } from './hunks.ts';
import type { AiEditOrigin } from './AiEditOrigin.ts';

export type ApplyHunksResult =
  | {
    readonly ok: true;
    /** Anchor over the edited range: store it in place of the old one. */
    readonly anchor: Anchor;
    /** The range's text now: the base with the applied hunks. The new base for the remaining hunks. */
    readonly baseText: string;
    /** The hunks not applied, re-expressed against the new base (same `index`). */
    readonly remaining: Hunk[];
  }
  | { readonly ok: false; readonly status: 'stale' | 'conflict'; readonly reason: string };

/**
 * Applies the hunks whose `index` is in `hunkIndices` to the anchored range, as ONE transaction
 * with `origin` — only if the range still holds exactly `baseText`; otherwise nothing changes and
 * the result says stale (someone edited inside) or conflict (the range is gone).
 *
 * Partial accepts: the result carries the new base (base with these hunks applied), a new anchor
 * over the whole edited range, and the remaining hunks rebased onto that base. Pass those to the
 * next call. A fresh anchor is needed, not just a new base: an accepted hunk that inserts at the
 * very start or end of the range puts its text outside the old anchor's edge ties.
 *
 * Throws AppError BAD_INPUT when the hunks do not describe `baseText` or an index is unknown.
 */
export function applyHunks(
  doc: Y.Doc,
  anchor: Anchor,
  baseText: string,
  hunks: readonly Hunk[],
  hunkIndices: Iterable<number>,
  origin: AiEditOrigin,
): ApplyHunksResult {
  const indices = [...new Set(hunkIndices)];
  const newBase = applyHunksToText(baseText, hunks, indices); // validates hunks and indices
  const range = resolveAnchor(doc, anchor);
  if (range === null) return { ok: false, status: 'conflict', reason: 'The suggested range was deleted.' };
  if (anchoredText(doc, range) !== baseText) {
    return { ok: false, status: 'stale', reason: 'The suggested range was edited since the suggestion was made.' };
  }
  if (indices.length === 0) return { ok: true, anchor, baseText, remaining: [...hunks] };
  const ytext = doc.getText(FILE_TEXT);
  const chosenIndices = new Set(indices);
  const chosen = hunks.filter((h) => chosenIndices.has(h.index)).sort((x, y) => y.start - x.start);
  let next: Anchor = anchor;
  doc.transact(() => {
    for (const h of chosen) replaceHunk(ytext, range.start, h, baseText.length); // back to front: offsets stay valid
    next = createAnchor(ytext, range.start, range.start + newBase.length);
  }, origin);
  return { ok: true, anchor: next, baseText: newBase, remaining: rebaseHunks(hunks, indices) };
}

/**
 * Replaces one hunk. The order of insert and delete decides which neighbours the new Yjs item is
 * integrated between, and Yjs always places inserted text after any deleted characters directly
 * to its right:
 *   - delete first: the new text lands after the removed characters' tombstones;
 *   - insert first: it lands before them, right after the preceding character.
 * Someone typing at the range's edge at the same moment creates an item with the same neighbours
 * as ours only if our hunk sits at that edge in the corresponding way; two items with the same
 * neighbours are ordered by client id, i.e. arbitrarily, and their text could end up on the wrong
 * side of the AI's. So a hunk that ends at the range's end (and does not start at its start)
 * inserts first; every other hunk deletes first, the usual editor order (which also makes an undo
 * restore the removed lines before anything people typed into the AI's lines).
 */
function replaceHunk(ytext: Y.Text, rangeStart: number, h: Hunk, baseLength: number): void {
  const at = rangeStart + h.start;
  const removedLength = h.end - h.start;
  const insertFirst = h.end === baseLength && h.start > 0 && removedLength > 0;
  if (insertFirst) {
    if (h.inserted.length > 0) ytext.insert(at, h.inserted);
    ytext.delete(at + h.inserted.length, removedLength);
    return;
  }
  if (removedLength > 0) ytext.delete(at, removedLength);
  if (h.inserted.length > 0) ytext.insert(at, h.inserted);
}
