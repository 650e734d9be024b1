import {
  closeSync, constants as fsc, fchownSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, opendirSync, openSync,
  readFileSync, readSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { AppError, looksBinary, MAX_FILE_BYTES, normalizeProjectPath } from '@tandem/protocol';

export interface ProjectFile {
  path: string;
  /** Text (UTF-8 on disk), or a binary file's bytes (its size was capped when it was uploaded). */
  content: string | Uint8Array;
}

export interface SyncResult {
  /** Paths whose bytes on disk changed. */
  written: string[];
  unchanged: number;
  /** Previously synced files that are no longer project documents. */
  removed: string[];
  /** Program-made entries that stood where a document or folder had to go, renamed (kept). */
  movedAside: string[];
  /** Documents over the per-file limit (MAX_FILE_BYTES), not copied: tell the user. */
  skipped: { path: string; bytes: number }[];
}

export interface GeneratedFile {
  path: string;
  content: string;
  bytes: number;
}

/** A program-made file that is not text (only listed when GeneratedFilesLimits.maxBinaryFileBytes > 0). */
export interface GeneratedBinaryFile {
  path: string;
  data: Uint8Array;
}

export interface GeneratedFilesResult {
  files: GeneratedFile[];
  binaries: GeneratedBinaryFile[];
  skipped: { path: string; reason: 'too-large' | 'binary' | 'limit' }[];
}

export interface GeneratedFilesLimits {
  maxFiles: number;
  maxFileBytes: number;
  /** Largest binary file listed (in `binaries`); 0 (the default): binary files are skipped. */
  maxBinaryFileBytes?: number;
  maxTotalBytes: number;
  /** Directory entries looked at before giving up (a program can create millions). */
  maxEntries: number;
}

export const DEFAULT_GENERATED_LIMITS: GeneratedFilesLimits = {
  maxFiles: 200,
  maxFileBytes: MAX_FILE_BYTES,
  maxTotalBytes: 8 * 1024 * 1024,
  maxEntries: 20_000,
};

/** Folders a program fills with things nobody wants imported as documents (the environment). */
export const ENVIRONMENT_DIRS: readonly string[] = ['node_modules', '.venv', '.cache', '.npm'];
const IGNORED_DIRS = new Set([...ENVIRONMENT_DIRS, '.git', '__pycache__']);
const MAX_DEPTH = 32;
const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;
// O_NONBLOCK: a FIFO planted by a program must not hang the server; fstat then rejects it.
const READ_FLAGS = fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK;
const WRITE_FLAGS = fsc.O_RDWR | fsc.O_CREAT | fsc.O_NOFOLLOW | fsc.O_NONBLOCK;
const MANIFEST = 'synced.json';

/** Path of `name` inside the directory open as `fd`: openat() semantics through /proc. */
function at(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/**
 * One project's working directory on the host, `<root>/<projectId>/work`, which sandboxed code
 * can modify at any moment (it is bound read-write as /project). Every host-side access walks it
 * one component at a time from an open directory fd with O_NOFOLLOW, so a symlink or a directory
 * swapped in by the program can never redirect a host write or read outside the working dir.
 */
export class WorkingCopy {
  readonly projectDir: string;
  readonly workDir: string;
  private readonly owner: { uid: number; gid: number } | null;

  constructor(projectDir: string, owner: { uid: number; gid: number } | null, workDir = join(projectDir, 'work')) {
    this.projectDir = projectDir;
    this.workDir = workDir;
    this.owner = owner;
  }

  /** Creates `<root>/<projectId>` (host-owned, traverse-only) and `work` (owned by the sandbox user). */
  ensure(): void {
    mkdirIfMissing(this.projectDir, 0o711);
    mkdirIfMissing(this.workDir, 0o700);
    const fd = this.openWorkDir();
    try {
      this.chown(fd);
    } finally {
      closeSync(fd);
    }
  }

  sync(files: readonly ProjectFile[]): SyncResult {
    const { wanted, skipped } = validateFiles(files);
    const result: SyncResult = { written: [], unchanged: 0, removed: [], movedAside: [], skipped };
    this.writeAll(wanted, result, true, (dirs) => {
      for (const path of this.readManifest()) {
        if (wanted.has(path)) continue;
        const parts = path.split('/');
        const name = parts.pop()!;
        const dirFd = dirs.open(parts, (parent, n) => openDir(parent, n));
        if (dirFd !== null && removeRegularFile(dirFd, name)) result.removed.push(path);
      }
    });
    this.writeManifest([...wanted.keys()]);
    return result;
  }

  /**
   * Writes `files` into the working copy like `sync`, leaving every other file as it is (one
   * document changed: no pass over the whole project). They join the synced set, so a later
   * `sync` removes them once they are no longer documents; `known`: the caller knows they are in
   * it already (synced or put before), so the set is not read.
   */
  put(files: readonly ProjectFile[], known = false): SyncResult {
    const { wanted, skipped } = validateFiles(files);
    const result: SyncResult = { written: [], unchanged: 0, removed: [], movedAside: [], skipped };
    this.writeAll(wanted, result, false);
    if (known) return result;
    const synced = this.readManifest();
    const listed = new Set(synced);
    const added = [...wanted.keys()].filter((p) => !listed.has(p));
    if (added.length > 0) this.writeManifest([...synced, ...added]);
    return result;
  }

  /**
   * Writes `wanted` (creating folders), then runs `then` with the same open folders. Without
   * `ensure`, the folders are only made (and chowned) when the working dir is not there yet.
   */
  private writeAll(wanted: Map<string, Buffer>, result: SyncResult, ensure: boolean, then?: (dirs: DirCache) => void): void {
    let root: number | null = null;
    if (!ensure) {
      try {
        root = openSync(this.workDir, DIR_FLAGS);
      } catch {
        // made below
      }
    }
    if (root === null) {
      this.ensure();
      root = this.openWorkDir();
    }
    const dirs = new DirCache(root);
    try {
      for (const [path, content] of wanted) {
        const parts = path.split('/');
        const name = parts.pop()!;
        const dirFd = dirs.open(parts, (parent, n, sofar) => this.openOrCreateDir(parent, n, sofar, result))!;
        if (this.writeFile(dirFd, name, content, path, result)) result.written.push(path);
        else result.unchanged++;
      }
      then?.(dirs);
    } finally {
      dirs.closeAll();
    }
  }

  /**
   * Files in the working dir that are not project documents: text (and binary files when
   * `maxBinaryFileBytes` is set), size-capped, never through symlinks. The caller offers them for import; nothing here touches the documents.
   */
  listGenerated(knownPaths: Iterable<string>, limits: GeneratedFilesLimits = DEFAULT_GENERATED_LIMITS): GeneratedFilesResult {
    const known = new Set<string>();
    for (const p of knownPaths) {
      const n = normalizeProjectPath(p);
      if (n) known.add(n);
    }
    const result: GeneratedFilesResult = { files: [], binaries: [], skipped: [] };
    let rootFd: number;
    try {
      rootFd = this.openWorkDir();
    } catch {
      return result;
    }
    const budget = { entries: limits.maxEntries, bytes: limits.maxTotalBytes, full: false };
    try {
      this.walk(rootFd, '', 0, known, limits, budget, result);
    } finally {
      closeSync(rootFd);
    }
    result.files.sort((a, b) => (a.path < b.path ? -1 : 1));
    return result;
  }

  /** Deletes the whole project directory. Only call when no sandbox of the project is running. */
  remove(): void {
    // rmSync does not follow symlinks; with no process running nothing can swap entries meanwhile.
    rmSync(this.projectDir, { recursive: true, force: true });
  }

  private walk(
    dirFd: number, prefix: string, depth: number, known: Set<string>, limits: GeneratedFilesLimits,
    budget: { entries: number; bytes: number; full: boolean }, result: GeneratedFilesResult,
  ): void {
    const dir = opendirSync(at(dirFd));
    try {
      for (let entry = dir.readSync(); entry && !budget.full; entry = dir.readSync()) {
        if (--budget.entries < 0) {
          budget.full = true;
          result.skipped.push({ path: prefix || '.', reason: 'limit' });
          break;
        }
        const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (IGNORED_DIRS.has(entry.name) || depth >= MAX_DEPTH) continue;
          const child = openDir(dirFd, entry.name);
          if (child === null) continue;
          try {
            this.walk(child, rel, depth + 1, known, limits, budget, result);
          } finally {
            closeSync(child);
          }
        } else if (entry.isFile()) {
          const path = normalizeProjectPath(rel);
          if (!path || known.has(path)) continue;
          if (result.files.length + result.binaries.length >= limits.maxFiles) {
            budget.full = true;
            result.skipped.push({ path, reason: 'limit' });
            break;
          }
          this.collectFile(dirFd, entry.name, path, limits, budget, result);
        }
        // symlinks, FIFOs, sockets: never followed, never offered
      }
    } finally {
      dir.closeSync();
    }
  }

  private collectFile(
    dirFd: number, name: string, path: string, limits: GeneratedFilesLimits,
    budget: { bytes: number; full: boolean }, result: GeneratedFilesResult,
  ): void {
    let fd: number;
    try {
      fd = openSync(at(dirFd, name), READ_FLAGS);
    } catch {
      return; // replaced by a symlink or removed meanwhile
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return;
      const maxBytes = Math.max(limits.maxFileBytes, limits.maxBinaryFileBytes ?? 0);
      if (st.size > maxBytes) {
        result.skipped.push({ path, reason: 'too-large' });
        return;
      }
      if (st.size > budget.bytes) {
        budget.full = true;
        result.skipped.push({ path, reason: 'limit' });
        return;
      }
      const bytes = readUpTo(fd, maxBytes + 1);
      const binary = looksBinary(bytes);
      if (binary && !limits.maxBinaryFileBytes) {
        result.skipped.push({ path, reason: 'binary' });
        return;
      }
      if (bytes.length > (binary ? limits.maxBinaryFileBytes! : limits.maxFileBytes)) {
        result.skipped.push({ path, reason: 'too-large' });
        return;
      }
      budget.bytes -= bytes.length;
      if (binary) return void result.binaries.push({ path, data: bytes });
      result.files.push({ path, content: Buffer.from(bytes).toString('utf8'), bytes: bytes.length });
    } finally {
      closeSync(fd);
    }
  }

  private openWorkDir(): number {
    try {
      return openSync(this.workDir, DIR_FLAGS);
    } catch (e) {
      throw new AppError('INTERNAL', 'The project working copy is unavailable.', `open ${this.workDir}: ${(e as Error).message}`);
    }
  }

  /** Opens `name` as a directory, creating it; a symlink is removed and anything else renamed aside. */
  private openOrCreateDir(parentFd: number, name: string, path: string, result: SyncResult): number {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return openSync(at(parentFd, name), DIR_FLAGS);
      } catch (e) {
        const code = errno(e);
        if (code === 'ENOENT') {
          try {
            mkdirSync(at(parentFd, name), 0o755);
          } catch (mkdirError) {
            if (errno(mkdirError) !== 'EEXIST') throw mkdirError;
            continue;
          }
          const fd = openSync(at(parentFd, name), DIR_FLAGS);
          this.chown(fd);
          return fd;
        }
        // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR, like on a file: tell them apart.
        if (code !== 'ELOOP' && code !== 'ENOTDIR') throw e;
        if (isSymlink(parentFd, name)) unlinkQuietly(parentFd, name);
        else result.movedAside.push(moveAside(parentFd, name, path));
      }
    }
    throw new AppError('CONFLICT', 'The working copy kept changing while it was being updated; try again.', path);
  }

  /** Writes `content` unless the file already holds exactly it. Returns whether bytes changed. */
  private writeFile(dirFd: number, name: string, content: Buffer, path: string, result: SyncResult): boolean {
    for (let attempt = 0; attempt < 5; attempt++) {
      let fd: number;
      try {
        fd = openSync(at(dirFd, name), WRITE_FLAGS, 0o644);
      } catch (e) {
        const code = errno(e);
        if (code === 'ELOOP') unlinkQuietly(dirFd, name);
        else if (code === 'EISDIR' || code === 'ENXIO') result.movedAside.push(moveAside(dirFd, name, path));
        else throw e;
        continue;
      }
      try {
        const st = fstatSync(fd);
        if (!st.isFile()) {
          closeSync(fd);
          fd = -1;
          result.movedAside.push(moveAside(dirFd, name, path));
          continue;
        }
        if (st.size === content.length && readUpTo(fd, content.length + 1).equals(content)) return false;
        // Written over, then cut to length: a truncate to 0 first makes ext4 flush the file to
        // disk on close (its replace-by-truncate safeguard), milliseconds per write.
        let off = 0;
        while (off < content.length) off += writeSync(fd, content, off, content.length - off, off);
        if (st.size > content.length) ftruncateSync(fd, content.length);
        this.chown(fd);
        return true;
      } finally {
        if (fd >= 0) closeSync(fd);
      }
    }
    throw new AppError('CONFLICT', 'The working copy kept changing while it was being updated; try again.', path);
  }

  private chown(fd: number): void {
    if (this.owner) fchownSync(fd, this.owner.uid, this.owner.gid);
  }

  private readManifest(): string[] {
    try {
      const parsed: unknown = JSON.parse(readFileSync(join(this.projectDir, MANIFEST), 'utf8'));
      if (!Array.isArray(parsed)) return [];
      return parsed.filter((p): p is string => typeof p === 'string' && normalizeProjectPath(p) === p);
    } catch {
      return [];
    }
  }

  private writeManifest(paths: string[]): void {
    // Lives next to work/, out of the sandbox's reach.
    writeFileSync(join(this.projectDir, MANIFEST), JSON.stringify(paths), { mode: 0o600 });
  }
}

/**
 * Normalized path → bytes; refuses bad paths, duplicates and file/folder clashes. A file over the
 * per-file limit is left out (and reported) rather than failing the whole sync: one large file
 * must not stop everyone's runs and terminals.
 */
function validateFiles(files: readonly ProjectFile[]): { wanted: Map<string, Buffer>; skipped: SyncResult['skipped'] } {
  const wanted = new Map<string, Buffer>();
  const skipped: SyncResult['skipped'] = [];
  const seen = new Set<string>();
  for (const f of files) {
    const path = typeof f?.path === 'string' ? normalizeProjectPath(f.path) : null;
    if (!path || (typeof f.content !== 'string' && !(f.content instanceof Uint8Array))) throw new AppError('BAD_INPUT', 'A project file has an invalid path.', String(f?.path));
    if (seen.has(path)) throw new AppError('BAD_INPUT', `The file ${path} appears twice.`);
    seen.add(path);
    if (f.content instanceof Uint8Array) {
      wanted.set(path, Buffer.from(f.content.buffer, f.content.byteOffset, f.content.byteLength));
      continue;
    }
    const size = Buffer.byteLength(f.content, 'utf8');
    if (size > MAX_FILE_BYTES) {
      skipped.push({ path, bytes: size });
      continue;
    }
    wanted.set(path, Buffer.from(f.content, 'utf8'));
  }
  for (const path of wanted.keys()) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (wanted.has(folder)) throw new AppError('BAD_INPUT', `${folder} is both a file and a folder.`);
    }
  }
  return { wanted, skipped };
}

/** Open directory fds by relative folder path for the duration of one sync. */
class DirCache {
  private readonly fds = new Map<string, number>();

  constructor(rootFd: number) {
    this.fds.set('', rootFd);
  }

  open(parts: string[], openChild: (parentFd: number, name: string, path: string) => number | null): number | null {
    let key = '';
    let fd = this.fds.get('')!;
    for (const part of parts) {
      key = key ? `${key}/${part}` : part;
      const cached = this.fds.get(key);
      if (cached !== undefined) {
        fd = cached;
        continue;
      }
      const child = openChild(fd, part, key);
      if (child === null) return null;
      this.fds.set(key, child);
      fd = child;
    }
    return fd;
  }

  closeAll(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

function openDir(parentFd: number, name: string): number | null {
  try {
    return openSync(at(parentFd, name), DIR_FLAGS);
  } catch {
    return null;
  }
}

function removeRegularFile(dirFd: number, name: string): boolean {
  try {
    if (!lstatSync(at(dirFd, name)).isFile()) return false;
    unlinkSync(at(dirFd, name)); // unlink never follows: at worst it removes a just-swapped symlink
    return true;
  } catch {
    return false;
  }
}

function isSymlink(dirFd: number, name: string): boolean {
  try {
    return lstatSync(at(dirFd, name)).isSymbolicLink();
  } catch {
    return false;
  }
}

function unlinkQuietly(dirFd: number, name: string): void {
  try {
    unlinkSync(at(dirFd, name));
  } catch {
    // gone already
  }
}

/** Renames a program-made entry out of a document's way rather than deleting its data. */
function moveAside(dirFd: number, name: string, path: string): string {
  for (let n = 1; n < 100; n++) {
    const aside = `${name}.moved-${n}`;
    try {
      lstatSync(at(dirFd, aside));
      continue; // taken
    } catch {
      // free
    }
    try {
      renameSync(at(dirFd, name), at(dirFd, aside));
      return path.slice(0, path.length - name.length) + aside;
    } catch (e) {
      if (errno(e) === 'ENOENT') return path;
    }
  }
  throw new AppError('CONFLICT', 'The working copy is cluttered; remove leftover files and try again.', path);
}

function mkdirIfMissing(dir: string, mode: number): void {
  try {
    mkdirSync(dir, mode);
  } catch (e) {
    if (errno(e) !== 'EEXIST') throw e;
  }
  if (!lstatSync(dir).isDirectory()) {
    throw new AppError('INTERNAL', 'The project working copy is unavailable.', `${dir} is not a directory`);
  }
}

function readUpTo(fd: number, max: number): Buffer {
  const buf = Buffer.alloc(max);
  let off = 0;
  while (off < max) {
    const n = readSync(fd, buf, off, max - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}
