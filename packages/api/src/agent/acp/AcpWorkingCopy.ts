import type { SandboxHost } from '@tandem/sandbox';
import { KeyedSerialQueue } from '../../suggestions/KeyedSerialQueue.ts';
import { ToolError } from '../AgentWorkspace.ts';
import type { LiveAgentRun } from '../LiveAgentRun.ts';
import { mergeDiskEdit } from './mergeDiskEdit.ts';

/** How much of the working copy is read back after a turn (a project's whole text, not its build output). */
const HARVEST_LIMITS = { maxFiles: 5000, maxTotalBytes: 64 * 1024 * 1024, maxEntries: 50_000 };

/**
 * The external agent's working copy in the sandbox (`agent-<runId>`) and what it changed on disk.
 * `refresh` first harvests: compares the disk with what Tandem last wrote there and puts every
 * difference (files written, changed or deleted behind fs/*'s back, by the agent or its commands)
 * into the changeset, merged with what people edited meanwhile, so nothing it changes escapes
 * review; then it writes documents + changeset to the disk. Always in that order: a sync would
 * overwrite changes not yet harvested.
 */
export class AcpWorkingCopy {
  readonly #host: SandboxHost;
  readonly #id: string;
  readonly #run: LiveAgentRun;
  readonly #queue = new KeyedSerialQueue();
  /** What the last sync wrote (path → text); null before the first. */
  #synced: Map<string, string> | null = null;

  constructor(host: SandboxHost, id: string, run: LiveAgentRun) {
    this.#host = host;
    this.#id = id;
    this.#run = run;
  }

  /** Harvests the disk, then copies documents + changeset onto it. Returns the paths harvested. */
  refresh(): Promise<string[]> {
    return this.#queue.run('wc', async () => {
      const changed = await this.#harvest();
      const files = await this.#run.workspace.snapshot();
      const result = await this.#host.syncWorkingCopy(this.#id, files);
      const skipped = new Set(result.skipped.map((s) => s.path));
      this.#synced = new Map(files.filter((f) => !skipped.has(f.path)).map((f) => [f.path, f.content]));
      return changed;
    });
  }

  /**
   * An `fs/write_text_file`: the change to the changeset, then that one file onto the disk, so
   * the agent's own shell sees what it wrote. Only that file: a whole harvest + sync per call
   * would read and write the project each time. Other files changed on disk wait for the next
   * `refresh` (after each turn, before each command), which compares them with what the last sync
   * wrote, so nothing is lost; the written file's own disk change is superseded by the write.
   */
  write(change: () => Promise<{ path: string }>): Promise<void> {
    return this.#queue.run('wc', async () => {
      const { path } = await change();
      const synced = this.#synced;
      // Before the first sync the working copy is not there yet: the refresh that makes it copies everything.
      if (synced === null) return;
      const content = await this.#run.workspace.read(path);
      const result = await this.#host.putWorkingCopyFiles(this.#id, [{ path, content }], { known: synced.has(path) });
      if (result.skipped.length === 0) synced.set(path, content);
    });
  }

  async #harvest(): Promise<string[]> {
    const synced = this.#synced;
    if (synced === null) return [];
    const disk = await this.#host.listGeneratedFiles(this.#id, [], HARVEST_LIMITS);
    const unreadable = new Set(disk.skipped.map((s) => s.path));
    const changed: string[] = [];
    const refused: string[] = [];
    const conflicts: string[] = [];
    for (const f of disk.files) {
      const base = synced.get(f.path);
      if (base === f.content) continue;
      try {
        // People may have edited the file since it was copied: merge, never undo their edits.
        const merged = base === undefined ? f.content : mergeDiskEdit(base, await this.#run.workspace.read(f.path), f.content);
        if (merged === null) {
          conflicts.push(f.path);
          continue;
        }
        await this.#run.workspace.write(f.path, merged);
        synced.set(f.path, f.content);
        changed.push(f.path);
      } catch (e) {
        if (!(e instanceof ToolError)) throw e;
        refused.push(`${f.path} (${e.message})`);
      }
    }
    // A partial listing cannot tell a deleted file from one not looked at.
    if (!disk.skipped.some((s) => s.reason === 'limit')) {
      const present = new Set(disk.files.map((f) => f.path));
      for (const path of [...synced.keys()]) {
        if (present.has(path) || unreadable.has(path)) continue;
        try {
          await this.#run.workspace.delete(path);
          changed.push(path);
        } catch (e) {
          if (!(e instanceof ToolError)) throw e;
        }
        synced.delete(path);
      }
    }
    if (changed.length > 0) this.#run.notice(`The agent changed ${changed.length} file(s) directly on disk; they were added to the changeset: ${changed.slice(0, 20).join(', ')}${changed.length > 20 ? ', …' : ''}.`);
    if (conflicts.length > 0) this.#run.notice(`Left out: the agent changed ${conflicts.join(', ')} on disk in lines people edited meanwhile; its copy is replaced by the current one.`, null, 'error');
    if (refused.length > 0) this.#run.notice(`Changes on disk the changeset refused: ${refused.slice(0, 10).join('; ')}.`, null, 'error');
    if (disk.skipped.length > 0) this.#run.notice(`Files on disk not read back (binary, too large or too many): ${disk.skipped.slice(0, 10).map((s) => s.path).join(', ')}.`, null, 'error');
    return changed;
  }
}
