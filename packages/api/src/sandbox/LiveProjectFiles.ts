import { randomUUID } from 'node:crypto';
import type * as Y from 'yjs';
import {
  AppError, FILE_TEXT, TREE_MAP, fileDocName, normalizeProjectPath, parseDocName, resolveTreeEntries, treeDocName, type TreeEntry,
} from '@tandem/protocol';
import type { SyncExtension, SyncUser } from '@tandem/collab';

/** The live documents (the SyncServer; structural so tests and the app pass it). */
export interface ProjectDocuments {
  editDocument(documentName: string, edit: (doc: Y.Doc) => void, options?: { user?: SyncUser; origin?: object }): Promise<void>;
  readDocument<T>(documentName: string, read: (doc: Y.Doc) => T): Promise<T>;
  /** Restarts a loaded document's idle time (its text is served from here, not read from it). */
  touch(documentName: string): void;
}

/** A text file: its path and current text (binary files are not read here; see ProjectBlobs). */
export interface TextFile {
  path: string;
  content: string;
}

/** A project's tree as everyone sees it. Shared between callers: never change it. */
export interface ProjectTree {
  /** Document id → entry, paths unique (duplicates left by concurrent edits resolved). */
  readonly entries: ReadonlyMap<string, TreeEntry>;
  /** Path → document id of every file, sorted by path. */
  readonly files: ReadonlyMap<string, string>;
}

/** Documents read or written at the same time (bounds memory and database load). */
const PARALLEL_DOCUMENTS = 8;
/**
 * A document served from here is touched every 5–10 s (at random, well within the SyncServer's
 * idle time): files read together (a search over a project) are not all touched by one later read,
 * which would reset a thousand idle timers at once inside it.
 */
const TOUCH_EVERY_MS = 5000;
const nextTouchAt = (now: number): number => now + TOUCH_EVERY_MS * (1 + Math.random());

/**
 * A project's files as they are right now in its Yjs documents (what every participant sees,
 * including edits not yet compacted into the store), and a per-project change counter so the
 * sandbox re-copies files only when something changed.
 *
 * Decoded trees and texts are kept while their document is in memory and unchanged: registered
 * as a sync extension, this watches every document from its load and drops its decoded value at
 * its next transaction (a client's, the server's, or one relayed from another node) and when it
 * leaves memory. So the agent's and search's reads decode a document once per change, not once
 * per call, and never see anything older than the live document. Serving a document touches it
 * (at most every few seconds), so a document in use stays in memory as it did when every read
 * went through the SyncServer.
 */
export class LiveProjectFiles {
  private readonly versions = new Map<string, number>();
  private readonly listeners = new Set<(projectId: string) => void>();
  private readonly decoded = new Map<string, { doc: Y.Doc; value: ProjectTree | string; touchAt: number }>();
  private readonly watched = new WeakSet<Y.Doc>();

  /** Register with the SyncServer: counts every durable change per project, keeps the decoded values current. */
  readonly syncExtension: SyncExtension = {
    onLoadDocument: ({ documentName, document }) => this.watch(documentName, document),
    onChange: ({ documentName }) => {
      const ref = parseDocName(documentName);
      if (ref) this.bump(ref.projectId);
    },
  };

  constructor(private readonly documents: ProjectDocuments) {}

  /** Changes so far to the project's documents (0 until the first change this process saw). */
  version(projectId: string): number {
    return this.versions.get(projectId) ?? 0;
  }

  forget(projectId: string): void {
    this.versions.delete(projectId);
  }

  /** Another server node changed the project's documents (they may not be loaded here). */
  changedElsewhere(projectId: string): void {
    this.bump(projectId);
  }

  /** Calls `listener` after every change to a project's documents (here or, as notified, elsewhere). */
  onChanged(listener: (projectId: string) => void): void {
    this.listeners.add(listener);
  }

  private bump(projectId: string): void {
    this.versions.set(projectId, this.version(projectId) + 1);
    for (const listener of this.listeners) listener(projectId);
  }

  /** Every file's current text. */
  async read(projectId: string): Promise<TextFile[]> {
    return (await this.readWithIds(projectId)).map(({ path, content }) => ({ path, content }));
  }

  /** Every file's current text and document id, sorted by path. */
  async readWithIds(projectId: string): Promise<(TextFile & { fileId: string })[]> {
    const files = [...(await this.tree(projectId)).files];
    const texts = await this.texts(projectId, files.map(([, fileId]) => fileId));
    return files.map(([path, fileId]) => ({ fileId, path, content: texts.get(fileId)! }));
  }

  /** The project tree (decoded once per change of the tree document). */
  tree(projectId: string): Promise<ProjectTree> {
    return this.decode(treeDocName(projectId), (doc) => {
      const entries = resolveTreeEntries(doc.getMap<TreeEntry>(TREE_MAP).entries());
      const files = [...entries].filter(([, e]) => e.kind === 'file').map(([id, e]) => [e.path, id] as const);
      files.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      return { entries, files: new Map(files) };
    });
  }

  /** One file's current text (decoded once per change of its document). */
  text(projectId: string, fileId: string): Promise<string> {
    return this.decode(fileDocName(projectId, fileId), (doc) => doc.getText(FILE_TEXT).toString());
  }

  /**
   * These files' texts, read PARALLEL_DOCUMENTS at a time (documents not in memory load several
   * times faster than one after the other).
   */
  async texts(projectId: string, fileIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < fileIds.length; i += PARALLEL_DOCUMENTS) {
      await Promise.all(fileIds.slice(i, i + PARALLEL_DOCUMENTS).map(async (id) => out.set(id, await this.text(projectId, id))));
    }
    return out;
  }

  /** The file's text when it is decoded and current, without waiting (loops over many files); else undefined. */
  textNow(projectId: string, fileId: string): string | undefined {
    const name = fileDocName(projectId, fileId);
    const kept = this.decoded.get(name);
    if (typeof kept?.value !== 'string') return undefined;
    this.touch(name, kept);
    return kept.value;
  }

  /** The document id of the file at `path`, or null. */
  async fileIdOf(projectId: string, path: string): Promise<string | null> {
    return (await this.tree(projectId)).files.get(path) ?? null;
  }

  /** Paths of every file and folder in the project tree. */
  async paths(projectId: string): Promise<Set<string>> {
    return new Set([...(await this.tree(projectId)).entries.values()].map((e) => e.path));
  }

  /**
   * Adds a new file for everyone: its content first, then its tree entry, so nobody opens it
   * before its text is there. Never replaces anything: CONFLICT if the path is taken.
   */
  async create(projectId: string, path: string, content: string, user: SyncUser): Promise<{ fileId: string; path: string }> {
    const normalized = normalizeProjectPath(path);
    if (!normalized) throw new AppError('BAD_INPUT', 'Not a valid file path.');
    const problem = pathConflict(normalized, (await this.tree(projectId)).entries);
    if (problem) throw new AppError('CONFLICT', problem);
    const fileId = randomUUID();
    await this.documents.editDocument(fileDocName(projectId, fileId), (doc) => {
      doc.getText(FILE_TEXT).insert(0, content);
    }, { user });
    let conflict: string | null = null;
    await this.documents.editDocument(treeDocName(projectId), (doc) => {
      const tree = doc.getMap<TreeEntry>(TREE_MAP);
      // Checked again inside the tree transaction: someone may have created the path meanwhile.
      conflict = pathConflict(normalized, entriesOf(tree));
      if (!conflict) tree.set(fileId, { path: normalized, kind: 'file' });
    }, { user });
    if (conflict) throw new AppError('CONFLICT', conflict);
    return { fileId, path: normalized };
  }

  private watch(documentName: string, doc: Y.Doc): void {
    if (!parseDocName(documentName)) return;
    this.watched.add(doc);
    doc.on('afterTransaction', () => this.decoded.delete(documentName));
    doc.on('destroy', () => {
      if (this.decoded.get(documentName)?.doc === doc) this.decoded.delete(documentName);
    });
  }

  /** `decode(doc)`, or its value from before if the document has not changed since (only watched documents are kept). */
  private async decode<T extends ProjectTree | string>(documentName: string, decode: (doc: Y.Doc) => T): Promise<T> {
    const kept = this.decoded.get(documentName);
    if (kept) {
      this.touch(documentName, kept);
      return kept.value as T;
    }
    return this.documents.readDocument(documentName, (doc) => {
      const value = decode(doc);
      if (this.watched.has(doc)) this.decoded.set(documentName, { doc, value, touchAt: nextTouchAt(performance.now()) });
      return value;
    });
  }

  private touch(documentName: string, kept: { touchAt: number }): void {
    const now = performance.now();
    if (now < kept.touchAt) return;
    kept.touchAt = nextTouchAt(now);
    this.documents.touch(documentName);
  }
}

/** Unique paths: duplicates left by concurrent edits are resolved (resolveTreeEntries), so runs never fail on them. */
function entriesOf(tree: Y.Map<TreeEntry>): ReadonlyMap<string, TreeEntry> {
  return resolveTreeEntries(tree.entries());
}

/** Why `path` cannot become a new file, or null. */
function pathConflict(path: string, entries: ReadonlyMap<string, TreeEntry>): string | null {
  const byPath = new Map([...entries.values()].map((e) => [e.path, e.kind]));
  if (byPath.has(path)) return `“${path}” already exists in the project.`;
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const kind = byPath.get(prefix);
    if (kind && kind !== 'folder') return `“${prefix}” is a file, not a folder.`;
  }
  for (const other of byPath.keys()) if (other.startsWith(path + '/')) return `A folder “${path}” already exists.`;
  return null;
}
