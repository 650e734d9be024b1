import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppError, FILE_TEXT, MAX_FILE_BYTES, TREE_MAP, fileDocName, looksBinary, normalizeProjectPath, treeDocName, type TreeEntry,
} from '@tandem/protocol';
import type { HistoryDocuments } from './HistoryService.ts';
import { checkRemote, runGit, type GitRemotePolicy } from './gitCli.ts';

export const GIT_IMPORT_LIMITS = {
  /** An uploaded bundle. */
  bundleBytes: 32 * 1024 * 1024,
  /** Text imported in total (every byte is written to the store and to every open client). */
  textBytes: 8 * 1024 * 1024,
  /** Imports running at once on this server (each is a git process and a temporary repository). */
  concurrent: 2,
} as const;

export type GitSource = { bundle: Buffer } | { url: string };

export interface GitImportResult {
  files: number;
  skipped: { path: string; reason: string }[];
  /** `<repo>@<commit>`: what the imported text is attributed to. */
  source: string;
}

/**
 * A project's files from a git repository's HEAD (an uploaded bundle, or an https URL the policy
 * allows, cloned bare at depth 1 by the `git` CLI): text files become documents written through
 * the live documents, attributed to the system author "imported from <repo>@<commit>". Only into
 * an empty project; symlinks, submodules, binary and oversized files are skipped; more files than
 * the project may hold or more text than `GIT_IMPORT_LIMITS.textBytes` is refused.
 */
export class GitImport {
  readonly #busy = new Set<string>();

  constructor(
    private readonly documents: HistoryDocuments,
    private readonly policy: GitRemotePolicy,
    private readonly maxFiles: number,
  ) {}

  async importInto(projectId: string, source: GitSource): Promise<GitImportResult> {
    if (this.#busy.has(projectId)) throw new AppError('CONFLICT', 'An import into this project is already running.');
    if (this.#busy.size >= GIT_IMPORT_LIMITS.concurrent) throw new AppError('RATE_LIMITED', 'Other git imports are running on this server: try again in a minute.');
    this.#busy.add(projectId);
    let dir: string | null = null;
    try {
      dir = await mkdtemp(join(tmpdir(), 'tandem-git-import-'));
      const tree = await this.documents.readDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).size);
      if (tree > 0) throw new AppError('CONFLICT', 'Import into a new or empty project: this one already has files.');
      const { files, skipped, source: label } = await this.#read(dir, source);
      const author = { kind: 'system', source: `imported from ${label}` } as const;
      const entries: [string, TreeEntry][] = [];
      for (const file of files) {
        const fileId = randomUUID();
        await this.documents.editDocument(fileDocName(projectId, fileId), (doc) => doc.getText(FILE_TEXT).insert(0, file.text), { author });
        entries.push([fileId, { path: file.path, kind: 'file' }]);
      }
      await this.documents.editDocument(treeDocName(projectId), (doc) => {
        const map = doc.getMap<TreeEntry>(TREE_MAP);
        if (map.size > 0) throw new AppError('CONFLICT', 'Files were added to this project during the import.');
        for (const [id, entry] of entries) map.set(id, entry);
      }, { author });
      return { files: files.length, skipped, source: label };
    } finally {
      this.#busy.delete(projectId);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  /** Fetches HEAD into a bare repository in `dir` and reads its text files. */
  async #read(dir: string, source: GitSource) {
    const home = join(dir, 'home');
    await mkdir(home);
    const base = { cwd: dir, home, policy: this.policy };
    let label: string;
    if ('bundle' in source) {
      if (source.bundle.byteLength > GIT_IMPORT_LIMITS.bundleBytes) throw new AppError('TOO_LARGE', `Bundles are limited to ${GIT_IMPORT_LIMITS.bundleBytes / 1024 / 1024} MB.`);
      await writeFile(join(dir, 'upload.bundle'), source.bundle);
      await runGit(['clone', '-q', '--bare', '--no-tags', 'upload.bundle', 'repo'], { ...base, allowBundle: true });
      label = 'bundle';
    } else {
      const remote = await checkRemote(source.url, this.policy);
      await runGit(['clone', '-q', '--bare', '--depth', '1', '--single-branch', '--no-tags', '--', remote.url, 'repo'], { ...base, remote });
      label = remote.url.replace(/\/$/, '');
    }
    const repo = { ...base, cwd: join(dir, 'repo') };
    const commit = (await runGit(['rev-parse', 'HEAD'], repo).catch(() => '')).trim();
    if (!commit) throw new AppError('BAD_INPUT', 'The repository has no commits on its default branch.');
    const listing = await runGit(['ls-tree', '-r', '-l', '-z', '--full-tree', 'HEAD'], repo);
    const skipped: { path: string; reason: string }[] = [];
    const wanted: { path: string; sha: string }[] = [];
    let bytes = 0;
    for (const row of listing.split('\0')) {
      const match = /^(\d+) (\w+) ([0-9a-f]+) +(-|\d+)\t(.*)$/s.exec(row);
      if (!match) continue;
      const [, mode, type, sha, size, rawPath] = match as unknown as [string, string, string, string, string, string];
      const path = normalizeProjectPath(rawPath);
      if (type !== 'blob' || mode === '120000') skipped.push({ path: rawPath, reason: type === 'commit' ? 'Submodule.' : 'Symbolic link.' });
      else if (!path) skipped.push({ path: rawPath, reason: 'Not a valid file path.' });
      else if (Number(size) > MAX_FILE_BYTES) skipped.push({ path, reason: `Larger than ${MAX_FILE_BYTES / 1024 / 1024} MB.` });
      else {
        wanted.push({ path, sha });
        bytes += Number(size);
      }
    }
    if (wanted.length > this.maxFiles) throw new AppError('TOO_LARGE', `The repository has ${wanted.length} files; a project holds at most ${this.maxFiles}.`);
    if (bytes > GIT_IMPORT_LIMITS.textBytes) throw new AppError('TOO_LARGE', `The repository has more than ${GIT_IMPORT_LIMITS.textBytes / 1024 / 1024} MB of files to import.`);
    const blobs = await readBlobs(repo.cwd, wanted.map((w) => w.sha));
    const files: { path: string; text: string }[] = [];
    wanted.forEach(({ path, sha }) => {
      const blob = blobs.get(sha)!;
      if (looksBinary(blob)) skipped.push({ path, reason: 'Binary file: only text files are imported.' });
      else files.push({ path, text: new TextDecoder().decode(blob) });
    });
    return { files, skipped, source: `${label}@${commit}` };
  }
}

/** Blob contents by id, read with one `git cat-file --batch` (never from a checkout: no symlink is followed). */
function readBlobs(cwd: string, shas: string[]): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } as unknown as NodeJS.ProcessEnv;
    const child = spawn('git', ['cat-file', '--batch'], { cwd, env, stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new AppError('INTERNAL', 'Reading the repository failed.'));
      const out = Buffer.concat(chunks);
      const blobs = new Map<string, Buffer>();
      for (let at = 0; at < out.length;) {
        const eol = out.indexOf(10, at);
        const [sha, , size] = out.subarray(at, eol).toString().split(' ');
        const length = Number(size);
        blobs.set(sha!, out.subarray(eol + 1, eol + 1 + length));
        at = eol + 1 + length + 1;
      }
      resolve(blobs);
    });
    child.stdin.end(shas.map((s) => `${s}\n`).join(''));
  });
}
