import * as Y from 'yjs';
import { AppError, FILE_TEXT } from '@tandem/protocol';
import { checkAnchor, createAnchor, resolveAnchor, type Anchor, type AnchorStatus } from './anchor.ts';
import { applyHunks } from './applyHunks.ts';
import { computeHunks, type Hunk } from './hunks.ts';
import type { AiEditOrigin } from './AiEditOrigin.ts';

/**
 * A multi-file changeset (an agent run's private overlay), reviewed with the same machinery as a
 * single-selection AI edit: every file change is a suggestion whose hunks go through
 * `transition` (per-hunk accept/reject, accept all, approval policies), anchored with Yjs
 * relative positions, applied with `applyHunks` under an `AiEditOrigin`.
 *
 * What differs from a selection edit: a file's hunks are anchored ONE BY ONE (each over the lines
 * it removes), not as one range. People keep editing the live file while the agent works; an
 * edit between two hunks touches neither, an edit inside a hunk's lines makes exactly that hunk
 * stale, deleting its lines makes it conflicted. A stale or conflicted hunk is never applied and
 * never shown elsewhere: the overlay leaves the live text there as it is.
 *
 * Everything here is pure over the Y.Docs the caller passes (no I/O, no clock).
 */

/** One hunk of a modified file: `start`/`end` are offsets into the text it was computed on. */
export interface ChangesetHunk extends Hunk {
  /** Over the hunk's removed text in the live document (an insertion point when it removes nothing). */
  readonly anchor: Anchor;
}

export type FileChangeKind = 'modify' | 'create' | 'delete' | 'rename';

/**
 * A created file has one pseudo-hunk (its whole content, index 0) and no document yet; a deleted
 * file one pseudo-hunk (the deletion); a rename one pseudo-hunk (index 0) plus the content hunks
 * of its edits, indexed from 1. A modified file has its content hunks from 0.
 */
export interface FileChange {
  readonly kind: FileChangeKind;
  /** The live path (for a create: the new path). */
  readonly path: string;
  /** Rename target. */
  readonly newPath: string | null;
  /** Content of a created file. */
  readonly content: string | null;
  readonly hunks: readonly ChangesetHunk[];
}

export type HunkStatus = AnchorStatus;

/**
 * Hunks turning the live document's text into `proposed`, each anchored where it applies.
 * `firstIndex` lets a rename keep index 0 for the rename itself.
 */
export function anchorFileEdit(doc: Y.Doc, proposed: string, firstIndex = 0): ChangesetHunk[] {
  const ytext = doc.getText(FILE_TEXT);
  const current = ytext.toString();
  // Widen insertions to a context line; two hunks that then share a line become one.
  const groups: Array<{ start: number; end: number; raw: Hunk[] }> = [];
  for (const raw of computeHunks(current, proposed)) {
    const h = withContext(current, raw);
    const last = groups[groups.length - 1];
    if (last && h.start < last.end) {
      last.end = Math.max(last.end, h.end);
      last.raw.push(raw);
    } else {
      groups.push({ start: h.start, end: h.end, raw: [raw] });
    }
  }
  return groups.map((g, i) => {
    let inserted = '';
    let at = g.start;
    for (const r of g.raw) {
      inserted += current.slice(at, r.start) + r.inserted;
      at = r.end;
    }
    inserted += current.slice(at, g.end);
    return {
      index: i + firstIndex, start: g.start, end: g.end, removed: current.slice(g.start, g.end), inserted,
      anchor: createAnchor(ytext, g.start, g.end),
    };
  });
}

/**
 * A selection edit's hunks (offsets into `baseText`, the range's text starting at `rangeStart` in
 * `ytext`), each anchored on its own the way `anchorFileEdit` anchors a changeset's: an edit
 * inside one hunk's lines then makes only that hunk stale. Same `index`es, one anchored hunk per
 * hunk. An insertion takes a context line from inside the range; when that line is already part
 * of its neighbour (two insertions around one line), it stays a bare insertion point.
 */
export function anchorHunks(ytext: Y.Text, rangeStart: number, baseText: string, hunks: readonly Hunk[]): ChangesetHunk[] {
  let taken = 0;
  return hunks.map((raw) => {
    const wide = withContext(baseText, raw);
    const h = wide.start < taken ? raw : wide;
    taken = h.end;
    return { ...h, anchor: createAnchor(ytext, rangeStart + h.start, rangeStart + h.end) };
  });
}

/**
 * A pure insertion would be anchored to a single point, tied to one character: delete that
 * character and the point's place becomes ambiguous (it may land on either side of text next to
 * it). So an insertion takes the unchanged line after it (or, at the end of the file, the one
 * before it) as part of the hunk: it is then anchored like any replacement, and goes stale when
 * someone edits that line, conflicted when it is deleted. Hunks stay disjoint: computeHunks keeps
 * at least one unchanged line between two hunks, and that is the line taken.
 */
function withContext(text: string, h: Hunk): Hunk {
  if (h.start !== h.end || text.length === 0) return h;
  if (h.end < text.length) {
    const nl = text.indexOf('\n', h.end);
    const end = nl === -1 ? text.length : nl + 1;
    const line = text.slice(h.end, end);
    return { ...h, end, removed: line, inserted: h.inserted + line };
  }
  const start = text.lastIndexOf('\n', h.start - 2) + 1;
  const line = text.slice(start, h.start);
  return { ...h, start, removed: line, inserted: line + h.inserted };
}

/** intact / stale (someone edited inside its lines) / conflict (its lines are gone). */
export function hunkStatus(doc: Y.Doc, hunk: ChangesetHunk): HunkStatus {
  return checkAnchor(doc, hunk.anchor, hunk.removed);
}

/**
 * The file as the agent sees it: the live text with every INTACT hunk applied where its anchor
 * resolves now. `statuses[i]` is the status of `hunks[i]`.
 */
export function overlayText(doc: Y.Doc, hunks: readonly ChangesetHunk[]): { text: string; statuses: HunkStatus[] } {
  const live = doc.getText(FILE_TEXT).toString();
  const placed: Array<{ start: number; end: number; inserted: string }> = [];
  const statuses = hunks.map((h): HunkStatus => {
    const status = hunkStatus(doc, h);
    if (status === 'intact') {
      const range = resolveAnchor(doc, h.anchor)!;
      placed.push({ start: range.start, end: range.end, inserted: h.inserted });
    }
    return status;
  });
  placed.sort((a, b) => a.start - b.start || a.end - b.end);
  let text = '';
  let at = 0;
  for (const p of placed) {
    if (p.start < at) continue; // two insertion points collapsed onto one spot: keep the first
    text += live.slice(at, p.start) + p.inserted;
    at = p.end;
  }
  return { text: text + live.slice(at), statuses };
}

/**
 * Applies one content hunk to the live document as one transaction with `origin` (so a
 * changeset-wide UndoManager can revert it). Refuses, changing nothing, when the hunk is stale or
 * conflicted.
 */
export function applyChangesetHunk(doc: Y.Doc, hunk: ChangesetHunk, origin: AiEditOrigin):
  { ok: true } | { ok: false; status: 'stale' | 'conflict'; reason: string } {
  const local: Hunk = { index: hunk.index, start: 0, end: hunk.removed.length, removed: hunk.removed, inserted: hunk.inserted };
  const result = applyHunks(doc, hunk.anchor, hunk.removed, [local], [hunk.index], origin);
  return result.ok ? { ok: true } : { ok: false, status: result.status, reason: result.reason };
}

/** The file change's reviewable hunk indices, in order (pseudo-hunks included). */
export function reviewIndices(change: FileChange): number[] {
  switch (change.kind) {
    case 'create':
    case 'delete':
      return [0];
    case 'rename':
      return [0, ...change.hunks.map((h) => h.index)];
    case 'modify':
      return change.hunks.map((h) => h.index);
  }
}

/** Validates a file change read from storage (anchors are bytes, hunks fit their removed text). */
export function assertFileChange(change: FileChange): void {
  const ok = ['modify', 'create', 'delete', 'rename'].includes(change.kind) && typeof change.path === 'string' &&
    change.hunks.every((h) => h.anchor.start instanceof Uint8Array && h.anchor.end instanceof Uint8Array && h.end - h.start === h.removed.length);
  if (!ok) throw new AppError('BAD_INPUT', 'The changeset is unreadable.', change.path);
}
