import { isBinaryEntry, type TreeEntry } from './documents.ts';
import { normalizeProjectPath } from './paths.ts';

/**
 * A project tree as the server reads it (runs, zip download, uploads): entries come from many
 * clients and concurrent edits can leave two entries on one path, or a file where another entry
 * needs a folder (`lib` and `lib/a.js`). Resolved deterministically, whatever the map's order:
 * malformed entries are dropped; entries are taken in file id order; binary files count as files; a duplicate folder is dropped
 * (it means the same thing); files keep their own path when it is free; a file whose path is
 * taken, or is needed as a folder, then gets the first free name `name (2).ext`, `name (3).ext`, …
 * So every reader sees unique paths that form a tree.
 */
export function resolveTreeEntries(raw: Iterable<[string, unknown]>): Map<string, TreeEntry> {
  const valid: [string, TreeEntry][] = [];
  for (const [id, value] of raw) {
    if (!value || typeof value !== 'object') continue;
    const { path, kind } = value as Partial<TreeEntry>;
    const normalized = typeof path === 'string' ? normalizeProjectPath(path) : null;
    if (!normalized) continue;
    if (kind === 'file' || kind === 'folder') valid.push([id, { path: normalized, kind }]);
    else if (isBinaryEntry(value)) valid.push([id, { path: normalized, kind: 'binary', sha256: value.sha256, size: value.size }]);
  }
  valid.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Every path some entry needs to be a folder.
  const folders = new Set<string>();
  for (const [, entry] of valid) {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
    if (entry.kind === 'folder') folders.add(entry.path);
  }
  const out = new Map<string, TreeEntry>();
  const taken = new Set<string>();
  for (const [id, entry] of valid) {
    if (entry.kind !== 'folder' || taken.has(entry.path)) continue;
    taken.add(entry.path);
    out.set(id, entry);
  }
  // Ancestors of every file are in `folders`, so no file can sit where a folder is needed.
  const isFree = (path: string) => !taken.has(path) && !folders.has(path);
  // Every file whose own path is free keeps it first, so a renamed one never displaces another.
  const displaced: [string, TreeEntry][] = [];
  for (const [id, entry] of valid) {
    if (entry.kind === 'folder') continue;
    if (!isFree(entry.path)) {
      displaced.push([id, entry]);
      continue;
    }
    taken.add(entry.path);
    out.set(id, entry);
  }
  for (const [id, entry] of displaced) {
    let path = entry.path;
    for (let n = 2; !isFree(path); n++) path = numbered(entry.path, n);
    taken.add(path);
    out.set(id, { ...entry, path });
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `src/a.test.js`, 2 → `src/a.test (2).js`; `Makefile`, 2 → `Makefile (2)`. */
function numbered(path: string, n: number): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${dir}${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${dir}${name} (${n})`;
}
