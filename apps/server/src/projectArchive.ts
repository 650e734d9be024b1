import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Zip, ZipDeflate, ZipPassThrough, strToU8, unzipSync } from 'fflate';
import { hasScope, type AuthService } from '@tandem/auth';
import { textOf, treeOf, type SyncServer } from '@tandem/collab';
import type { PrismaClient } from '@tandem/db';
import { GIT_IMPORT_LIMITS, type GitImport, type ProjectBlobs } from '@tandem/api';
import {
  AppError, MAX_FILE_BYTES, fileDocName, isAppError, isBinaryEntry, looksBinary, normalizeProjectPath, resolveTreeEntries, roleAtLeast, treeDocName,
  type AppErrorCode, type Role, type TreeEntry,
} from '@tandem/protocol';

/**
 * Project zip download and file upload over plain HTTP (browsers download and upload files far
 * more easily than through tRPC):
 *   GET  /api/projects/<id>/archive.zip   viewer+: every file and explicit folder, as a zip
 *   POST /api/projects/<id>/git-import    owner: a git bundle, imported into the (empty) project
 *   POST /api/projects/<id>/upload[?dir=] editor+: a zip (`application/zip`) or
 *                                         `multipart/form-data` files (the filename is the path)
 * Content is read from and written through the SyncServer, so uploads appear live for everyone
 * and downloads include edits that are not yet compacted.
 */
export interface ProjectArchiveDeps {
  prisma: PrismaClient;
  auth: AuthService;
  sync: SyncServer;
  /** Binary files: stored as blobs (ProjectBlobs checks the role, sizes and caps again). */
  blobs: ProjectBlobs;
  /** Entries a project tree may hold (TANDEM_MAX_FILES_PER_PROJECT): an upload past it is refused. */
  maxFilesPerProject: number;
  /** Git bundle imports (absent: refused). */
  gitImport?: GitImport;
}

export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
export const MAX_UPLOAD_ENTRIES = 500;
/**
 * Text one upload may import in total (the sum of the uncompressed sizes a zip declares; zip
 * bombs are refused before inflating). Every imported byte is written to the store and to every
 * open client, so this bounds the work one request makes the server do.
 */
export const MAX_IMPORT_BYTES = 8 * 1024 * 1024;
/** What a zip may declare it holds, text and binary files together (zip bombs are refused before inflating). */
export const MAX_UNZIPPED_BYTES = 32 * 1024 * 1024;

const ROUTE = /^\/api\/projects\/([A-Za-z0-9_-]{1,64})\/(archive\.zip|upload|git-import)(?:\?.*)?$/;

const HTTP_STATUS: Record<AppErrorCode, number> = {
  UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_INPUT: 400, CONFLICT: 409, TOO_LARGE: 413,
  RATE_LIMITED: 429, UNAVAILABLE: 503, INTERNAL: 500,
};

export interface UploadResult {
  imported: { path: string; created: boolean }[];
  skipped: { path: string; reason: string }[];
}

export function isProjectArchivePath(url: string): boolean {
  return ROUTE.test(url);
}

/** Serves one archive request (the caller checked isProjectArchivePath). Never throws. */
export async function handleProjectArchiveRequest(deps: ProjectArchiveDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const [, projectId, action] = ROUTE.exec(req.url ?? '') ?? [];
    if (!projectId || !action) throw new AppError('NOT_FOUND', 'Not found.');
    if (action === 'archive.zip') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new AppError('BAD_INPUT', 'Use GET to download a project.');
      await downloadArchive(deps, req, res, projectId);
    } else {
      if (req.method !== 'POST') throw new AppError('BAD_INPUT', 'Use POST to upload files.');
      if (action === 'git-import') await importBundle(deps, req, res, projectId);
      else await uploadFiles(deps, req, res, projectId);
    }
  } catch (error) {
    sendError(res, error);
  }
}

async function downloadArchive(deps: ProjectArchiveDeps, req: IncomingMessage, res: ServerResponse, projectId: string): Promise<void> {
  const { project } = await authorize(deps, req, projectId, 'viewer');
  const entries = await readTreeEntries(deps.sync, projectId);
  res.writeHead(200, {
    'content-type': 'application/zip',
    'content-disposition': `attachment; filename="${archiveFileName(project.name)}"`,
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') return void res.end();
  await streamZip(deps, projectId, entries, res);
}

/**
 * Streams the zip while it is built, one file at a time: memory stays bounded by one file, the
 * event loop is yielded between files (other requests keep being served) and the response waits
 * for a slow reader (backpressure). A client that goes away stops the work.
 */
async function streamZip({ sync, blobs }: ProjectArchiveDeps, projectId: string, entries: Map<string, TreeEntry>, res: ServerResponse): Promise<void> {
  let failed: Error | null = null;
  const zip = new Zip((error, chunk, final) => {
    if (error) failed = error;
    else if (!res.destroyed) res.write(chunk);
    if (final || error) res.end();
  });
  for (const entry of entries.values()) {
    if (entry.kind !== 'folder') continue;
    const folder = new ZipPassThrough(entry.path + '/');
    zip.add(folder);
    folder.push(new Uint8Array(0), true);
  }
  for (const [fileId, entry] of entries) {
    if (entry.kind === 'folder') continue;
    if (res.destroyed || failed) return;
    let bytes: Uint8Array | null = null;
    if (isBinaryEntry(entry)) {
      bytes = await blobs.get(projectId, entry.sha256);
      if (!bytes) continue;
    } else {
      await sync.editDocument(fileDocName(projectId, fileId), (doc) => {
        bytes = strToU8(textOf(doc).toString());
      });
    }
    // Images and fonts are compressed already: stored as they are.
    const file = entry.kind === 'binary' ? new ZipPassThrough(entry.path) : new ZipDeflate(entry.path, { level: 6 });
    zip.add(file);
    file.push(bytes!, true);
    if (res.writableNeedDrain) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
  zip.end();
}

async function readTreeEntries(sync: SyncServer, projectId: string): Promise<Map<string, TreeEntry>> {
  let entries = new Map<string, TreeEntry>();
  // A transaction that changes nothing produces no update: this only reads the live document.
  // Duplicate paths (concurrent creations) are resolved to unique ones.
  await sync.editDocument(treeDocName(projectId), (doc) => {
    entries = resolveTreeEntries(treeOf(doc).entries());
  });
  return entries;
}

async function importBundle(deps: ProjectArchiveDeps, req: IncomingMessage, res: ServerResponse, projectId: string): Promise<void> {
  assertSameOrigin(req);
  await authorize(deps, req, projectId, 'owner');
  if (!deps.gitImport) throw new AppError('UNAVAILABLE', 'Git import is not available on this server.');
  const bundle = await readBody(req, GIT_IMPORT_LIMITS.bundleBytes);
  sendJson(res, 200, await deps.gitImport.importInto(projectId, { bundle }));
}

async function uploadFiles(deps: ProjectArchiveDeps, req: IncomingMessage, res: ServerResponse, projectId: string): Promise<void> {
  assertSameOrigin(req);
  const { user } = await authorize(deps, req, projectId, 'editor');
  const dirParam = new URL(req.url ?? '/', 'http://x').searchParams.get('dir') ?? '';
  const dir = dirParam.trim() === '' ? '' : normalizeProjectPath(dirParam);
  if (dir === null) throw new AppError('BAD_INPUT', `“${dirParam}” is not a valid folder path.`);
  const body = await readBody(req, MAX_UPLOAD_BYTES);
  const uploaded = await parseUpload(req.headers['content-type'] ?? '', body, Math.max(MAX_FILE_BYTES, deps.blobs.maxFileBytes));
  const result = await importFiles(deps, projectId, uploaded, dir, { id: user.id, name: user.name });
  sendJson(res, 200, result);
}

export interface UploadedFile {
  path: string;
  bytes: Uint8Array | null;
  /** Why the file was refused before its content was read (too large). */
  refused?: string;
}

/** The uploaded files; those over `maxFileBytes` (the larger of the text and binary limits) are refused unread. */
async function parseUpload(contentType: string, body: Buffer, maxFileBytes: number): Promise<UploadedFile[]> {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/zip' || type === 'application/x-zip-compressed') return unzipUpload(body, maxFileBytes);
  if (type === 'multipart/form-data') return multipartUpload(contentType, body, maxFileBytes);
  throw new AppError('BAD_INPUT', 'Upload a .zip file (application/zip) or files as multipart/form-data.');
}

function unzipUpload(body: Buffer, maxFileBytes: number): UploadedFile[] {
  const refused: UploadedFile[] = [];
  let entries = 0;
  let declared = 0;
  let unzipped: Record<string, Uint8Array>;
  try {
    unzipped = unzipSync(body, {
      filter: (file) => {
        if (file.name.endsWith('/') || isJunkEntry(file.name)) return false;
        if (++entries > MAX_UPLOAD_ENTRIES) throw new AppError('TOO_LARGE', `The zip has more than ${MAX_UPLOAD_ENTRIES} files.`);
        if (file.originalSize > maxFileBytes) {
          refused.push({ path: file.name, bytes: null, refused: tooLargeMessage(file.originalSize, maxFileBytes) });
          return false;
        }
        declared += file.originalSize;
        if (declared > MAX_UNZIPPED_BYTES) throw importTooLarge();
        return true;
      },
    });
  } catch (error) {
    if (isAppError(error)) throw error;
    throw new AppError('BAD_INPUT', 'This is not a valid zip file.', String(error));
  }
  return [...refused, ...Object.entries(unzipped).map(([path, bytes]) => ({ path, bytes }))];
}

/** macOS resource forks and Finder metadata that zip tools add. */
function isJunkEntry(name: string): boolean {
  return name.startsWith('__MACOSX/') || name.split('/').pop() === '.DS_Store';
}

async function multipartUpload(contentType: string, body: Buffer, maxFileBytes: number): Promise<UploadedFile[]> {
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    throw new AppError('BAD_INPUT', 'The upload could not be read.', String(error));
  }
  const files: UploadedFile[] = [];
  for (const value of form.values()) {
    if (typeof value === 'string') continue;
    if (files.length >= MAX_UPLOAD_ENTRIES) throw new AppError('TOO_LARGE', `Upload at most ${MAX_UPLOAD_ENTRIES} files at once.`);
    if (value.size > maxFileBytes) files.push({ path: value.name, bytes: null, refused: tooLargeMessage(value.size, maxFileBytes) });
    else files.push({ path: value.name, bytes: new Uint8Array(await value.arrayBuffer()) });
  }
  if (files.length === 0) throw new AppError('BAD_INPUT', 'The upload contains no files.');
  return files;
}

/**
 * Writes accepted files through the SyncServer: contents first, then all new tree entries in one
 * transaction, so nobody opens a new file before its text is there. Existing files at the same
 * path get their content replaced; each refused file gets a reason. Binary files (images, fonts…)
 * become binary entries through ProjectBlobs, one at a time.
 */
export async function importFiles(deps: Pick<ProjectArchiveDeps, 'sync' | 'blobs' | 'maxFilesPerProject'>, projectId: string, files: UploadedFile[], dir: string, user: { id: string; name: string }): Promise<UploadResult> {
  const { sync, maxFilesPerProject: maxFiles } = deps;
  const tree = await readTreeEntries(sync, projectId);
  const byPath = new Map([...tree].map(([id, e]) => [e.path, { id, kind: e.kind }]));
  const result: UploadResult = { imported: [], skipped: [] };
  const accepted: { fileId: string; path: string; text: string; created: boolean }[] = [];
  const binaries: { path: string; bytes: Uint8Array; created: boolean }[] = [];
  const claimed = new Set<string>();
  let textBytes = 0;
  for (const file of files) {
    const path = normalizeProjectPath(dir ? `${dir}/${file.path}` : file.path);
    const refusal = file.refused ?? refusalOf(file, path, byPath, claimed, deps.blobs.maxFileBytes);
    if (refusal || !path || !file.bytes) {
      result.skipped.push({ path: path ?? file.path, reason: refusal ?? 'Not a valid file path.' });
      continue;
    }
    claimed.add(path);
    const existing = byPath.get(path);
    if (looksBinary(file.bytes)) {
      binaries.push({ path, bytes: file.bytes, created: !existing });
      continue;
    }
    if ((textBytes += file.bytes.length) > MAX_IMPORT_BYTES) throw importTooLarge();
    accepted.push({ fileId: existing?.id ?? randomUUID(), path, text: new TextDecoder().decode(file.bytes), created: !existing });
  }
  const created = accepted.filter((f) => f.created);
  const adding = created.length + binaries.filter((b) => b.created).length;
  if (tree.size + adding > maxFiles) {
    throw new AppError('TOO_LARGE', `A project holds at most ${maxFiles} files and folders: this upload would make ${tree.size + adding}.`);
  }
  // One file at a time, yielding in between: a large upload is sliced so other requests go on.
  for (const file of accepted) {
    await sync.editDocument(fileDocName(projectId, file.fileId), (doc) => {
      const text = textOf(doc);
      if (text.toString() === file.text) return;
      text.delete(0, text.length);
      text.insert(0, file.text);
    }, { user });
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (created.length > 0) {
    await sync.editDocument(treeDocName(projectId), (doc) => {
      const map = treeOf(doc);
      for (const f of created) map.set(f.fileId, { path: f.path, kind: 'file' });
    }, { user });
  }
  result.imported = accepted.map((f) => ({ path: f.path, created: f.created }));
  for (const file of binaries) {
    try {
      await deps.blobs.upload(user, projectId, file.path, file.bytes);
      result.imported.push({ path: file.path, created: file.created });
    } catch (error) {
      if (!isAppError(error) || error.code === 'INTERNAL') throw error;
      result.skipped.push({ path: file.path, reason: error.message });
    }
  }
  return result;
}

function refusalOf(file: UploadedFile, path: string | null, byPath: Map<string, { kind: TreeEntry['kind'] }>, claimed: Set<string>, maxBinaryBytes: number): string | null {
  if (!path) return 'Not a valid file path.';
  if (!file.bytes) return 'Empty upload part.';
  const binary = looksBinary(file.bytes);
  if (!binary && file.bytes.length > MAX_FILE_BYTES) return tooLargeMessage(file.bytes.length, MAX_FILE_BYTES);
  if (binary && file.bytes.length > maxBinaryBytes) return tooLargeMessage(file.bytes.length, maxBinaryBytes);
  if (claimed.has(path)) return 'The upload contains this path twice.';
  const kind = byPath.get(path)?.kind;
  if (kind === 'folder') return 'A folder with this path already exists.';
  if (kind === 'binary' && !binary) return 'A binary file with this path already exists.';
  if (kind === 'file' && binary) return 'A text file with this path already exists.';
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const above = byPath.get(prefix)?.kind;
    if ((above && above !== 'folder') || claimed.has(prefix)) return `“${prefix}” is a file, not a folder.`;
  }
  for (const other of [...byPath.keys(), ...claimed]) {
    if (other.startsWith(path + '/')) return 'A folder with this path already exists.';
  }
  return null;
}

function tooLargeMessage(bytes: number, limit: number): string {
  return `Too large (${(bytes / 1024 / 1024).toFixed(1)} MB; the limit is ${(limit / 1024 / 1024).toFixed(limit % (1024 * 1024) ? 1 : 0)} MB per ${limit === MAX_FILE_BYTES ? 'text ' : ''}file).`;
}

async function authorize(deps: ProjectArchiveDeps, req: IncomingMessage, projectId: string, min: Role) {
  const caller = await deps.auth.authenticateCaller({ cookie: req.headers.cookie, authorization: req.headers.authorization });
  if (!caller) throw new AppError('UNAUTHENTICATED', 'Sign in to access this project.');
  // Archives are API calls: a token needs the "api" scope (and "sync:write" to import files).
  if (!hasScope(caller.credential, 'api') || (roleAtLeast(min, 'editor') && !hasScope(caller.credential, 'sync:write'))) {
    throw new AppError('FORBIDDEN', 'This access token lacks the scope for this.');
  }
  const user = caller.user;
  const membership = await deps.prisma.membership.findUnique({
    where: { projectId_userId: { projectId, userId: user.id } },
    include: { project: { select: { name: true } } },
  });
  // Non-members learn nothing about whether the project exists (as in the API's requireRole).
  if (!membership) throw new AppError('NOT_FOUND', 'Project not found.');
  if (!roleAtLeast(membership.role, min)) {
    throw new AppError('FORBIDDEN', `This needs the ${min} role; you are ${membership.role === 'viewer' ? 'a viewer' : `an ${membership.role}`}.`);
  }
  return { user, role: membership.role, project: membership.project };
}

/** Cookie-authenticated writes must come from our own pages (defence in depth next to SameSite). */
function assertSameOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (!origin || !req.headers.cookie) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new AppError('FORBIDDEN', 'Cross-site uploads are not allowed.');
  }
  if (host !== req.headers.host) throw new AppError('FORBIDDEN', 'Cross-site uploads are not allowed.');
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(uploadTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(uploadTooLarge(limit));
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', (error) => reject(new AppError('BAD_INPUT', 'The upload was interrupted.', String(error))));
  });
}

function importTooLarge(): AppError {
  return new AppError('TOO_LARGE', `One upload may import at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB of text and ${MAX_UNZIPPED_BYTES / 1024 / 1024} MB in all: split it into smaller uploads.`);
}

function uploadTooLarge(limit: number): AppError {
  return new AppError('TOO_LARGE', `Uploads are limited to ${limit / 1024 / 1024} MB.`);
}

function archiveFileName(projectName: string): string {
  const safe = projectName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80);
  return `${safe || 'project'}.zip`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, error: unknown): void {
  const appError = isAppError(error) ? error : new AppError('INTERNAL', 'Something went wrong.', String(error));
  if (appError.code === 'INTERNAL') console.error('project archive request failed:', appError.detail ?? appError);
  // A refused upload may still be streaming in: close the connection after answering.
  if (appError.code === 'TOO_LARGE') res.setHeader('connection', 'close');
  sendJson(res, HTTP_STATUS[appError.code], { error: { code: appError.code, message: appError.message } });
}
