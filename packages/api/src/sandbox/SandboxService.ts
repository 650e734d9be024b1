import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { AppError, MAX_FILE_BYTES, type ProjectStreamEventName, type ProjectStreamEvents } from '@tandem/protocol';
import type { Prisma, PrismaClient } from '@tandem/db';
import {
  ENVIRONMENT_DIRS, resolveRunCommand, type ProjectFile, type RunResult, type SandboxHost, type SandboxLimits, type SandboxRun, type TerminalSize,
} from '@tandem/sandbox';
import { projectChannel, type EventHub } from '../EventHub.ts';
import { KeyedSerialQueue } from '../suggestions/KeyedSerialQueue.ts';
import type { LiveProjectFiles } from './LiveProjectFiles.ts';
import { OutputBudget } from './OutputBudget.ts';
import { RunOutputLog } from './RunOutputLog.ts';
import {
  GENERATED_EVENT, QUEUE_EVENT, RUN_EVENT, RUN_OUTPUT_EVENT, TERMINAL_DATA_EVENT, TERMINAL_EVENT,
  type GeneratedImported, type RunOutput, type RunOutputSnapshot, type RunStatus, type RunView, type TerminalData, type TerminalScrollback,
  type TerminalView, type UserRef,
} from './sandboxEvents.ts';
import { SlotQueue, type SlotGrant } from './SlotQueue.ts';
import { TerminalSession } from './TerminalSession.ts';

export interface SandboxServiceOptions {
  host: SandboxHost;
  files: LiveProjectFiles;
  hub: EventHub;
  prisma: PrismaClient;
  /** Names this server process in TerminalView.node (default `<hostname>:<pid>`). */
  nodeId?: string;
  /** Output of a run kept for participants who attach later (its tail). Default 256 K chars. */
  runOutputKeepChars?: number;
  /** Tail of a run's output stored in the database, so it survives a restart. Default 64 K chars. */
  runOutputStoreChars?: number;
  /** A terminal nobody typed into for this long is closed. Default 15 minutes. */
  terminalIdleMs?: number;
  /**
   * Runs and terminals one user may have open at once across all projects (each counts for whoever
   * started it), so one person cannot take every sandbox slot of the host. Default 4.
   */
  maxSessionsPerUser?: number;
  /**
   * When the host is full, starts wait in a fair queue (round robin per user) instead of failing:
   * at most `maxWaiting` at once (default 64), each for up to `timeoutMs` (default 60 s).
   */
  queue?: { maxWaiting: number; timeoutMs: number };
  /** Terminal output broadcast to participants: sustained rate and burst (chars). Default 256 K/s, 1 M. */
  terminalOutput?: { perSecond: number; burst: number };
  now?: () => number;
  logError?: (message: string, error: unknown) => void;
}

/** Where a project's run command comes from, for the UI. */
export type RunCommandSource = 'settings' | NonNullable<ReturnType<typeof resolveRunCommand>>['source'];

export interface SandboxStatus {
  /** Code can run (sandboxed, or the operator explicitly allowed unsandboxed runs). */
  available: boolean;
  sandboxed: boolean;
  /** What the host lacks, when not sandboxed (for the operator; shown to users as is). */
  missing: string[];
  limits: Pick<SandboxLimits, 'memoryBytes' | 'pidsMax' | 'cpuCores' | 'runTimeoutMs' | 'outputCapBytes'>;
  runCommand: { command: string; source: RunCommandSource } | null;
  /** The project's disk: quota and use (use null before its first run), or null without quotas. */
  disk: { quotaBytes: number; usedBytes: number | null } | null;
  /** Folders that hold the environment (installed packages, caches): not documents. */
  environmentDirs: readonly string[];
}

export interface GeneratedFileView {
  path: string;
  bytes: number;
}

interface LiveRun {
  view: RunView;
  log: RunOutputLog;
  run: SandboxRun | null;
  stoppedBy: UserRef | null;
}

interface ProjectState {
  /** At most one run per project: the Run button is a toggle for everyone. */
  run: LiveRun | null;
  /** The project's last finished run (its output for participants who attach later). */
  lastRun: LiveRun | null;
  /** LiveProjectFiles.version() when the working copy was last synced (-1: never). */
  syncedVersion: number;
  starting: boolean;
  /** Files left out of the last sync for their size (a notice is shown when this changes). */
  skippedKey: string;
  lastResetAt: number;
}

const RECENT_RUNS = 20;
/** While an app is previewed, edits reach its working copy this long after typing pauses. */
const PREVIEW_SYNC_DELAY_MS = 150;
/** At most one Reset environment per project in this interval. */
const RESET_INTERVAL_MS = 10_000;

/**
 * Runs and shared terminals of projects, on top of the sandbox host: builds each sandbox from
 * the live documents, fans output out to every participant through the EventHub, records runs in
 * the database, and keeps what a participant needs to reattach after a reload. Authorization
 * (editors run and type, viewers watch) is the router's job.
 */
export class SandboxService {
  readonly host: SandboxHost;
  private readonly files: LiveProjectFiles;
  private readonly hub: EventHub;
  private readonly prisma: PrismaClient;
  private readonly nodeId: string;
  private readonly keepChars: number;
  private readonly storeChars: number;
  private readonly idleMs: number;
  private readonly maxPerUser: number;
  /** Runs being started, per user (not yet in `projects`): counted so concurrent starts cannot overshoot. */
  private readonly startingByUser = new Map<string, number>();
  private readonly terminalOutput: { perSecond: number; burst: number };
  private readonly now: () => number;
  private readonly logError: (message: string, error: unknown) => void;
  private readonly projects = new Map<string, ProjectState>();
  private readonly terminals = new Map<string, TerminalSession>();
  private readonly syncQueue = new KeyedSerialQueue();
  private readonly inputQueue = new KeyedSerialQueue();
  /** Database writes of finished runs still in flight (close() waits for them). */
  private readonly recording = new Set<Promise<void>>();
  /** Pending working-copy syncs of previewed projects (see followEditsWhilePreviewed). */
  private readonly previewSyncs = new Map<string, NodeJS.Timeout>();
  private readonly slots: SlotQueue;
  private closed = false;

  constructor(options: SandboxServiceOptions) {
    this.host = options.host;
    this.files = options.files;
    this.hub = options.hub;
    this.prisma = options.prisma;
    this.nodeId = options.nodeId ?? `${hostname()}:${process.pid}`;
    this.keepChars = options.runOutputKeepChars ?? 256 * 1024;
    this.storeChars = options.runOutputStoreChars ?? 64 * 1024;
    this.idleMs = options.terminalIdleMs ?? 15 * 60 * 1000;
    this.maxPerUser = options.maxSessionsPerUser ?? 4;
    this.terminalOutput = options.terminalOutput ?? { perSecond: 256 * 1024, burst: 1024 * 1024 };
    this.now = options.now ?? Date.now;
    this.logError = options.logError ?? ((m, e) => console.error(`[sandbox] ${m}`, e));
    this.files.onChanged((projectId) => this.followEditsWhilePreviewed(projectId));
    this.slots = new SlotQueue({
      free: () => this.host.freeSlots(), held: (userId) => this.sessionsHeldBy(userId),
      maxWaiting: options.queue?.maxWaiting ?? 64, timeoutMs: options.queue?.timeoutMs ?? 60_000,
    });
    this.host.onSlotFreed(() => this.slots.pump());
  }

  /**
   * A program listens on a port in the project's sandbox (an app is previewed, e.g. a dev server
   * with hot reload): edits are copied to the working copy shortly after they happen, so every
   * participant's preview shows them without anyone pressing Run or Enter.
   */
  private followEditsWhilePreviewed(projectId: string): void {
    const network = this.host.network;
    if (this.closed || this.previewSyncs.has(projectId) || !network?.sessionsOf(projectId).some((s) => s.ports.length > 0)) return;
    this.previewSyncs.set(projectId, setTimeout(() => {
      this.previewSyncs.delete(projectId);
      void this.syncIfChanged(projectId);
    }, PREVIEW_SYNC_DELAY_MS).unref());
  }

  /**
   * Runs left `running` in the database by a server that stopped mid-run are marked
   * `interrupted`. Call once at start-up; with several nodes, for one project when this node
   * takes the project over (its previous node stopped).
   */
  async recoverInterruptedRuns(projectId?: string): Promise<number> {
    const where = { status: 'running', ...(projectId === undefined ? {} : { projectId }) };
    const { count } = await this.prisma.run.updateMany({ where, data: { status: 'interrupted', endedAt: new Date() } });
    return count;
  }

  async status(projectId: string, configuredCommand: string | null): Promise<SandboxStatus> {
    const report = await this.host.checkIsolation();
    const { memoryBytes, pidsMax, cpuCores, runTimeoutMs, outputCapBytes } = this.host.limits;
    const quota = report.diskQuota.bytes;
    return {
      available: report.canRun,
      sandboxed: report.sandboxed,
      missing: report.missing,
      limits: { memoryBytes, pidsMax, cpuCores, runTimeoutMs, outputCapBytes },
      runCommand: await this.runCommand(projectId, configuredCommand),
      disk: quota === null ? null : { quotaBytes: quota, usedBytes: this.host.diskUsage(projectId)?.usedBytes ?? null },
      environmentDirs: ENVIRONMENT_DIRS,
    };
  }

  /** The project's own setting wins; otherwise tandem.json / package.json / well-known files. */
  async runCommand(projectId: string, configuredCommand: string | null, files?: ProjectFile[]): Promise<SandboxStatus['runCommand']> {
    if (configuredCommand?.trim()) return { command: configuredCommand.trim(), source: 'settings' };
    const resolved = resolveRunCommand(files ?? (await this.files.read(projectId)));
    return resolved ? { command: resolved.command, source: resolved.source } : null;
  }

  // ── Runs ──────────────────────────────────────────────────────────────────────────────────

  /** Starts the project's run command in a fresh sandbox built from the current documents. */
  async startRun(projectId: string, user: UserRef, configuredCommand: string | null): Promise<RunView> {
    this.assertOpen();
    const state = this.state(projectId);
    if (state.run || state.starting) throw new AppError('CONFLICT', 'The project is already running; stop it first.');
    const release = this.reserveUserSlot(user);
    state.starting = true;
    let slot: SlotGrant | null = null;
    try {
      await this.requireIsolation();
      slot = await this.waitForSlot(projectId, 'run', user);
      const { files, notice } = await this.syncWorkingCopy(projectId);
      const resolved = await this.runCommand(projectId, configuredCommand, files);
      if (!resolved) {
        throw new AppError('BAD_INPUT', 'This project has no run command. Add a tandem.json with {"run": "…"}, a package.json "start" script, or set one in the project settings.');
      }
      const row = await this.prisma.run.create({ data: { projectId, userId: user.id, command: resolved.command, status: 'running' } });
      const live: LiveRun = {
        view: {
          id: row.id, projectId, command: row.command, status: 'running', exitCode: null, durationMs: null,
          startedAt: row.startedAt.toISOString(), endedAt: null, startedBy: user, detail: null,
        },
        log: new RunOutputLog(row.id, this.keepChars),
        run: null,
        stoppedBy: null,
      };
      state.run = live;
      this.publish(projectId, RUN_EVENT, live.view);
      if (notice) {
        const end = live.log.append({ stream: 'stderr', text: notice });
        this.publish(projectId, RUN_OUTPUT_EVENT, { runId: row.id, stream: 'stderr', text: notice, end } satisfies RunOutput);
      }
      try {
        live.run = await this.host.run(projectId, resolved.command, {
          onOutput: (chunk) => {
            const end = live.log.append(chunk);
            const event: RunOutput = { runId: row.id, stream: chunk.stream === 'stderr' ? 'stderr' : 'stdout', text: chunk.text, end };
            this.publish(projectId, RUN_OUTPUT_EVENT, event);
          },
        });
      } catch (error) {
        this.track(this.finishRun(projectId, live, null, error instanceof AppError ? error.message : null));
        throw error;
      }
      this.track(live.run.done.then((result) => this.finishRun(projectId, live, result)));
      return live.view;
    } finally {
      state.starting = false;
      slot?.();
      release();
    }
  }

  /** Kills the run's whole process tree; resolves once it is gone. False if nothing was running. */
  async stopRun(projectId: string, runId: string, user: UserRef): Promise<boolean> {
    const live = this.projects.get(projectId)?.run;
    if (!live || live.view.id !== runId || !live.run) return false;
    live.stoppedBy ??= user;
    live.run.stop();
    await live.run.done;
    return true;
  }

  /** Recent runs, newest first; the live one (if any) as it is right now. */
  async listRuns(projectId: string): Promise<RunView[]> {
    const rows = await this.prisma.run.findMany({ where: { projectId }, orderBy: { startedAt: 'desc' }, take: RECENT_RUNS });
    const users = await this.prisma.user.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.userId))] } }, select: { id: true, name: true } });
    const names = new Map(users.map((u) => [u.id, u.name]));
    const state = this.projects.get(projectId);
    const inMemory = new Map([state?.run, state?.lastRun].filter((r) => !!r).map((r) => [r.view.id, r.view]));
    return rows.map((r) => inMemory.get(r.id) ?? ({
      id: r.id, projectId, command: r.command, status: r.status as RunStatus, exitCode: r.exitCode, durationMs: r.durationMs,
      startedAt: r.startedAt.toISOString(), endedAt: r.endedAt?.toISOString() ?? null,
      startedBy: { id: r.userId, name: names.get(r.userId) ?? 'Former member' },
      detail: r.detail ?? describeEnd(r.status as RunStatus, r.exitCode, this.host.limits, null),
    } satisfies RunView));
  }

  /**
   * The kept output of the live run or the last finished one (in memory), else the tail stored
   * with the run in the database (earlier runs, and every run after a restart).
   */
  async runOutput(projectId: string, runId: string): Promise<RunOutputSnapshot> {
    const state = this.projects.get(projectId);
    const live = [state?.run, state?.lastRun].find((r) => r?.view.id === runId);
    if (live) return live.log.snapshot();
    const row = await this.prisma.run.findFirst({ where: { id: runId, projectId }, select: { output: true } });
    const stored = parseStoredOutput(runId, row?.output);
    if (!stored) throw new AppError('NOT_FOUND', 'The output of this run is no longer kept.');
    return stored;
  }

  private async finishRun(projectId: string, live: LiveRun, result: RunResult | null, failure: string | null = null): Promise<void> {
    const status: RunStatus = result?.reason ?? 'error';
    const endedAt = new Date();
    live.view = {
      ...live.view,
      status,
      exitCode: result?.exitCode ?? null,
      durationMs: result?.durationMs ?? null,
      endedAt: endedAt.toISOString(),
      detail: failure ?? describeEnd(status, result?.exitCode ?? null, this.host.limits, live.stoppedBy, result?.pidsLimitHit ?? false),
    };
    const state = this.state(projectId);
    if (state.run === live) state.run = null;
    state.lastRun = live;
    try {
      // updateMany: the project may have been deleted meanwhile (its runs cascade away).
      await this.prisma.run.updateMany({
        where: { id: live.view.id },
        data: {
          status, exitCode: live.view.exitCode, durationMs: live.view.durationMs, endedAt, detail: live.view.detail,
          output: live.log.snapshot(this.storeChars) as unknown as Prisma.InputJsonValue,
        },
      });
    } catch (error) {
      this.logError(`recording the end of run ${live.view.id} failed`, error);
    }
    this.publish(projectId, RUN_EVENT, live.view);
  }

  /**
   * Holds one of the user's slots while a run or terminal starts (refused with 429 when they have
   * `maxSessionsPerUser` open or starting); the returned function releases the reservation, by
   * then the session itself counts (a live run or terminal started by the user).
   */
  private reserveUserSlot(user: UserRef): () => void {
    const open = (this.startingByUser.get(user.id) ?? 0) + this.sessionsHeldBy(user.id);
    if (open >= this.maxPerUser) {
      throw new AppError('RATE_LIMITED', `You already have ${this.maxPerUser} runs or terminals open (the limit per person); stop one first.`);
    }
    this.startingByUser.set(user.id, (this.startingByUser.get(user.id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.startingByUser.get(user.id) ?? 1) - 1;
      if (left <= 0) this.startingByUser.delete(user.id);
      else this.startingByUser.set(user.id, left);
    };
  }

  /** Runs and terminals the user started that are live. */
  private sessionsHeldBy(userId: string): number {
    let n = 0;
    for (const state of this.projects.values()) if (state.run?.view.startedBy.id === userId) n++;
    for (const terminal of this.terminals.values()) if (terminal.openedBy.id === userId) n++;
    return n;
  }

  /**
   * A free sandbox slot, at once or after waiting in the fair queue while the host is full; the
   * project's participants see the wait (QUEUE_EVENT). Call the grant once the session started.
   */
  private async waitForSlot(projectId: string, kind: 'run' | 'terminal', user: UserRef): Promise<SlotGrant> {
    const ticket = randomUUID();
    let queued = false;
    try {
      return await this.slots.acquire(user.id, (position) => {
        queued = true;
        this.publish(projectId, QUEUE_EVENT, { projectId, ticket, kind, user, position });
      });
    } finally {
      if (queued) this.publish(projectId, QUEUE_EVENT, { projectId, ticket, kind, user, position: null });
    }
  }

  // ── Terminals ─────────────────────────────────────────────────────────────────────────────

  async openTerminal(projectId: string, user: UserRef, size: TerminalSize): Promise<TerminalView> {
    this.assertOpen();
    const release = this.reserveUserSlot(user);
    let terminal: Awaited<ReturnType<SandboxHost['openTerminal']>>;
    let notice: string | null;
    let slot: SlotGrant | null = null;
    try {
      await this.requireIsolation();
      slot = await this.waitForSlot(projectId, 'terminal', user);
      try {
        ({ notice } = await this.syncWorkingCopy(projectId, { alwaysNotice: true }));
      } catch (error) {
        // A full project disk must not lock people out of the terminal they need to free space.
        if (!(error instanceof AppError) || error.code !== 'TOO_LARGE') throw error;
        notice = `[tandem] ${error.message}\n`;
      }
      terminal = await this.host.openTerminal(projectId, size);
    } finally {
      slot?.();
      release();
    }
    const session = new TerminalSession({
      terminal,
      title: this.nextTerminalTitle(projectId),
      openedBy: user,
      node: this.nodeId,
      budget: new OutputBudget(this.terminalOutput.perSecond, this.terminalOutput.burst, this.now()),
      now: this.now,
      idleMs: this.idleMs,
      onData: (s, data, end) => {
        const event: TerminalData = { terminalId: s.id, data, end };
        this.publish(s.projectId, TERMINAL_DATA_EVENT, event);
      },
      onExit: (s) => {
        this.terminals.delete(s.id);
        this.publish(s.projectId, TERMINAL_EVENT, s.view());
      },
    });
    this.terminals.set(session.id, session);
    // After the session subscribed: the notice is broadcast and counted like program output.
    if (notice) session.notice(notice.replace(/\n/g, '\r\n'));
    const view = session.view();
    this.publish(projectId, TERMINAL_EVENT, view);
    return view;
  }

  listTerminals(projectId: string): TerminalView[] {
    return [...this.terminals.values()].filter((s) => s.projectId === projectId).map((s) => s.view());
  }

  scrollback(projectId: string, terminalId: string): TerminalScrollback {
    return this.terminal(projectId, terminalId).scrollback();
  }

  /**
   * Types into a terminal. When the input ends a command line (Enter) and a document changed
   * since the working copy was last synced, the files are synced first: a command typed in the
   * terminal sees what everyone sees in the editor. Writes to one terminal keep their order.
   */
  async writeTerminal(projectId: string, terminalId: string, data: string): Promise<void> {
    const session = this.terminal(projectId, terminalId);
    await this.inputQueue.run(terminalId, async () => {
      if (/[\r\n]/.test(data) && this.state(projectId).syncedVersion !== this.files.version(projectId)) {
        try {
          const { notice } = await this.syncWorkingCopy(projectId);
          if (notice) session.notice(notice.replace(/\n/g, '\r\n'));
        } catch (error) {
          // The keystroke matters more than the refresh; the next Enter tries again.
          if (error instanceof AppError && error.code === 'TOO_LARGE') session.notice(`[tandem] ${error.message}\r\n`);
          else this.logError(`syncing the working copy of ${projectId} before terminal input failed`, error);
        }
      }
      session.write(data);
    });
  }

  resizeTerminal(projectId: string, terminalId: string, size: TerminalSize): TerminalView {
    const session = this.terminal(projectId, terminalId);
    session.resize(size.cols, size.rows);
    const view = session.view();
    this.publish(projectId, TERMINAL_EVENT, view);
    return view;
  }

  async killTerminal(projectId: string, terminalId: string): Promise<void> {
    const session = this.terminal(projectId, terminalId);
    session.kill();
    await session.closed();
  }

  // ── Generated files ───────────────────────────────────────────────────────────────────────

  /** Files programs wrote in the working copy that are not project documents (text, size-capped). */
  async generatedFiles(projectId: string): Promise<{ files: GeneratedFileView[]; skipped: { path: string; reason: string }[] }> {
    const result = await this.host.listGeneratedFiles(projectId, await this.files.paths(projectId));
    return { files: result.files.map((f) => ({ path: f.path, bytes: f.bytes })), skipped: result.skipped };
  }

  /** Adds a generated file to the project as a new document (never replaces one). */
  async importGenerated(projectId: string, path: string, user: UserRef): Promise<{ fileId: string; path: string }> {
    const result = await this.host.listGeneratedFiles(projectId, await this.files.paths(projectId));
    const file = result.files.find((f) => f.path === path);
    if (!file) throw new AppError('NOT_FOUND', `“${path}” is not a generated file of this project (any more).`);
    const created = await this.files.create(projectId, file.path, file.content, user);
    const event: GeneratedImported = { ...created, importedBy: user };
    this.publish(projectId, GENERATED_EVENT, event);
    return created;
  }

  // ── Lifecycle ─────────────────────────────────────────────────────────────────────────────

  /**
   * Reset environment (owners): stops the project's runs and terminals and deletes what programs
   * installed or wrote (node_modules, .venv, caches, generated files); the next run or terminal
   * starts from the documents alone.
   */
  async resetEnvironment(projectId: string): Promise<void> {
    this.assertOpen();
    const state = this.state(projectId);
    // Each reset unmounts, deletes and later re-creates a disk image: not something to loop on.
    const wait = state.lastResetAt + RESET_INTERVAL_MS - this.now();
    if (wait > 0) throw new AppError('RATE_LIMITED', `The environment was just reset; try again in ${Math.ceil(wait / 1000)} s.`);
    state.lastResetAt = this.now();
    await this.syncQueue.run(projectId, async () => {
      await this.host.resetEnvironment(projectId);
      state.syncedVersion = -1;
      state.skippedKey = '';
    });
  }

  /** The project was deleted: stop everything and delete its working copy. */
  async removeProject(projectId: string): Promise<void> {
    await this.host.removeWorkingCopy(projectId);
    await Promise.all([...this.recording]);
    this.projects.delete(projectId);
    this.files.forget(projectId);
  }

  /** Kills every run and terminal (recording how runs ended) and removes the host's cgroups. */
  async close(): Promise<void> {
    this.closed = true;
    this.slots.close();
    for (const timer of this.previewSyncs.values()) clearTimeout(timer);
    this.previewSyncs.clear();
    await this.host.close();
    await Promise.all([...this.recording]);
  }

  // ── Internals ─────────────────────────────────────────────────────────────────────────────

  private state(projectId: string): ProjectState {
    let state = this.projects.get(projectId);
    if (!state) this.projects.set(projectId, (state = { run: null, lastRun: null, syncedVersion: -1, starting: false, skippedKey: '', lastResetAt: -Infinity }));
    return state;
  }

  private terminal(projectId: string, terminalId: string): TerminalSession {
    const session = this.terminals.get(terminalId);
    // Terminals live on the node that opened them (TerminalView.node); with several nodes, a
    // write for a terminal owned elsewhere would be forwarded there instead of refused.
    if (!session || session.projectId !== projectId || !session.isOpen) throw new AppError('NOT_FOUND', 'This terminal is closed.');
    return session;
  }

  private nextTerminalTitle(projectId: string): string {
    const used = new Set(this.listTerminals(projectId).map((t) => t.title));
    let n = 1;
    while (used.has(`Terminal ${n}`)) n++;
    return `Terminal ${n}`;
  }

  /** Syncs the working copy if a document changed since the last sync (also for language servers). Never throws. */
  async syncIfChanged(projectId: string): Promise<boolean> {
    if (this.state(projectId).syncedVersion === this.files.version(projectId)) return false;
    try {
      await this.syncWorkingCopy(projectId);
      return true;
    } catch (error) {
      this.logError(`syncing the working copy of ${projectId} for its preview failed`, error);
      return false;
    }
  }

  /**
   * Copies the live documents into the working copy (one sync at a time per project). Files over
   * the per-file limit are left out: `notice` says which, when that list changed (or always).
   */
  private syncWorkingCopy(projectId: string, options: { alwaysNotice?: boolean } = {}): Promise<{ files: ProjectFile[]; notice: string | null }> {
    return this.syncQueue.run(projectId, async () => {
      const version = this.files.version(projectId);
      const files = await this.files.read(projectId);
      const { skipped } = await this.host.syncWorkingCopy(projectId, files);
      const state = this.state(projectId);
      state.syncedVersion = version;
      const key = skipped.map((f) => f.path).join('\0');
      const changed = key !== state.skippedKey;
      state.skippedKey = key;
      return { files, notice: skipped.length && (changed || options.alwaysNotice) ? skippedNotice(skipped) : null };
    });
  }

  private async requireIsolation(): Promise<void> {
    const report = await this.host.checkIsolation();
    if (!report.canRun) {
      throw new AppError('UNAVAILABLE', `Running code is disabled on this server because its sandbox is not available: ${report.missing.join('; ')}.`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError('UNAVAILABLE', 'The server is shutting down.');
  }

  private publish<K extends ProjectStreamEventName>(projectId: string, type: K, data: ProjectStreamEvents[K]): void {
    this.hub.publish(projectChannel(projectId), type, data);
  }

  private track(work: Promise<void>): void {
    const p = work.catch((error: unknown) => this.logError('finishing a run failed', error));
    this.recording.add(p);
    void p.finally(() => this.recording.delete(p));
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

/** A stored output tail, checked (the column is JSON), as a snapshot; null when absent. */
function parseStoredOutput(runId: string, value: unknown): RunOutputSnapshot | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Partial<RunOutputSnapshot>;
  if (!Array.isArray(v.chunks) || typeof v.end !== 'number' || typeof v.omitted !== 'number') return null;
  const chunks = v.chunks
    .filter((c) => c && typeof c.text === 'string')
    .map((c) => ({ stream: c.stream === 'stderr' ? 'stderr' as const : 'stdout' as const, text: c.text }));
  return { runId, chunks, end: v.end, omitted: v.omitted };
}

/** Why a run ended, in words, when it was not simply the program finishing by itself. */
function describeEnd(status: RunStatus, exitCode: number | null, limits: SandboxLimits, stoppedBy: UserRef | null, pidsLimitHit = false): string | null {
  switch (status) {
    case 'running':
      return null;
    case 'exit':
      return pidsLimitHit ? `It hit the process limit (${limits.pidsMax} processes and threads): some forks failed.` : null;
    case 'stopped':
      return stoppedBy ? `Stopped by ${stoppedBy.name}.` : 'Stopped.';
    case 'killed-timeout':
      return `Stopped: it ran longer than the time limit (${Math.round(limits.runTimeoutMs / 1000)} s).`;
    case 'killed-memory':
      return `Killed: it used more than the memory limit (${mib(limits.memoryBytes)}).`;
    case 'output-capped':
      return `Stopped: it printed more than the output limit (${mib(limits.outputCapBytes)}).`;
    case 'interrupted':
      return 'The server stopped during this run.';
    case 'error':
      return exitCode === null ? 'The program could not be started.' : null;
  }
}
