import { AppError, MAX_FILE_BYTES, isBinaryEntry } from '@tandem/protocol';
import type { ProjectFile, SandboxHost } from '@tandem/sandbox';
import { KeyedSerialQueue } from '../suggestions/KeyedSerialQueue.ts';
import type { LiveProjectFiles } from './LiveProjectFiles.ts';
import type { ProjectBlobs } from '../files/ProjectBlobs.ts';

export interface WorkingCopySyncOptions {
  host: SandboxHost;
  files: LiveProjectFiles;
  /** Binary files' bytes (absent: binary files are not copied). */
  blobs?: Pick<ProjectBlobs, 'get'>;
  now: () => number;
  logError: (message: string, error: unknown) => void;
}

interface SyncState {
  /** LiveProjectFiles.version() when the working copy was last synced (-1: never). */
  syncedVersion: number;
  /** Files left out of the last sync for their size (a notice is shown when this changes). */
  skippedKey: string;
  lastResetAt: number;
}

/** While an app is previewed, edits reach its working copy this long after typing pauses. */
const PREVIEW_SYNC_DELAY_MS = 150;
/** At most one Reset environment per project in this interval. */
const RESET_INTERVAL_MS = 10_000;

/**
 * Keeps each project's working copy in step with its live documents (split from SandboxService):
 * one sync at a time per project, notices about files left out, edits followed while an app is
 * previewed, and Reset environment.
 */
export class WorkingCopySync {
  private readonly states = new Map<string, SyncState>();
  private readonly queue = new KeyedSerialQueue();
  /** Pending syncs of previewed projects (see followEditsWhilePreviewed). */
  private readonly previewSyncs = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly o: WorkingCopySyncOptions) {
    o.files.onChanged((projectId) => this.followEditsWhilePreviewed(projectId));
  }

  /** No document changed since the working copy was last synced. */
  isCurrent(projectId: string): boolean {
    return this.state(projectId).syncedVersion === this.o.files.version(projectId);
  }

  /**
   * Copies the live documents into the working copy (one sync at a time per project). Files over
   * the per-file limit are left out: `notice` says which, when that list changed (or always).
   */
  sync(projectId: string, options: { alwaysNotice?: boolean } = {}): Promise<{ files: ProjectFile[]; notice: string | null }> {
    return this.queue.run(projectId, async () => {
      const version = this.o.files.version(projectId);
      const files = await this.o.files.read(projectId);
      const { skipped } = await this.o.host.syncWorkingCopy(projectId, [...files, ...await this.binaryFiles(projectId)]);
      const state = this.state(projectId);
      state.syncedVersion = version;
      const key = skipped.map((f) => f.path).join('\0');
      const changed = key !== state.skippedKey;
      state.skippedKey = key;
      return { files, notice: skipped.length && (changed || options.alwaysNotice) ? skippedNotice(skipped) : null };
    });
  }

  /** Syncs the working copy if a document changed since the last sync (also for language servers). Never throws. */
  async syncIfChanged(projectId: string): Promise<boolean> {
    if (this.isCurrent(projectId)) return false;
    try {
      await this.sync(projectId);
      return true;
    } catch (error) {
      this.o.logError(`syncing the working copy of ${projectId} for its preview failed`, error);
      return false;
    }
  }

  /** Deletes what programs installed or wrote; rate-limited per project. */
  async reset(projectId: string): Promise<void> {
    const state = this.state(projectId);
    // Each reset unmounts, deletes and later re-creates a disk image: not something to loop on.
    const wait = state.lastResetAt + RESET_INTERVAL_MS - this.o.now();
    if (wait > 0) throw new AppError('RATE_LIMITED', `The environment was just reset; try again in ${Math.ceil(wait / 1000)} s.`);
    state.lastResetAt = this.o.now();
    await this.queue.run(projectId, async () => {
      await this.o.host.resetEnvironment(projectId);
      state.syncedVersion = -1;
      state.skippedKey = '';
    });
  }

  /** Every binary file of the project with its bytes (a blob missing from the store is left out). */
  private async binaryFiles(projectId: string): Promise<ProjectFile[]> {
    const blobs = this.o.blobs;
    if (!blobs) return [];
    const out: ProjectFile[] = [];
    for (const entry of (await this.o.files.tree(projectId)).entries.values()) {
      if (!isBinaryEntry(entry)) continue;
      const bytes = await blobs.get(projectId, entry.sha256);
      if (bytes) out.push({ path: entry.path, content: bytes });
    }
    return out;
  }

  forget(projectId: string): void {
    this.states.delete(projectId);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.previewSyncs.values()) clearTimeout(timer);
    this.previewSyncs.clear();
  }

  /**
   * A program listens on a port in the project's sandbox (an app is previewed, e.g. a dev server
   * with hot reload): edits are copied to the working copy shortly after they happen, so every
   * participant's preview shows them without anyone pressing Run or Enter.
   */
  private followEditsWhilePreviewed(projectId: string): void {
    const network = this.o.host.network;
    if (this.closed || this.previewSyncs.has(projectId) || !network?.sessionsOf(projectId).some((s) => s.ports.length > 0)) return;
    this.previewSyncs.set(projectId, setTimeout(() => {
      this.previewSyncs.delete(projectId);
      void this.syncIfChanged(projectId);
    }, PREVIEW_SYNC_DELAY_MS).unref());
  }

  private state(projectId: string): SyncState {
    let state = this.states.get(projectId);
    if (!state) this.states.set(projectId, (state = { syncedVersion: -1, skippedKey: '', lastResetAt: -Infinity }));
    return state;
  }
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** Tells participants which documents the sandbox does not have, and why. */
function skippedNotice(skipped: { path: string; bytes: number }[]): string {
  const list = skipped.slice(0, 5).map((f) => `${f.path} (${(f.bytes / 1024 / 1024).toFixed(1)} MiB)`).join(', ');
  const more = skipped.length > 5 ? ` and ${skipped.length - 5} more` : '';
  const n = skipped.length === 1 ? '1 file is' : `${skipped.length} files are`;
  return `[tandem] ${n} over the ${mib(MAX_FILE_BYTES)} per-file limit and not in the sandbox: ${list}${more}.\n`;
}
