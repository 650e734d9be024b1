import { createHash, randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { AppError, FILE_TEXT, fileDocName } from '@tandem/protocol';
import type { SyncUser } from '@tandem/collab';
import type { LiveProjectFiles, ProjectDocuments } from '../sandbox/LiveProjectFiles.ts';
import type { SearchLimits, SearchOutcome, SearchQuery } from './findMatches.ts';
import type { SearchWorkers } from './SearchWorkers.ts';

export const SEARCH_LIMITS: SearchLimits = { maxMatches: 2000, maxMatchesPerFile: 500, previewChars: 160 };
/** Replace-all changes at most this many places at once (a bigger one is refused, not cut short). */
const MAX_REPLACEMENTS = 10_000;
const SOURCE_FILE = /\.(?:[cm]?[jt]sx?|json)$/;
const MAX_SOURCE_FILES = 1000;
const MAX_SOURCE_CHARS = 8 * 1024 * 1024;
/** Undo records kept per project (the newest). */
const UNDO_RECORDS = 20;

/** Transaction origin of a project-wide replace: attributable, like an AI edit's. */
export class ProjectReplaceOrigin {
  constructor(readonly replaceId: string, readonly userId: string) {}
}

/** One place a replace changed: where the new text is now (relative positions) and what it replaced. */
interface ReplacedRange { start: Uint8Array; end: Uint8Array; before: string; after: string }
interface ReplaceRecord { id: string; projectId: string; files: Map<string, ReplacedRange[]> }

export interface ReplaceResult {
  replaceId: string;
  replaced: number;
  files: number;
  /** Files skipped because someone changed them while the replace ran. */
  skipped: string[];
}

/**
 * Search and replace across a project's live documents (what participants see, unsaved typing
 * included). Matching runs in workers with a deadline (SearchWorkers); edits are applied on the
 * server as one transaction per file, which every participant receives live. Replace all is one
 * undoable change: undo puts back the replaced text wherever the replacement is still intact
 * (anchored by relative positions, so edits others made since are kept).
 * Undo records live in memory on the project's home node (the router declares it).
 */
export class ProjectSearch {
  readonly #undo = new Map<string, ReplaceRecord[]>();

  constructor(private readonly deps: { files: LiveProjectFiles; documents: ProjectDocuments; workers: SearchWorkers }) {}

  async search(projectId: string, query: SearchQuery, user: SyncUser): Promise<SearchOutcome> {
    const files = await this.deps.files.readWithIds(projectId);
    return this.deps.workers.run(user.id, files.map((f) => ({ path: f.path, content: f.content, key: f.fileId })), query, SEARCH_LIMITS, null);
  }

  /**
   * The project's JavaScript/TypeScript sources and JSON files (for the editor's code intelligence,
   * which needs every file a module may import), within limits; `truncated` says some were left out.
   */
  async sources(projectId: string): Promise<{ files: { path: string; content: string }[]; truncated: boolean }> {
    const files: { path: string; content: string }[] = [];
    let bytes = 0;
    let truncated = false;
    for (const f of await this.deps.files.read(projectId)) {
      if (!SOURCE_FILE.test(f.path) || /(^|\/)node_modules\//.test(f.path)) continue;
      if (files.length >= MAX_SOURCE_FILES || bytes + f.content.length > MAX_SOURCE_CHARS) {
        truncated = true;
        continue;
      }
      bytes += f.content.length;
      files.push(f);
    }
    return { files, truncated };
  }

  /**
   * Edits made by the editor's code intelligence to a file nobody had open in that tab (e.g. a
   * rename across files): applied only if the file is still exactly what the editor changed
   * (`baseSha256`), as one transaction everyone sees; otherwise CONFLICT, and nothing changes.
   */
  async applyEdits(projectId: string, path: string, baseSha256: string, edits: { offset: number; length: number; text: string }[], user: SyncUser): Promise<void> {
    const fileId = await this.deps.files.fileIdOf(projectId, path);
    if (!fileId) throw new AppError('NOT_FOUND', `“${path}” is not in the project.`);
    let outcome = 'ok' as 'ok' | 'changed' | 'bad';
    await this.deps.documents.editDocument(fileDocName(projectId, fileId), (doc) => {
      const text = doc.getText(FILE_TEXT);
      const current = text.toString();
      if (createHash('sha256').update(current).digest('hex') !== baseSha256) return void (outcome = 'changed');
      const sorted = [...edits].sort((a, b) => b.offset - a.offset);
      let limit = current.length;
      for (const e of sorted) {
        if (e.offset < 0 || e.offset + e.length > limit) return void (outcome = 'bad');
        limit = e.offset;
      }
      for (const e of sorted) {
        if (e.length > 0) text.delete(e.offset, e.length);
        if (e.text) text.insert(e.offset, e.text);
      }
    }, { user, origin: new ProjectReplaceOrigin(randomUUID(), user.id) });
    if (outcome === 'changed') throw new AppError('CONFLICT', `“${path}” changed meanwhile: nothing was applied to it. Try again.`);
    if (outcome === 'bad') throw new AppError('BAD_INPUT', 'The edits overlap or fall outside the file.');
  }

  /**
   * Replaces every match (or, with `only`, the one match starting at that offset in that file).
   * Matches are found again on the current text, so the result is what a search now would show.
   */
  async replace(projectId: string, query: SearchQuery, replacement: string, user: SyncUser, only?: { path: string; start: number }): Promise<ReplaceResult> {
    const all = await this.deps.files.readWithIds(projectId);
    const files = only ? all.filter((f) => f.path === only.path) : all;
    const found = await this.deps.workers.run(user.id, files, query, { ...SEARCH_LIMITS, maxMatches: MAX_REPLACEMENTS + 1, maxMatchesPerFile: MAX_REPLACEMENTS + 1 }, replacement);
    if (found.invalid) throw new AppError('BAD_INPUT', `Not a valid search: ${found.invalid}`);
    if (found.matchCount > MAX_REPLACEMENTS) throw new AppError('TOO_LARGE', `More than ${MAX_REPLACEMENTS.toLocaleString('en')} matches: narrow the search before replacing all.`);
    const record: ReplaceRecord = { id: randomUUID(), projectId, files: new Map() };
    const origin = new ProjectReplaceOrigin(record.id, user.id);
    const result: ReplaceResult = { replaceId: record.id, replaced: 0, files: 0, skipped: [] };
    for (const hit of found.files) {
      const file = files.find((f) => f.path === hit.path)!;
      const matches = only ? hit.matches.filter((m) => m.start === only.start) : hit.matches;
      if (matches.length === 0) continue;
      let applied = false;
      const ranges: ReplacedRange[] = [];
      await this.deps.documents.editDocument(fileDocName(projectId, file.fileId), (doc) => {
        const text = doc.getText(FILE_TEXT);
        if (text.toString() !== file.content) return; // changed since it was read: skip, say so
        applied = true;
        // Back to front, so earlier offsets stay valid.
        for (const m of [...matches].reverse()) {
          text.delete(m.start, m.end - m.start);
          text.insert(m.start, m.replacement ?? '');
        }
        let shift = 0;
        for (const m of matches) {
          const after = m.replacement ?? '';
          const at = m.start + shift;
          ranges.push({
            start: Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, at, 0)),
            end: Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, at + after.length, -1)),
            before: file.content.slice(m.start, m.end),
            after,
          });
          shift += after.length - (m.end - m.start);
        }
      }, { user, origin });
      if (!applied) {
        result.skipped.push(file.path);
        continue;
      }
      record.files.set(file.fileId, ranges);
      result.replaced += ranges.length;
      result.files++;
    }
    if (result.replaced > 0) {
      const list = this.#undo.get(projectId) ?? [];
      list.push(record);
      if (list.length > UNDO_RECORDS) list.shift();
      this.#undo.set(projectId, list);
    }
    return result;
  }

  /** Undoes a replace: each replaced place whose new text is still there gets its old text back. */
  async undo(projectId: string, replaceId: string, user: SyncUser): Promise<{ restored: number; changedSince: number }> {
    const list = this.#undo.get(projectId) ?? [];
    const record = list.find((r) => r.id === replaceId);
    if (!record) throw new AppError('NOT_FOUND', 'That replace can no longer be undone (too old, already undone, or the server restarted).');
    list.splice(list.indexOf(record), 1);
    const origin = new ProjectReplaceOrigin(record.id, user.id);
    let restored = 0;
    let changedSince = 0;
    for (const [fileId, ranges] of record.files) {
      await this.deps.documents.editDocument(fileDocName(projectId, fileId), (doc) => {
        const text = doc.getText(FILE_TEXT);
        const current = text.toString();
        const places = ranges.map((r) => ({ r, start: absolute(doc, r.start), end: absolute(doc, r.end) }));
        for (const p of places.sort((a, b) => (b.start ?? -1) - (a.start ?? -1))) {
          if (p.start === null || p.end === null || current.slice(p.start, p.end) !== p.r.after) {
            changedSince++;
            continue;
          }
          text.delete(p.start, p.end - p.start);
          text.insert(p.start, p.r.before);
          restored++;
        }
      }, { user, origin });
    }
    return { restored, changedSince };
  }

  forget(projectId: string): void {
    this.#undo.delete(projectId);
  }
}

function absolute(doc: Y.Doc, encoded: Uint8Array): number | null {
  return Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(encoded), doc)?.index ?? null;
}
