import { gunzipSync, gzipSync } from 'node:zlib';
import { AppError, FILE_TEXT, TREE_MAP, fileDocName, isBinaryEntry, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import type { SyncUser } from '@tandem/collab';
import { computeHunks } from '@tandem/review';
import type { HistoryDocuments } from './HistoryService.ts';
import type { LiveProjectFiles } from '../sandbox/LiveProjectFiles.ts';

export type CheckpointReason = 'manual' | 'ai-edit' | 'agent' | 'restore';

export interface CheckpointView {
  id: string;
  name: string;
  reason: CheckpointReason;
  createdBy: { id: string; name: string } | null;
  files: number;
  createdAt: string;
}

/** What changed in one file from a checkpoint to now: `line` is where the change starts in the checkpoint's text. */
export interface CheckpointComparison {
  path: string;
  hunks: { line: number; removed: string; inserted: string }[];
  /** More hunks than `CHECKPOINT_LIMITS.compareHunks` were left out. */
  truncated: boolean;
}

export const CHECKPOINT_LIMITS = {
  compareHunks: 200,
  /** Named checkpoints per project (a new one is refused beyond). */
  perProject: 200,
  /** Automatic checkpoints kept per project by default (older ones are dropped, oldest first). */
  automaticKept: 200,
  nameChars: 100,
} as const;

/** Files a restore edits at the same time (bounds memory and database load). */
const RESTORE_PARALLEL = 32;

export interface ProjectState {
  tree: [string, TreeEntry][];
  texts: Record<string, string>;
}

/**
 * Checkpoints of a whole project (tree + every file's text), and restoring one (a file or the
 * whole project) as a forward change: a new change by the person restoring, written as the
 * smallest edit per file, so everyone sees it live, edits made meanwhile merge in, and it can be
 * undone by restoring the checkpoint taken automatically just before it. History is never rewritten.
 */
export class CheckpointService {
  /** The live files' cache (HistoryService.readFilesFrom): reads a project without decoding every document again. */
  files: LiveProjectFiles | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    /** The live documents; writes go through HistoryService.over, so a restore is attributed. */
    private readonly documents: HistoryDocuments,
    /** Retention: automatic checkpoints kept per project. */
    private readonly automaticKept: number = CHECKPOINT_LIMITS.automaticKept,
  ) {}

  async create(projectId: string, name: string, reason: CheckpointReason, by: SyncUser | null): Promise<CheckpointView> {
    if (reason === 'manual' && (await this.prisma.checkpoint.count({ where: { projectId, reason } })) >= CHECKPOINT_LIMITS.perProject) {
      throw new AppError('TOO_LARGE', `This project has ${CHECKPOINT_LIMITS.perProject} named checkpoints, the most it can keep.`);
    }
    const state = await this.#read(projectId);
    const row = await this.prisma.checkpoint.create({
      data: {
        projectId, name: name.slice(0, CHECKPOINT_LIMITS.nameChars), reason, createdById: by?.id ?? null,
        files: Object.keys(state.texts).length, data: gzipSync(JSON.stringify(state)),
      },
    });
    await this.#prune(projectId);
    return { id: row.id, name: row.name, reason, createdBy: by ? { id: by.id, name: by.name } : null, files: row.files, createdAt: row.createdAt.toISOString() };
  }

  async list(projectId: string): Promise<CheckpointView[]> {
    const rows = await this.prisma.checkpoint.findMany({
      where: { projectId }, orderBy: { createdAt: 'desc' },
      select: { id: true, name: true, reason: true, createdById: true, files: true, createdAt: true },
    });
    const ids = [...new Set(rows.flatMap((r) => (r.createdById ? [r.createdById] : [])))];
    const users = new Map((await this.prisma.user.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map((u) => [u.id, u]));
    return rows.map((r) => ({
      id: r.id, name: r.name, reason: r.reason as CheckpointReason, files: r.files, createdAt: r.createdAt.toISOString(),
      createdBy: r.createdById ? users.get(r.createdById) ?? { id: r.createdById, name: 'Former member' } : null,
    }));
  }

  /** Hashes of the binary files the project's checkpoints name (their blobs must be kept for restores). */
  async binaryHashes(projectId: string): Promise<Set<string>> {
    const hashes = new Set<string>();
    const rows = await this.prisma.checkpoint.findMany({ where: { projectId }, select: { data: true } });
    for (const row of rows) {
      const state = JSON.parse(gunzipSync(row.data).toString('utf8')) as ProjectState;
      for (const [, entry] of state.tree) if (isBinaryEntry(entry)) hashes.add(entry.sha256);
    }
    return hashes;
  }

  /**
   * Brings the project (or one file, `fileId`) back to the checkpoint. Takes a checkpoint of the
   * current state first (reason `restore`): restoring that one undoes this restore.
   */
  async restore(projectId: string, checkpointId: string, by: SyncUser, fileId?: string): Promise<{ before: CheckpointView; files: number }> {
    const { name, state } = await this.#load(projectId, checkpointId);
    if (fileId !== undefined && !(fileId in state.texts)) throw new AppError('NOT_FOUND', 'That file is not in this checkpoint.');
    const before = await this.create(projectId, `Before restoring “${name}”`, 'restore', by);
    const fileIds = fileId !== undefined ? [fileId] : Object.keys(state.texts);
    // Only files that differ are edited, several at once; texts first, then the tree: a file
    // coming back has its text before anyone sees it listed.
    const current = this.files ? await this.files.texts(projectId, fileIds) : null;
    const changed = fileIds.filter((id) => current?.get(id) !== state.texts[id]);
    for (let i = 0; i < changed.length; i += RESTORE_PARALLEL) {
      await Promise.all(changed.slice(i, i + RESTORE_PARALLEL).map((id) =>
        this.documents.editDocument(fileDocName(projectId, id), (doc) => replaceMinimally(doc.getText(FILE_TEXT), state.texts[id]!), { user: by })));
    }
    const wanted = new Map(state.tree);
    await this.documents.editDocument(treeDocName(projectId), (doc) => {
      const tree = doc.getMap<TreeEntry>(TREE_MAP);
      if (fileId !== undefined) {
        const entry = wanted.get(fileId)!;
        if (tree.get(fileId)?.path !== entry.path && ![...tree.values()].some((e) => e.path === entry.path)) tree.set(fileId, entry);
        return;
      }
      for (const id of [...tree.keys()]) if (!wanted.has(id)) tree.delete(id);
      for (const [id, entry] of wanted) {
        const current = tree.get(id);
        if (current?.path !== entry.path || current.kind !== entry.kind || current.sha256 !== entry.sha256) tree.set(id, entry);
      }
    }, { user: by });
    return { before, files: fileIds.length };
  }

  /** One file as it was at a checkpoint, diffed against now (a file deleted since compares with nothing). */
  async compare(projectId: string, checkpointId: string, fileId: string): Promise<CheckpointComparison> {
    const { state } = await this.#load(projectId, checkpointId);
    const then = state.texts[fileId];
    if (then === undefined) throw new AppError('NOT_FOUND', 'That file is not in this checkpoint.');
    let now = '';
    await this.documents.editDocument(fileDocName(projectId, fileId), (doc) => {
      now = doc.getText(FILE_TEXT).toString();
    });
    const hunks = computeHunks(then, now);
    return {
      path: new Map(state.tree).get(fileId)?.path ?? '',
      hunks: hunks.slice(0, CHECKPOINT_LIMITS.compareHunks).map((h) => ({ line: lineAt(then, h.start), removed: h.removed, inserted: h.inserted })),
      truncated: hunks.length > CHECKPOINT_LIMITS.compareHunks,
    };
  }

  async #load(projectId: string, checkpointId: string): Promise<{ name: string; state: ProjectState }> {
    const row = await this.prisma.checkpoint.findFirst({ where: { id: checkpointId, projectId }, select: { name: true, data: true } });
    if (!row) throw new AppError('NOT_FOUND', 'Checkpoint not found.');
    return { name: row.name, state: JSON.parse(gunzipSync(row.data).toString('utf8')) as ProjectState };
  }

  /** The newest `limit` checkpoints with their content, oldest first (for the git export). */
  async contents(projectId: string, limit: number): Promise<{ view: CheckpointView; state: ProjectState }[]> {
    const views = (await this.list(projectId)).slice(0, limit).reverse();
    const out = [];
    for (const view of views) out.push({ view, state: (await this.#load(projectId, view.id)).state });
    return out;
  }

  /** The project as it is now. */
  current(projectId: string): Promise<ProjectState> {
    return this.#read(projectId);
  }

  async #read(projectId: string): Promise<ProjectState> {
    if (this.files) {
      const { entries, files } = await this.files.tree(projectId);
      return { tree: [...entries], texts: Object.fromEntries(await this.files.texts(projectId, [...files.values()])) };
    }
    const tree = await this.documents.readDocument(treeDocName(projectId), (doc) => [...doc.getMap<TreeEntry>(TREE_MAP).entries()]);
    const texts: Record<string, string> = {};
    for (const [id, entry] of tree) {
      if (entry.kind !== 'file') continue;
      texts[id] = await this.documents.readDocument(fileDocName(projectId, id), (doc) => doc.getText(FILE_TEXT).toString());
    }
    return { tree, texts };
  }

  async #prune(projectId: string): Promise<void> {
    const automatic = { projectId, reason: { not: 'manual' } };
    const excess = (await this.prisma.checkpoint.count({ where: automatic })) - this.automaticKept;
    if (excess <= 0) return;
    const old = await this.prisma.checkpoint.findMany({ where: automatic, orderBy: { createdAt: 'asc' }, take: excess, select: { id: true } });
    await this.prisma.checkpoint.deleteMany({ where: { id: { in: old.map((o) => o.id) } } });
  }
}

/** 1-based line of a text offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Turns `text` into `target` by replacing only what differs between their common prefix and suffix. */
function replaceMinimally(text: { toString(): string; delete(index: number, length: number): void; insert(index: number, s: string): void }, target: string): void {
  const current = text.toString();
  if (current === target) return;
  let start = 0;
  while (start < current.length && start < target.length && current[start] === target[start]) start++;
  let end = 0;
  while (end < current.length - start && end < target.length - start && current[current.length - 1 - end] === target[target.length - 1 - end]) end++;
  if (current.length - start - end > 0) text.delete(start, current.length - start - end);
  if (target.length - start - end > 0) text.insert(start, target.slice(start, target.length - end));
}
