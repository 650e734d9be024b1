import { createHash, randomUUID } from 'node:crypto';
import type * as Y from 'yjs';
import type { PrismaClient } from '@tandem/db';
import type { SyncUser } from '@tandem/collab';
import {
  AppError, TREE_MAP, contentTypeForPath, isBinaryEntry, normalizeProjectPath, resolveTreeEntries, treeDocName, type TreeEntry,
} from '@tandem/protocol';
import type { PublicUser } from '@tandem/auth';
import { requireRole, type Services } from '../trpc.ts';
import type { ProjectDocuments } from '../sandbox/LiveProjectFiles.ts';

export interface ProjectBlobsOptions {
  prisma: PrismaClient;
  documents: Pick<ProjectDocuments, 'editDocument' | 'readDocument'>;
  /** Largest binary file (TANDEM_MAX_BINARY_FILE_BYTES). */
  maxFileBytes: number;
  /** Binary bytes one project may store in total (TANDEM_MAX_BINARY_BYTES_PER_PROJECT). */
  maxProjectBytes: number;
  /** Entries a project tree may hold (TANDEM_MAX_FILES_PER_PROJECT). */
  maxFilesPerProject: number;
  memberships?: Services['memberships'];
  /** Hashes still needed besides the current tree's (checkpoints name them): never collected. */
  retained?: (projectId: string) => Promise<ReadonlySet<string>>;
  /** Bytes of recently read blobs kept in memory (runs copy them into every sync). Default 64 MiB. */
  cacheBytes?: number;
}

export interface BinaryDownload {
  path: string;
  sha256: string;
  contentType: string;
  bytes: Uint8Array;
}

/**
 * Binary files (images, fonts…): their bytes live in the database as per-project blobs named by
 * SHA-256, and the project tree holds `{ kind: 'binary', sha256, size }` entries naming them, so
 * renames, deletes, undo and restores work as for any entry and are seen live. Blobs are immutable,
 * so reads are cached. Rules (roles, sizes, counts) are enforced here; the HTTP routes only adapt.
 */
export class ProjectBlobs {
  readonly maxFileBytes: number;
  private readonly cache = new Map<string, Uint8Array>();
  private cached = 0;

  constructor(private readonly o: ProjectBlobsOptions) {
    this.maxFileBytes = o.maxFileBytes;
  }

  /** A member's download of the binary file `fileId`: NOT_FOUND for non-members and for anything else. */
  async download(user: Pick<PublicUser, 'id'>, projectId: string, fileId: string): Promise<BinaryDownload> {
    await requireRole({ prisma: this.o.prisma, user: user as PublicUser, services: { memberships: this.o.memberships } }, projectId, 'viewer');
    const entry = await this.o.documents.readDocument(treeDocName(projectId), (doc) => treeOf(doc).get(fileId));
    const bytes = isBinaryEntry(entry) ? await this.get(projectId, entry.sha256) : null;
    if (!bytes || !isBinaryEntry(entry)) throw new AppError('NOT_FOUND', 'File not found.');
    return { path: entry.path, sha256: entry.sha256, contentType: contentTypeForPath(entry.path), bytes };
  }

  /** An editor's upload of one binary file to `path` (added, or replacing a binary file there). */
  async upload(user: Pick<PublicUser, 'id' | 'name'>, projectId: string, path: string, bytes: Uint8Array): Promise<{ fileId: string; path: string; created: boolean }> {
    await requireRole({ prisma: this.o.prisma, user: user as PublicUser, services: { memberships: this.o.memberships } }, projectId, 'editor');
    return this.write(projectId, path, bytes, { id: user.id, name: user.name });
  }

  /**
   * Stores `bytes` and points the entry at `path` to them, for everyone (callers checked the role).
   * Refuses a path held by a text file or folder (or anything, with `create`), files over the size
   * limit and projects at their caps.
   */
  async write(projectId: string, rawPath: string, bytes: Uint8Array, user: SyncUser, options: { create?: boolean } = {}): Promise<{ fileId: string; path: string; created: boolean }> {
    const path = normalizeProjectPath(rawPath);
    if (!path) throw new AppError('BAD_INPUT', 'Not a valid file path.');
    const before = await this.entries(projectId);
    const existing = [...before].find(([, e]) => e.path === path);
    if (existing && options.create) throw new AppError('CONFLICT', `“${path}” already exists in the project.`);
    if (existing && existing[1].kind !== 'binary') throw new AppError('CONFLICT', `“${path}” is already a ${existing[1].kind === 'folder' ? 'folder' : 'text file'}.`);
    if (!existing && before.size + 1 > this.o.maxFilesPerProject) {
      throw new AppError('TOO_LARGE', `A project holds at most ${this.o.maxFilesPerProject} files and folders.`);
    }
    const sha256 = await this.put(projectId, bytes);
    const fileId = existing?.[0] ?? randomUUID();
    let problem: string | null = null;
    await this.o.documents.editDocument(treeDocName(projectId), (doc) => {
      const entries = resolveTreeEntries(treeOf(doc).entries());
      // Checked again inside the transaction: someone may have taken the path meanwhile.
      const clash = [...entries].find(([id, e]) => id !== fileId && (e.path === path || e.path.startsWith(path + '/')));
      const parents = path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'));
      const fileParent = [...entries.values()].find((e) => e.kind !== 'folder' && parents.includes(e.path));
      problem = clash ? `“${path}” already exists in the project.` : fileParent ? `“${fileParent.path}” is a file, not a folder.` : null;
      if (!problem) treeOf(doc).set(fileId, { path, kind: 'binary', sha256, size: bytes.length });
    }, { user });
    if (problem) throw new AppError('CONFLICT', problem);
    return { fileId, path, created: !existing };
  }

  /** Stores the bytes once per project (idempotent) and returns their SHA-256. */
  async put(projectId: string, bytes: Uint8Array): Promise<string> {
    if (bytes.length > this.o.maxFileBytes) {
      throw new AppError('TOO_LARGE', `Too large (${mib(bytes.length)}; the limit is ${mib(this.o.maxFileBytes)} per binary file).`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const { prisma } = this.o;
    if (await prisma.projectBlob.findUnique({ where: { projectId_sha256: { projectId, sha256 } }, select: { size: true } })) return sha256;
    let used = await this.used(projectId);
    if (used + bytes.length > this.o.maxProjectBytes) used = await this.collect(projectId);
    if (used + bytes.length > this.o.maxProjectBytes) {
      throw new AppError('TOO_LARGE', `A project stores at most ${mib(this.o.maxProjectBytes)} of binary files (${mib(used)} used).`);
    }
    await prisma.projectBlob.createMany({ data: [{ projectId, sha256, size: bytes.length, data: new Uint8Array(bytes) }], skipDuplicates: true });
    return sha256;
  }

  /** The bytes stored under `sha256` in the project, or null. */
  async get(projectId: string, sha256: string): Promise<Uint8Array | null> {
    const key = `${projectId}/${sha256}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const row = await this.o.prisma.projectBlob.findUnique({ where: { projectId_sha256: { projectId, sha256 } }, select: { data: true } });
    if (!row) return null;
    const bytes = new Uint8Array(row.data);
    this.remember(key, bytes);
    return bytes;
  }

  private async used(projectId: string): Promise<number> {
    return (await this.o.prisma.projectBlob.aggregate({ where: { projectId }, _sum: { size: true } }))._sum.size ?? 0;
  }

  /**
   * Deletes the project's blobs that neither the current tree nor a checkpoint names (deleted or
   * replaced files), except recent ones (an upload may be between storing its bytes and adding
   * its entry). Run only when the project is at its byte cap. Returns the bytes still stored.
   */
  private async collect(projectId: string): Promise<number> {
    const kept = new Set(this.o.retained ? await this.o.retained(projectId) : []);
    for (const entry of (await this.entries(projectId)).values()) if (isBinaryEntry(entry)) kept.add(entry.sha256);
    await this.o.prisma.projectBlob.deleteMany({
      where: { projectId, sha256: { notIn: [...kept] }, createdAt: { lt: new Date(Date.now() - RECENT_MS) } },
    });
    return this.used(projectId);
  }

  private remember(key: string, bytes: Uint8Array): void {
    const limit = this.o.cacheBytes ?? 64 * 1024 * 1024;
    if (bytes.length > limit / 4) return;
    this.cache.set(key, bytes);
    this.cached += bytes.length;
    for (const [k, v] of this.cache) {
      if (this.cached <= limit) break;
      this.cache.delete(k);
      this.cached -= v.length;
    }
  }

  private entries(projectId: string): Promise<Map<string, TreeEntry>> {
    return this.o.documents.readDocument(treeDocName(projectId), (doc) => resolveTreeEntries(treeOf(doc).entries()));
  }
}

/** Blobs younger than this are never collected. */
const RECENT_MS = 10 * 60 * 1000;

function treeOf(doc: Y.Doc): Y.Map<TreeEntry> {
  return doc.getMap<TreeEntry>(TREE_MAP);
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
