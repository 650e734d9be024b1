import { randomUUID } from 'node:crypto';
import type * as Y from 'yjs';
import {
  AppError, FILE_TEXT, TREE_MAP, fileDocName, normalizeProjectPath, parseDocName, resolveTreeEntries, treeDocName, type TreeEntry,
} from '@tandem/protocol';
import type { SyncExtension, SyncUser } from '@tandem/collab';
import type { ProjectFile } from '@tandem/sandbox';

/** The live documents (the SyncServer; structural so tests and the app pass it). */
export interface ProjectDocuments {
  editDocument(documentName: string, edit: (doc: Y.Doc) => void, options?: { user?: SyncUser; origin?: object }): Promise<void>;
}

/** Documents read or written at the same time (bounds memory and database load). */
const PARALLEL_DOCUMENTS = 8;

/**
 * A project's files as they are right now in its Yjs documents (what every participant sees,
 * including edits not yet compacted into the store), and a per-project change counter so the
 * sandbox re-copies files only when something changed.
 */
export class LiveProjectFiles {
  private readonly versions = new Map<string, number>();
  private readonly listeners = new Set<(projectId: string) => void>();

  /** Register with the SyncServer: counts every durable change per project. */
  readonly syncExtension: SyncExtension = {
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
  async read(projectId: string): Promise<ProjectFile[]> {
    return (await this.readWithIds(projectId)).map(({ path, content }) => ({ path, content }));
  }

  /** Every file's current text and document id, sorted by path. */
  async readWithIds(projectId: string): Promise<(ProjectFile & { fileId: string })[]> {
    const entries = await this.tree(projectId);
    const files = [...entries].filter(([, e]) => e.kind === 'file');
    const out: (ProjectFile & { fileId: string })[] = [];
    for (let i = 0; i < files.length; i += PARALLEL_DOCUMENTS) {
      await Promise.all(files.slice(i, i + PARALLEL_DOCUMENTS).map(async ([fileId, entry]) => {
        let content = '';
        // A transaction that changes nothing produces no update: this only reads the live document.
        await this.documents.editDocument(fileDocName(projectId, fileId), (doc) => {
          content = doc.getText(FILE_TEXT).toString();
        });
        out.push({ fileId, path: entry.path, content });
      }));
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** The document id of the file at `path`, or null. */
  async fileIdOf(projectId: string, path: string): Promise<string | null> {
    for (const [id, e] of await this.tree(projectId)) if (e.kind === 'file' && e.path === path) return id;
    return null;
  }

  /** Paths of every file and folder in the project tree. */
  async paths(projectId: string): Promise<Set<string>> {
    return new Set([...(await this.tree(projectId)).values()].map((e) => e.path));
  }

  /**
   * Adds a new file for everyone: its content first, then its tree entry, so nobody opens it
   * before its text is there. Never replaces anything: CONFLICT if the path is taken.
   */
  async create(projectId: string, path: string, content: string, user: SyncUser): Promise<{ fileId: string; path: string }> {
    const normalized = normalizeProjectPath(path);
    if (!normalized) throw new AppError('BAD_INPUT', 'Not a valid file path.');
    const problem = pathConflict(normalized, await this.tree(projectId));
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

  private async tree(projectId: string): Promise<Map<string, TreeEntry>> {
    let entries = new Map<string, TreeEntry>();
    await this.documents.editDocument(treeDocName(projectId), (doc) => {
      entries = entriesOf(doc.getMap<TreeEntry>(TREE_MAP));
    });
    return entries;
  }
}

/** Unique paths: duplicates left by concurrent edits are resolved (resolveTreeEntries), so runs never fail on them. */
function entriesOf(tree: Y.Map<TreeEntry>): Map<string, TreeEntry> {
  return resolveTreeEntries(tree.entries());
}

/** Why `path` cannot become a new file, or null. */
function pathConflict(path: string, entries: Map<string, TreeEntry>): string | null {
  const byPath = new Map([...entries.values()].map((e) => [e.path, e.kind]));
  if (byPath.has(path)) return `“${path}” already exists in the project.`;
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (byPath.get(prefix) === 'file') return `“${prefix}” is a file, not a folder.`;
  }
  for (const other of byPath.keys()) if (other.startsWith(path + '/')) return `A folder “${path}” already exists.`;
  return null;
}
