import type * as Y from 'yjs';
import { AppError, FILE_TEXT, TREE_MAP, fileDocName, isAppError, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { SyncExtension } from '@tandem/collab';
import {
  anchorHunks, checkAnchor, createAnchor, hunkStatus, reanchor, resolveAnchor, type Anchor, type AnchorStatus, type ChangesetHunk, type Hunk,
} from '@tandem/review';
import type { OpenSuggestions } from './OpenSuggestions.ts';
import type { SuggestionRecord } from './SuggestionRecord.ts';
import type { SuggestionDocuments, TargetRange } from './serviceTypes.ts';

/** A range to rewrite, anchored on the server's copy: its text, context and lines. */
export interface Target {
  anchor: Anchor;
  baseText: string;
  before: string;
  after: string;
  startLine: number;
  endLine: number;
}

/** What a check found: the whole range (intact / stale: edited while streaming / conflict: deleted), and pending hunks newly edited. */
export interface AnchorVerdict {
  range: AnchorStatus;
  staleHunks: number[];
}

const INTACT: AnchorVerdict = { range: 'intact', staleHunks: [] };

export interface SuggestionAnchoringOptions {
  documents: SuggestionDocuments;
  open: OpenSuggestions;
  anchorWaitMs: number;
  /** A suggestion's anchor looked lost in a batch check: confirm it in the suggestion's queue. */
  onLost: (record: SuggestionRecord) => void;
  logError: (message: string, error: unknown) => void;
}

/**
 * Where suggestions sit in their files: anchoring a requested range on the server's copy (waiting
 * briefly for the requester's latest typing), anchoring each final hunk on its own, re-anchoring
 * for a regenerate, and the checks after every batch of document changes (SyncExtension
 * onChange, coalesced with setImmediate, so anchors are checked once per batch, not per
 * keystroke per suggestion). While it streams a suggestion has only its range, so an edit inside
 * stales all of it; once ready, an edit stales only the hunks whose lines it touched.
 */
export class SuggestionAnchoring {
  readonly #options: SuggestionAnchoringOptions;
  #dirty = new Map<string, Y.Doc>();
  #scheduled: NodeJS.Immediate | null = null;
  #closed = false;

  constructor(options: SuggestionAnchoringOptions) {
    this.#options = options;
  }

  /** Register with the SyncServer: anchors are re-checked when a document loads or changes. */
  readonly syncExtension: SyncExtension = {
    onLoadDocument: ({ documentName, document }) => this.#schedule(documentName, document),
    onChange: ({ documentName, document }) => this.#schedule(documentName, document),
  };

  close(): void {
    this.#closed = true;
    if (this.#scheduled) clearImmediate(this.#scheduled);
  }

  /** The suggestion's anchors on the current document. */
  async check(record: SuggestionRecord): Promise<AnchorVerdict> {
    let verdict = INTACT;
    await this.#options.documents.readDocument(fileDocName(record.projectId, record.fileId), (doc) => {
      verdict = this.#verdict(record, doc);
    });
    return verdict;
  }

  /** The range to rewrite, anchored on the server's copy. Waits briefly for the requester's latest edits. */
  async resolveTarget(documentName: string, range: TargetRange): Promise<Target> {
    const deadline = Date.now() + this.#options.anchorWaitMs;
    for (;;) {
      let target = null as Target | null;
      let problem = null as AppError | null;
      let waiting = false as boolean;
      await this.#options.documents.readDocument(documentName, (doc) => {
        const text = doc.getText(FILE_TEXT).toString();
        let start: number;
        let end: number;
        if (range.kind === 'offsets') {
          if (range.start < 0 || range.end < range.start || range.end > text.length) {
            problem = new AppError('BAD_INPUT', 'The selected range is outside the file.');
            return;
          }
          ({ start, end } = range);
        } else {
          let resolved;
          try {
            resolved = resolveAnchor(doc, { start: range.start, end: range.end });
          } catch (error) {
            if (isAppError(error) && error.code === 'NOT_FOUND') waiting = true;
            else problem = isAppError(error) ? error : new AppError('BAD_INPUT', 'The selected range is unreadable.');
            return;
          }
          if (resolved === null) {
            problem = new AppError('CONFLICT', 'The selected code was deleted before the request reached the server.');
            return;
          }
          ({ start, end } = resolved);
        }
        target = targetAround(text, createAnchor(doc.getText(FILE_TEXT), start, end), doc);
      });
      if (problem) throw problem;
      if (target) return target;
      if (!waiting || Date.now() > deadline) throw new AppError('CONFLICT', 'Your latest edits have not reached the server yet; try again in a moment.');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * The final hunks (offsets into the record's base), each anchored where it is now; null when the
   * range no longer holds the base (someone edited inside before the batch check saw it).
   */
  async anchorHunks(record: SuggestionRecord, hunks: readonly Hunk[]): Promise<ChangesetHunk[] | null> {
    let anchored = null as ChangesetHunk[] | null;
    await this.#options.documents.readDocument(fileDocName(record.projectId, record.fileId), (doc) => {
      if (checkAnchor(doc, record.anchor, record.baseText) !== 'intact') return;
      anchored = anchorHunks(doc.getText(FILE_TEXT), resolveAnchor(doc, record.anchor)!.start, record.baseText, hunks);
    });
    return anchored;
  }

  /** A fresh target over the current text of a stale suggestion's range (R14); null when the range is gone. */
  async retarget(record: SuggestionRecord): Promise<Target | null> {
    let target = null as Target | null;
    await this.#options.documents.readDocument(fileDocName(record.projectId, record.fileId), (doc) => {
      const next = reanchor(doc, record.anchor);
      target = next ? targetAround(doc.getText(FILE_TEXT).toString(), next.anchor, doc) : null;
    });
    return target;
  }

  async filePath(projectId: string, fileId: string): Promise<string> {
    let entry = undefined as TreeEntry | undefined;
    await this.#options.documents.readDocument(treeDocName(projectId), (doc) => {
      entry = doc.getMap<TreeEntry>(TREE_MAP).get(fileId);
    });
    if (!entry || entry.kind !== 'file' || typeof entry.path !== 'string') throw new AppError('NOT_FOUND', 'That file is not in this project.');
    return entry.path;
  }

  #schedule(documentName: string, document: Y.Doc): void {
    if (!this.#options.open.hasDocument(documentName) || this.#closed) return;
    this.#dirty.set(documentName, document);
    this.#scheduled ??= setImmediate(() => this.#runChecks());
  }

  /** Once per batch of changes: a cheap synchronous check of every open suggestion of each changed document. */
  #runChecks(): void {
    this.#scheduled = null;
    const dirty = this.#dirty;
    this.#dirty = new Map();
    for (const [documentName, doc] of dirty) {
      for (const record of this.#options.open.inDocument(documentName)) {
        const verdict = this.#verdict(record, doc);
        if (verdict.range !== 'intact' || verdict.staleHunks.length > 0) this.#options.onLost(record);
      }
    }
  }

  #verdict(record: SuggestionRecord, doc: Y.Doc): AnchorVerdict {
    try {
      const { status, hunks } = record.state;
      if (status === 'requested' || status === 'streaming') return { range: checkAnchor(doc, record.anchor, record.baseText), staleHunks: [] };
      if (status !== 'ready' && status !== 'stale') return INTACT;
      if (resolveAnchor(doc, record.anchor) === null) return { range: 'conflict', staleHunks: [] };
      if (status === 'stale') return INTACT;
      const staleHunks = record.anchored.flatMap((a, i) => (hunks[i]?.decision === 'pending' && !hunks[i].stale && hunkStatus(doc, a) !== 'intact' ? [i] : []));
      return { range: 'intact', staleHunks };
    } catch (error) {
      this.#options.logError(`[suggestions] anchor of ${record.id} is unreadable`, error);
      return { range: 'conflict', staleHunks: [] };
    }
  }
}

function targetAround(text: string, anchor: Anchor, doc: Y.Doc): Target {
  const range = resolveAnchor(doc, anchor) ?? { start: 0, end: 0 };
  return {
    anchor,
    baseText: text.slice(range.start, range.end),
    before: text.slice(0, range.start),
    after: text.slice(range.end),
    startLine: lineAt(text, range.start),
    endLine: lineAt(text, Math.max(range.start, range.end - 1)),
  };
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
