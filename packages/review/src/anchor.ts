import * as Y from 'yjs';
import { AppError, FILE_TEXT } from '@tandem/protocol';

/**
 * A suggestion's range as two encoded Yjs relative positions (stored as-is in the database).
 *
 * Association (the "non-expanding range" choice):
 *   - start is tied to the FIRST character of the range (assoc 0): text typed right before the
 *     range — at `start` — lands outside it;
 *   - end is tied to the LAST character of the range (assoc -1): text typed right after the range —
 *     at `end` — lands outside it.
 * So typing at either edge never slips into the range (which would make the suggestion stale for
 * someone merely continuing the surrounding code), and the range only grows when someone types
 * strictly inside it. An empty range (a pure insertion point) ties both ends to the character
 * after the point, so both always resolve to the same offset.
 *
 * Because of those ties, "the whole range was deleted" is observable: once every character of a
 * non-empty range is gone, its start and end resolve to the same offset. The end's association
 * tells resolveAnchor whether the anchor was created non-empty (assoc -1) or empty (assoc 0).
 */
export interface Anchor {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

export interface AnchorRange {
  readonly start: number;
  readonly end: number;
}

export type AnchorStatus = 'intact' | 'stale' | 'conflict';

function fileText(doc: Y.Doc): Y.Text {
  return doc.getText(FILE_TEXT);
}

export function createAnchor(ytext: Y.Text, start: number, end: number): Anchor {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > ytext.length) {
    throw new AppError('BAD_INPUT', 'The selected range is outside the file.', `${start}..${end} of ${ytext.length}`);
  }
  const empty = start === end;
  const startPos = Y.createRelativePositionFromTypeIndex(ytext, start, 0);
  const endPos = empty ? startPos : Y.createRelativePositionFromTypeIndex(ytext, end, -1);
  return { start: Y.encodeRelativePosition(startPos), end: Y.encodeRelativePosition(endPos) };
}

function decode(bytes: Uint8Array): Y.RelativePosition {
  try {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('not bytes');
    return Y.decodeRelativePosition(bytes);
  } catch (e) {
    throw new AppError('BAD_INPUT', 'The suggestion anchor is unreadable.', String(e));
  }
}

/** Absolute offset of a relative position in the doc's file text; null when its text was garbage-collected. */
function absoluteIndex(doc: Y.Doc, pos: Y.RelativePosition): number | null {
  // Materialise the Y.Text first: in a doc loaded from an update nobody has asked for the text
  // yet, its items still hang off a placeholder type that getText replaces.
  const text = fileText(doc);
  const item = pos.item;
  if (item !== null && Y.getState(doc.store, item.client) <= item.clock) {
    // Not "deleted": this replica has simply not received the anchored text yet.
    throw new AppError('NOT_FOUND', 'This copy of the file has not received the suggested range yet.');
  }
  const abs = Y.createAbsolutePositionFromRelativePosition(pos, doc);
  if (abs === null) return null;
  if (abs.type !== text) throw new AppError('BAD_INPUT', 'The suggestion anchor belongs to another document.');
  return abs.index;
}

/**
 * The anchored range's current offsets, or null when its whole text has been deleted.
 * Throws AppError NOT_FOUND on a replica that has not yet received the anchored text (resolve on
 * the server's copy, or on a client after sync), BAD_INPUT on bytes that are not an anchor.
 */
export function resolveAnchor(doc: Y.Doc, anchor: Anchor): AnchorRange | null {
  const startPos = decode(anchor.start);
  const endPos = decode(anchor.end);
  const start = absoluteIndex(doc, startPos);
  const end = absoluteIndex(doc, endPos);
  if (start === null || end === null) return null;
  const createdNonEmpty = endPos.assoc < 0;
  if (createdNonEmpty && start >= end) return null;
  return { start, end: Math.max(start, end) };
}

/**
 * intact: the range still holds exactly `baseText`. conflict: the whole range was deleted (a
 * non-empty range only; an insertion point never conflicts). stale: anything else — someone typed
 * or deleted inside, so the suggestion's hunks no longer describe the text.
 */
export function checkAnchor(doc: Y.Doc, anchor: Anchor, baseText: string): AnchorStatus {
  const range = resolveAnchor(doc, anchor);
  if (range === null) return 'conflict';
  if (range.end - range.start !== baseText.length) return 'stale';
  return anchoredText(doc, range) === baseText ? 'intact' : 'stale';
}

export function anchoredText(doc: Y.Doc, range: AnchorRange): string {
  return fileText(doc).toString().slice(range.start, range.end);
}

/**
 * A fresh anchor over the range's current text, for regenerating a stale suggestion (R14): the
 * current text becomes the new base. Null when the range was deleted (regenerate is then pointless).
 */
export function reanchor(doc: Y.Doc, anchor: Anchor): { anchor: Anchor; baseText: string } | null {
  const range = resolveAnchor(doc, anchor);
  if (range === null) return null;
  return { anchor: createAnchor(fileText(doc), range.start, range.end), baseText: anchoredText(doc, range) };
}
