import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';

/**
 * A suggestion's anchored range on this tab's copy of a file. The same two Yjs relative
 * positions the server stores (see @tandem/review `anchor.ts`, which the browser bundle may not
 * import): start tied to the range's first character (assoc 0), end to its last (assoc -1), so
 * typing at either edge stays outside the range; an empty range ties both to the next character.
 */
export interface EncodedRange {
  start: string;
  end: string;
}

export type ResolvedRange = { start: number; end: number } | 'deleted' | 'not-synced';

export function encodeRange(text: Y.Text, start: number, end: number): EncodedRange {
  const startPos = Y.createRelativePositionFromTypeIndex(text, start, 0);
  const endPos = start === end ? startPos : Y.createRelativePositionFromTypeIndex(text, end, -1);
  return { start: toBase64(Y.encodeRelativePosition(startPos)), end: toBase64(Y.encodeRelativePosition(endPos)) };
}

export function resolveRange(doc: Y.Doc, range: EncodedRange): ResolvedRange {
  const text = doc.getText(FILE_TEXT);
  const startPos = Y.decodeRelativePosition(fromBase64(range.start));
  const endPos = Y.decodeRelativePosition(fromBase64(range.end));
  for (const pos of [startPos, endPos]) {
    if (pos.item && Y.getState(doc.store, pos.item.client) <= pos.item.clock) return 'not-synced';
  }
  const start = Y.createAbsolutePositionFromRelativePosition(startPos, doc);
  const end = Y.createAbsolutePositionFromRelativePosition(endPos, doc);
  if (!start || !end || start.type !== text || end.type !== text) return 'deleted';
  if (endPos.assoc < 0 && start.index >= end.index) return 'deleted';
  return { start: start.index, end: Math.max(start.index, end.index) };
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
