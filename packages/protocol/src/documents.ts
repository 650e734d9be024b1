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

export interface TreeEntry {
  path: string;
  kind: 'file' | 'folder';
}

/** Largest text file accepted into a project (bytes). Larger or binary files are refused. */
export const MAX_FILE_BYTES = 1024 * 1024;
