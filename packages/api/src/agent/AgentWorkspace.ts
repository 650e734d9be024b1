import { randomUUID } from 'node:crypto';
import type * as Y from 'yjs';
import { AppError, MAX_FILE_BYTES, fileDocName, isBinaryEntry, normalizeProjectPath } from '@tandem/protocol';
import type { SyncUser } from '@tandem/collab';
import {
  anchorFileEdit, initialSuggestionState, overlayText, parseSuggestionState, reviewIndices, transition,
  type ChangesetHunk, type FileChange, type SuggestionState,
} from '@tandem/review';
import type { ProjectTree } from '../sandbox/LiveProjectFiles.ts';
import type { SearchOutcome } from '../search/findMatches.ts';
import type { KeyedSearchFile, SearchWorkers } from '../search/SearchWorkers.ts';
import { forbiddenPathMatcher } from './agentPolicy.ts';

/** The live documents (the SyncServer; structural so tests and the app pass it). */
export interface AgentDocuments {
  editDocument(documentName: string, edit: (doc: Y.Doc) => void, options?: { user?: SyncUser; origin?: object }): Promise<void>;
  readDocument<T>(documentName: string, read: (doc: Y.Doc) => T): Promise<T>;
}

/** The project's files as everyone sees them, decoded once per change (LiveProjectFiles). */
export interface AgentFiles {
  tree(projectId: string): Promise<ProjectTree>;
  text(projectId: string, fileId: string): Promise<string>;
  textNow(projectId: string, fileId: string): string | undefined;
  texts(projectId: string, fileIds: readonly string[]): Promise<Map<string, string>>;
}

/** A tool failure the model should read (not a crash): the message goes back as the tool result. */
export class ToolError extends Error {}

/** One file of the changeset, as the review machinery sees it plus where it lives. */
export interface ChangesetEntry extends FileChange {
  /** The live file's id (modify, delete, rename); null for a created file. */
  readonly fileId: string | null;
  review: SuggestionState;
}

const MAX_SEARCH_MATCHES = 100;
const MAX_LINE_CHARS = 300;
const MAX_LIST = 2000;
/** Projects up to this many files are made ready for the agent's first list and search when a run starts. */
const MAX_WARM_FILES = 2000;

/**
 * An agent run's private view of a project: the live documents (what everyone typed, run or
 * not) plus the run's own changeset, which is never written to the shared documents until
 * reviewers accept it. Reads resolve content hunks on the live text as it is NOW (see
 * `overlayText`); writes re-anchor the file's hunks on the current live text. Paths the policy
 * forbids are neither listed, searched, read nor written.
 */
export class AgentWorkspace {
  readonly #docs: AgentDocuments;
  readonly #live: AgentFiles;
  readonly #searches: SearchWorkers;
  /** This workspace's searches in SearchWorkers (a newer one supersedes an older one). */
  readonly #searchOwner = `agent:${randomUUID()}`;
  readonly projectId: string;
  readonly #forbidden: (path: string) => boolean;
  /** Keyed by the live path (or, for a created file, its path). */
  readonly entries = new Map<string, ChangesetEntry>();
  /** The live files the policy lets the agent see, for the tree they were taken from. */
  #visible: { tree: ProjectTree; files: Map<string, string> } | null = null;
  /** The sorted paths of the last file list listed (kept while the list is the same object). */
  #paths: { files: ReadonlyMap<string, string | null>; sorted: string[] } | null = null;

  constructor(
    deps: { docs: AgentDocuments; files: AgentFiles; searches: SearchWorkers },
    projectId: string, forbidden: readonly string[], entries: Iterable<ChangesetEntry> = [],
  ) {
    this.#docs = deps.docs;
    this.#live = deps.files;
    this.#searches = deps.searches;
    this.projectId = projectId;
    this.#forbidden = forbiddenPathMatcher(forbidden);
    for (const e of entries) this.entries.set(e.path, e);
  }

  // ── Paths ───────────────────────────────────────────────────────────────────────────────

  /** A path the model gave, normalized and checked against the policy. */
  checkPath(input: unknown): string {
    if (typeof input !== 'string') throw new ToolError('The path must be a string.');
    const path = normalizeProjectPath(input);
    if (!path) throw new ToolError(`"${input}" is not a valid path inside the project (relative, no "..").`);
    if (this.#forbidden(path)) throw new ToolError(`"${path}" is off limits to the AI by the project's policy.`);
    return path;
  }

  /** Every file the agent sees: path → live file id (null for created files), sorted by path. Do not change it. */
  async files(): Promise<ReadonlyMap<string, string | null>> {
    const tree = await this.#live.tree(this.projectId);
    if (this.#visible?.tree !== tree) {
      this.#visible = { tree, files: new Map([...tree.files].filter(([path]) => !this.#forbidden(path))) };
    }
    const live = this.#visible.files;
    // Content edits leave the list as it is (the live list itself, so callers may cache by identity).
    if (![...this.entries.values()].some((e) => e.kind !== 'modify')) return live;
    const out = new Map<string, string | null>(live);
    const added: Array<[string, string | null]> = [];
    for (const e of this.entries.values()) {
      if (e.kind !== 'delete' && e.kind !== 'rename') continue;
      out.delete(e.path);
      const id = live.get(e.path);
      if (e.kind === 'rename' && id !== undefined) added.push([e.newPath!, id]);
    }
    for (const e of this.entries.values()) if (e.kind === 'create') added.push([e.path, null]);
    if (added.length === 0) return out;
    for (const [path, id] of added) if (!this.#forbidden(path)) out.set(path, id);
    return new Map([...out].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }

  /** The changeset entry that owns the agent-visible `path`, and the live file id behind it. */
  #locate(path: string, files: ReadonlyMap<string, string | null>): { entry: ChangesetEntry | undefined; fileId: string | null } | null {
    if (!files.has(path)) return null;
    for (const e of this.entries.values()) {
      if (e.kind === 'create' && e.path === path) return { entry: e, fileId: null };
      if (e.kind === 'rename' && e.newPath === path) return { entry: e, fileId: e.fileId };
    }
    return { entry: this.entries.get(path), fileId: files.get(path) ?? null };
  }

  // ── Tools ───────────────────────────────────────────────────────────────────────────────

  /** Text files' paths under `prefix` (all without one; a range of the sorted paths, found by binary search), then binary files' as `path (binary file, N KiB)` (they cannot be read); at most MAX_LIST. */
  async list(prefix?: string): Promise<string[]> {
    const dir = prefix ? this.checkPath(prefix) + '/' : '';
    const files = await this.files();
    if (this.#paths?.files !== files) this.#paths = { files, sorted: [...files.keys()] };
    const sorted = this.#paths.sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < dir) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < sorted.length && out.length < MAX_LIST && sorted[i]!.startsWith(dir); i++) out.push(sorted[i]!);
    if (out.length >= MAX_LIST) return out;
    for (const e of (await this.#live.tree(this.projectId)).entries.values()) {
      if (out.length >= MAX_LIST) break;
      if (isBinaryEntry(e) && e.path.startsWith(dir) && !this.#forbidden(e.path)) out.push(`${e.path} (binary file, ${kib(e.size!)}: not readable)`);
    }
    return out;
  }

  async read(input: unknown): Promise<string> {
    const path = this.checkPath(input);
    return this.#readIn(path, await this.files());
  }

  /** One file's text, given the file list already read (search and snapshot read the tree once). */
  async #readIn(path: string, files: ReadonlyMap<string, string | null>): Promise<string> {
    const at = this.#locate(path, files);
    if (!at) {
      const binary = [...(await this.#live.tree(this.projectId)).entries.values()].find((e) => e.path === path && isBinaryEntry(e));
      if (binary) throw new ToolError(`"${path}" is a binary file (${kib(binary.size!)}): the AI tools read and edit text files only.`);
      throw new ToolError(`No file "${path}". Use list_files to see the project.`);
    }
    if (at.entry?.kind === 'create') return at.entry.content ?? '';
    if (!at.entry || at.entry.hunks.length === 0) return this.#live.text(this.projectId, at.fileId!);
    const hunks = at.entry.hunks;
    return this.#docs.readDocument(fileDocName(this.projectId, at.fileId!), (doc) => overlayText(doc, hunks).text);
  }

  /** Whole-file write of an existing or new file. */
  async write(input: unknown, content: unknown): Promise<{ path: string; created: boolean; hunks: number }> {
    const path = this.checkPath(input);
    const text = checkContent(content);
    const files = await this.files();
    const at = this.#locate(path, files);
    if (!at) {
      await this.create(path, text);
      return { path, created: true, hunks: 1 };
    }
    if (at.entry?.kind === 'create') {
      this.entries.set(at.entry.path, { ...at.entry, content: text });
      return { path, created: true, hunks: 1 };
    }
    const fileId = at.fileId!;
    const rename = at.entry?.kind === 'rename';
    const hunks: ChangesetHunk[] = await this.#docs.readDocument(fileDocName(this.projectId, fileId), (doc) => anchorFileEdit(doc, text, rename ? 1 : 0));
    const livePath = at.entry?.path ?? path;
    if (rename) {
      this.entries.set(livePath, { ...at.entry!, hunks });
    } else if (hunks.length === 0) {
      this.entries.delete(livePath);
    } else {
      this.entries.set(livePath, { kind: 'modify', path: livePath, newPath: null, content: null, fileId, hunks, review: initialSuggestionState() });
    }
    return { path, created: false, hunks: hunks.length };
  }

  /**
   * Exact search/replace blocks, applied in order to the agent's view of the file. Each search
   * text must occur exactly once (else the tool fails, naming the block, and nothing changes).
   */
  async edit(input: unknown, edits: unknown): Promise<{ path: string; hunks: number }> {
    const path = this.checkPath(input);
    if (!Array.isArray(edits) || edits.length === 0 || edits.length > 100) throw new ToolError('edits must be a list of 1 to 100 {search, replace} blocks.');
    let text = await this.read(path);
    edits.forEach((e: unknown, i) => {
      const { search, replace } = (e ?? {}) as { search?: unknown; replace?: unknown };
      if (typeof search !== 'string' || typeof replace !== 'string' || search.length === 0) {
        throw new ToolError(`Edit block ${i + 1}: search and replace must be strings, search not empty.`);
      }
      const first = text.indexOf(search);
      if (first === -1) throw new ToolError(`Edit block ${i + 1}: the search text was not found in ${path}. Read the file again and copy the lines exactly.`);
      if (text.indexOf(search, first + 1) !== -1) throw new ToolError(`Edit block ${i + 1}: the search text occurs more than once in ${path}; include more surrounding lines.`);
      text = text.slice(0, first) + replace + text.slice(first + search.length);
    });
    const result = await this.write(path, text);
    return { path, hunks: result.hunks };
  }

  async create(input: unknown, content: unknown): Promise<void> {
    const path = this.checkPath(input);
    const text = checkContent(content);
    const files = await this.files();
    if (files.has(path)) throw new ToolError(`"${path}" already exists; use write_file or edit_file.`);
    for (const p of files.keys()) {
      if (p.startsWith(path + '/')) throw new ToolError(`"${path}" is a folder.`);
      if (path.startsWith(p + '/')) throw new ToolError(`"${p}" is a file, not a folder.`);
    }
    this.entries.set(path, { kind: 'create', path, newPath: null, content: text, fileId: null, hunks: [], review: initialSuggestionState() });
  }

  async delete(input: unknown): Promise<void> {
    const path = this.checkPath(input);
    const at = this.#locate(path, await this.files());
    if (!at) throw new ToolError(`No file "${path}".`);
    if (at.entry?.kind === 'create') {
      this.entries.delete(at.entry.path);
      return;
    }
    const livePath = at.entry?.path ?? path;
    this.entries.set(livePath, { kind: 'delete', path: livePath, newPath: null, content: null, fileId: at.fileId, hunks: [], review: initialSuggestionState() });
  }

  async rename(fromInput: unknown, toInput: unknown): Promise<void> {
    const from = this.checkPath(fromInput);
    const to = this.checkPath(toInput);
    const files = await this.files();
    const at = this.#locate(from, files);
    if (!at) throw new ToolError(`No file "${from}".`);
    if (files.has(to)) throw new ToolError(`"${to}" already exists.`);
    if (at.entry?.kind === 'create') {
      this.entries.delete(at.entry.path);
      this.entries.set(to, { ...at.entry, path: to });
      return;
    }
    const livePath = at.entry?.path ?? from;
    const hunks = (at.entry?.hunks ?? []).map((h) => ({ ...h, index: at.entry?.kind === 'rename' ? h.index : h.index + 1 }));
    if (to === livePath) {
      // Renamed back: only the content edits remain.
      const content = hunks.map((h) => ({ ...h, index: h.index - 1 }));
      if (content.length === 0) this.entries.delete(livePath);
      else this.entries.set(livePath, { kind: 'modify', path: livePath, newPath: null, content: null, fileId: at.fileId, hunks: content, review: initialSuggestionState() });
      return;
    }
    this.entries.set(livePath, { kind: 'rename', path: livePath, newPath: to, content: null, fileId: at.fileId, hunks, review: initialSuggestionState() });
  }

  /**
   * Regex search over the agent's view: `path:line: text`, at most 100 lines. It runs in a search
   * worker with a deadline (SearchWorkers, as project search): unchanged live files go by their
   * document id (the worker keeps their texts), the run's changed files with their overlaid text.
   */
  async search(pattern: unknown, pathPrefix?: unknown): Promise<string[]> {
    if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 500) throw new ToolError('pattern must be a regular expression of 1 to 500 characters.');
    try {
      new RegExp(pattern);
    } catch (e) {
      throw new ToolError(`Invalid regular expression: ${e instanceof Error ? e.message : String(e)}`);
    }
    const prefix = pathPrefix === undefined || pathPrefix === null || pathPrefix === '' ? '' : this.checkPath(pathPrefix);
    const files = await this.files();
    const changed = new Set([...this.entries.values()].map((e) => e.newPath ?? e.path));
    const list: KeyedSearchFile[] = [];
    const notLoaded: KeyedSearchFile[] = [];
    for (const [path, id] of files) {
      if (prefix && path !== prefix && !path.startsWith(prefix + '/')) continue;
      if (id === null || changed.has(path)) {
        list.push({ path, content: await this.#readIn(path, files) });
        continue;
      }
      const text = this.#live.textNow(this.projectId, id);
      const file: KeyedSearchFile = { path, key: id, content: text ?? '' };
      if (text === undefined) notLoaded.push(file);
      list.push(file);
    }
    if (notLoaded.length > 0) {
      const texts = await this.#live.texts(this.projectId, notLoaded.map((f) => f.key!));
      for (const f of notLoaded) f.content = texts.get(f.key!)!;
    }
    let outcome: SearchOutcome;
    try {
      outcome = await this.#searches.run(this.#searchOwner, list, {
        pattern, regex: true, caseSensitive: true, wholeWord: false, include: '', exclude: '', unicode: false,
      }, { maxMatches: MAX_SEARCH_MATCHES, maxMatchesPerFile: MAX_SEARCH_MATCHES, previewChars: MAX_LINE_CHARS, onePerLine: true }, null);
    } catch (e) {
      throw new ToolError(e instanceof Error ? e.message : String(e));
    }
    if (outcome.invalid) throw new ToolError(`Invalid regular expression: ${outcome.invalid}`);
    return outcome.files.flatMap((f) => f.matches.map((m) => `${f.path}:${m.line}: ${m.preview}`));
  }

  /**
   * While the model works on its first turn: decodes the tree and the visible files' texts and
   * hands them to a search worker, so the run's first list and search find them ready.
   */
  async warm(): Promise<void> {
    const files = await this.files();
    if (files.size > MAX_WARM_FILES) return;
    const live = [...files].filter((e): e is [string, string] => e[1] !== null);
    const texts = await this.#live.texts(this.projectId, live.map(([, id]) => id));
    this.#searches.prime(live.map(([path, id]) => ({ path, key: id, content: texts.get(id)! })));
  }

  /** The documents plus the changeset, for a sandbox working copy (forbidden paths left out). */
  async snapshot(): Promise<Array<{ path: string; content: string }>> {
    const out: Array<{ path: string; content: string }> = [];
    const files = await this.files();
    for (const path of files.keys()) out.push({ path, content: await this.#readIn(path, files) });
    return out;
  }

  // ── Review bookkeeping ──────────────────────────────────────────────────────────────────

  /** Opens every file change for review (R4: one pending review per hunk). */
  openReview(): void {
    for (const [key, e] of this.entries) {
      if (e.review.status !== 'requested') continue;
      const result = transition(e.review, { type: 'complete', hunkCount: reviewIndices(e).length }, { policy: { kind: 'any_editor' } });
      if (result.ok) this.entries.set(key, { ...e, review: result.state });
    }
  }

  toJSON(): unknown[] {
    return [...this.entries.values()].map((e) => ({
      ...e,
      hunks: e.hunks.map((h) => ({ ...h, anchor: { start: b64(h.anchor.start), end: b64(h.anchor.end) } })),
    }));
  }

  static entriesFromJSON(value: unknown): ChangesetEntry[] {
    if (!Array.isArray(value)) return [];
    return value.map((raw) => {
      const e = raw as Omit<ChangesetEntry, 'hunks'> & { hunks?: Array<Omit<ChangesetHunk, 'anchor'> & { anchor: { start: string; end: string } }> };
      return {
        kind: e.kind, path: e.path, newPath: e.newPath ?? null, content: e.content ?? null, fileId: e.fileId ?? null,
        review: parseSuggestionState(e.review),
        hunks: (e.hunks ?? []).map((h) => ({ ...h, anchor: { start: unb64(h.anchor.start), end: unb64(h.anchor.end) } })),
      };
    });
  }
}

function checkContent(content: unknown): string {
  if (typeof content !== 'string') throw new ToolError('content must be a string.');
  if (Buffer.byteLength(content) > MAX_FILE_BYTES) throw new ToolError(`The file would be over ${MAX_FILE_BYTES / 1024 / 1024} MiB.`);
  return content;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (s: string): Uint8Array => {
  if (typeof s !== 'string') throw new AppError('BAD_INPUT', 'The changeset is unreadable.');
  return new Uint8Array(Buffer.from(s, 'base64'));
};

function kib(bytes: number): string {
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}
