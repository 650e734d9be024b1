import { normalizeProjectPath, type TreeEntry } from '@tandem/protocol';

/** The limits `normalizeProjectPath` enforces, named for the messages. */
const MAX_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 512;

/**
 * The project's file tree as the UI shows it, and the edits behind create/rename/move/delete.
 * The tree document stores a flat map fileId → { path, kind }. Folders exist explicitly (an entry
 * of kind 'folder', e.g. an empty folder) or implicitly (a prefix of some file's path), so
 * templates and uploads need not create folder entries. Edits are planned here, as plain data,
 * and applied in one Yjs transaction so every participant sees them at once.
 */
export type TreeEntries = ReadonlyMap<string, TreeEntry>;

export interface TreeNode {
  name: string;
  path: string;
  kind: 'file' | 'folder';
  /** A binary file (image, font…): previewed or downloaded, not edited. */
  binary?: boolean;
  /** The entry's id: always set for files, only for explicit folders. */
  id: string | null;
  children: TreeNode[];
}

/** Entries to set (whole, so concurrent renames resolve last-writer-wins) and ids to remove. */
export interface TreeEdit {
  set: [string, TreeEntry][];
  remove: string[];
}

export type TreePlan = { ok: true; edit: TreeEdit } | { ok: false; error: string };

export function buildFileTree(entries: TreeEntries): TreeNode[] {
  const root: TreeNode = { name: '', path: '', kind: 'folder', id: null, children: [] };
  const folders = new Map<string, TreeNode>([['', root]]);
  const folderAt = (path: string): TreeNode => {
    const existing = folders.get(path);
    if (existing) return existing;
    const slash = path.lastIndexOf('/');
    const parent = folderAt(slash < 0 ? '' : path.slice(0, slash));
    const node: TreeNode = { name: path.slice(slash + 1), path, kind: 'folder', id: null, children: [] };
    parent.children.push(node);
    folders.set(path, node);
    return node;
  };
  const sorted = [...entries].sort(([, a], [, b]) => a.path.localeCompare(b.path));
  for (const [id, entry] of sorted) {
    if (entry.kind === 'folder') {
      folderAt(entry.path).id = id;
      continue;
    }
    const slash = entry.path.lastIndexOf('/');
    const parent = folderAt(slash < 0 ? '' : entry.path.slice(0, slash));
    parent.children.push({ name: entry.path.slice(slash + 1), path: entry.path, kind: 'file', ...(entry.kind === 'binary' ? { binary: true } : {}), id, children: [] });
  }
  sortChildren(root);
  return root.children;
}

function sortChildren(node: TreeNode): void {
  node.children.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1));
  for (const child of node.children) sortChildren(child);
}

/** What occupies `path`: a file (text or binary), a folder (explicit or implied by a file inside it), or nothing. */
export function kindAt(entries: TreeEntries, path: string): 'file' | 'folder' | null {
  for (const entry of entries.values()) {
    if (entry.path === path) return entry.kind === 'folder' ? 'folder' : 'file';
    if (entry.path.startsWith(path + '/')) return 'folder';
  }
  return null;
}

export function fileIdAt(entries: TreeEntries, path: string): string | null {
  for (const [id, entry] of entries) if (entry.kind === 'file' && entry.path === path) return id;
  return null;
}

export function planCreate(entries: TreeEntries, rawPath: string, requestedKind: TreeEntry['kind'], newId: string): TreePlan {
  // "name/" asks for a folder, as in VS Code's new-file box.
  const kind = /[/\\]\s*$/.test(rawPath) ? 'folder' : requestedKind;
  const path = normalizeProjectPath(rawPath);
  if (!path) return invalidPath(rawPath);
  const problem = placementProblem(entries, path, new Set());
  if (problem) return { ok: false, error: problem };
  return { ok: true, edit: { set: [[newId, { path, kind }]], remove: [] } };
}

/** Renames or moves the file or folder at `from` to `rawTo` (a folder moves with everything in it). */
export function planRename(entries: TreeEntries, from: string, rawTo: string): TreePlan {
  const to = normalizeProjectPath(rawTo);
  if (!to) return invalidPath(rawTo);
  if (to === from) return { ok: true, edit: { set: [], remove: [] } };
  const kind = kindAt(entries, from);
  if (!kind) return { ok: false, error: `“${from}” no longer exists.` };
  if (kind === 'folder' && to.startsWith(from + '/')) return { ok: false, error: 'A folder cannot be moved into itself.' };
  const moving = idsUnder(entries, from);
  const problem = placementProblem(entries, to, moving);
  if (problem) return { ok: false, error: problem };
  const set: [string, TreeEntry][] = [];
  for (const id of moving) {
    const entry = entries.get(id)!;
    set.push([id, { ...entry, path: to + entry.path.slice(from.length) }]);
  }
  return { ok: true, edit: { set, remove: [] } };
}

/** Deletes a file, or a folder with every file and folder inside it. */
export function planDelete(entries: TreeEntries, path: string): TreePlan {
  const remove = [...idsUnder(entries, path)];
  if (remove.length === 0) return { ok: false, error: `“${path}” no longer exists.` };
  return { ok: true, edit: { set: [], remove } };
}

/** Ids of the entry at `path` and of every entry inside it. */
function idsUnder(entries: TreeEntries, path: string): Set<string> {
  const ids = new Set<string>();
  for (const [id, entry] of entries) if (entry.path === path || entry.path.startsWith(path + '/')) ids.add(id);
  return ids;
}

/** Why nothing new can be placed at `path` (ignoring the entries in `ignore`), or null. */
function placementProblem(entries: TreeEntries, path: string, ignore: Set<string>): string | null {
  const others = new Map([...entries].filter(([id]) => !ignore.has(id)));
  const existing = kindAt(others, path);
  if (existing) return `A ${existing} named “${path}” already exists.`;
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (kindAt(others, prefix) === 'file') return `“${prefix}” is a file, so it cannot contain other files.`;
  }
  return null;
}

function invalidPath(raw: string): TreePlan {
  const trimmed = raw.trim();
  const shown = trimmed.length > 60 ? `${trimmed.slice(0, 40)}…${trimmed.slice(-12)}` : trimmed;
  const parts = trimmed.replace(/\\/g, '/').replace(/^\/+|\/+$/g, '').split('/');
  let reason = 'use names separated by “/”, without “.” or “..” segments.';
  if (!trimmed) return { ok: false, error: 'Enter a name.' };
  if (/[\u0000-\u001f]/.test(trimmed)) reason = 'names cannot contain control characters.';
  else if (parts.some((p) => p.length > MAX_NAME_LENGTH)) reason = `a name can be at most ${MAX_NAME_LENGTH} characters long.`;
  else if (trimmed.length > MAX_PATH_LENGTH) reason = `a path can be at most ${MAX_PATH_LENGTH} characters long.`;
  return { ok: false, error: `“${shown}” is not a valid path: ${reason}` };
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
