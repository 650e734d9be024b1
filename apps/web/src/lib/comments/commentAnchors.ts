import * as Y from 'yjs';

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** A range of a file's text as relative positions (they follow the text as people edit). */
export function anchorOf(text: Y.Text, start: number, end: number): { anchorStart: string; anchorEnd: string } {
  return {
    anchorStart: toBase64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, start, 0))),
    anchorEnd: toBase64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, end, -1))),
  };
}

/** Where an anchor is now, or null if its text is gone (or the anchor is unreadable). */
export function resolveAnchor(doc: Y.Doc, anchorStart: string, anchorEnd: string): { start: number; end: number } | null {
  try {
    const start = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64(anchorStart)), doc);
    const end = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64(anchorEnd)), doc);
    if (!start || !end) return null;
    return { start: start.index, end: Math.max(start.index, end.index) };
  } catch {
    return null;
  }
}
