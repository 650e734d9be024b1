/**
 * Document naming. Each project has one file-tree document and one document per file:
 *   <projectId>/tree         Y.Map "files": fileId -> { path, kind }
 *   <projectId>/file/<fileId> Y.Text "content"
 * The sync endpoint is `/sync/<documentName>`.
 */
export const SYNC_PATH_PREFIX = '/sync/';

export type DocumentRef =
  | { kind: 'tree'; projectId: string }
  | { kind: 'file'; projectId: string; fileId: string };

const ID = '[A-Za-z0-9_-]{1,64}';
const TREE_RE = new RegExp(`^(${ID})/tree$`);
const FILE_RE = new RegExp(`^(${ID})/file/(${ID})$`);

export function treeDocName(projectId: string): string {
  return `${projectId}/tree`;
}

export function fileDocName(projectId: string, fileId: string): string {
  return `${projectId}/file/${fileId}`;
}

export function parseDocName(name: string): DocumentRef | null {
  const t = TREE_RE.exec(name);
  if (t) return { kind: 'tree', projectId: t[1]! };
  const f = FILE_RE.exec(name);
  if (f) return { kind: 'file', projectId: f[1]!, fileId: f[2]! };
  return null;
}

/** Name of the Y.Map in the tree document and of the Y.Text in a file document. */
export const TREE_MAP = 'files';
export const FILE_TEXT = 'content';

/**
 * A tree entry. `binary` files (images, fonts, archives…) have no Yjs document: their bytes are a
 * blob stored per project under their SHA-256 (`sha256`, lower-case hex; `size` in bytes). A new
 * upload at the same path replaces the entry whole, so renames, undo and restores carry the bytes.
 */
export interface TreeEntry {
  path: string;
  kind: 'file' | 'folder' | 'binary';
  sha256?: string;
  size?: number;
}

/** Default largest binary file (bytes); the server's TANDEM_MAX_BINARY_FILE_BYTES overrides it. */
export const MAX_BINARY_FILE_BYTES = 10 * 1024 * 1024;

const SHA256_RE = /^[0-9a-f]{64}$/;

/** A well-formed binary entry (`kind` binary, a SHA-256 and a size). */
export function isBinaryEntry(entry: Partial<TreeEntry> | undefined | null): entry is TreeEntry & { kind: 'binary'; sha256: string; size: number } {
  return !!entry && entry.kind === 'binary' && typeof entry.sha256 === 'string' && SHA256_RE.test(entry.sha256)
    && typeof entry.size === 'number' && Number.isSafeInteger(entry.size) && entry.size >= 0;
}

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml',
  avif: 'image/avif', ico: 'image/x-icon', bmp: 'image/bmp',
};
const OTHER_TYPES: Record<string, string> = {
  pdf: 'application/pdf', woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf',
  zip: 'application/zip', wasm: 'application/wasm', mp3: 'audio/mpeg', mp4: 'video/mp4', wav: 'audio/wav',
};

/** Content-Type for a binary file's path (by extension); application/octet-stream when unknown. */
export function contentTypeForPath(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return IMAGE_TYPES[ext] ?? OTHER_TYPES[ext] ?? 'application/octet-stream';
}

/** Files the IDE previews as an image. */
export function isImagePath(path: string): boolean {
  return contentTypeForPath(path).startsWith('image/');
}

/** Largest text file accepted into a project (bytes). Larger or binary files are refused. */
export const MAX_FILE_BYTES = 1024 * 1024;
