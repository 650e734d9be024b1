import { hostname } from 'node:os';
import { AppError, type ProjectStreamEventName, type ProjectStreamEvents } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import { ENVIRONMENT_DIRS, type ProjectFile, type SandboxHost, type SandboxLimits, type TerminalSize } from '@tandem/sandbox';
import { projectChannel, type EventHub } from '../EventHub.ts';
import type { LiveProjectFiles } from './LiveProjectFiles.ts';
import type { ProjectBlobs } from '../files/ProjectBlobs.ts';
import { RunSessions, type RunCommandSource } from './RunSessions.ts';
import {
  GENERATED_EVENT,
  type GeneratedImported, type RunOutputSnapshot, type RunView, type TerminalScrollback, type TerminalView, type UserRef,
} from './sandboxEvents.ts';
import { SessionGate } from './SessionGate.ts';
import { TerminalSessions } from './TerminalSessions.ts';
import { WorkingCopySync } from './WorkingCopySync.ts';

export interface SandboxServiceOptions {
  host: SandboxHost;
  files: LiveProjectFiles;
  /** Binary files: copied into working copies, and program-made ones importable (absent: text only). */
  blobs?: ProjectBlobs;
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
  /** Not text: imported as a binary file. */
  binary?: boolean;
}

/**
 * Runs and shared terminals of projects, on top of the sandbox host: builds each sandbox from
 * the live documents, fans output out to every participant through the EventHub, records runs in
 * the database, and keeps what a participant needs to reattach after a reload. Authorization
 * (editors run and type, viewers watch) is the router's job. The pieces: RunSessions,
 * TerminalSessions, WorkingCopySync (documents → working copy) and SessionGate (per-user cap,
 * fair queue for host slots).
 */
export class SandboxService {
  readonly host: SandboxHost;
  private readonly files: LiveProjectFiles;
  private readonly blobs: ProjectBlobs | undefined;
  private readonly hub: EventHub;
  private readonly sync: WorkingCopySync;
  private readonly gate: SessionGate;
  private readonly runs: RunSessions;
  private readonly terminals: TerminalSessions;
  private closed = false;

  constructor(options: SandboxServiceOptions) {
    this.host = options.host;
    this.files = options.files;
    this.blobs = options.blobs;
    this.hub = options.hub;
    const now = options.now ?? Date.now;
    const logError = options.logError ?? ((m, e) => console.error(`[sandbox] ${m}`, e));
    const publish = this.publish.bind(this);
    this.sync = new WorkingCopySync({ host: this.host, files: this.files, blobs: this.blobs, now, logError });
    this.gate = new SessionGate({
      host: this.host, maxPerUser: options.maxSessionsPerUser ?? 4, queue: options.queue ?? { maxWaiting: 64, timeoutMs: 60_000 },
      heldBy: (userId) => this.runs.heldBy(userId) + this.terminals.heldBy(userId), publish,
    });
    this.runs = new RunSessions({
      host: this.host, files: this.files, prisma: options.prisma, sync: this.sync, gate: this.gate, publish, logError,
      keepChars: options.runOutputKeepChars ?? 256 * 1024, storeChars: options.runOutputStoreChars ?? 64 * 1024,
    });
    this.terminals = new TerminalSessions({
      host: this.host, sync: this.sync, gate: this.gate, publish, now, logError,
      nodeId: options.nodeId ?? `${hostname()}:${process.pid}`,
      idleMs: options.terminalIdleMs ?? 15 * 60 * 1000,
      output: options.terminalOutput ?? { perSecond: 256 * 1024, burst: 1024 * 1024 },
    });
  }

  /**
   * Runs left `running` in the database by a server that stopped mid-run are marked
   * `interrupted`. Call once at start-up; with several nodes, for one project when this node
   * takes the project over (its previous node stopped).
   */
  recoverInterruptedRuns(projectId?: string): Promise<number> {
    return this.runs.recoverInterrupted(projectId);
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
  runCommand(projectId: string, configuredCommand: string | null, files?: ProjectFile[]): Promise<SandboxStatus['runCommand']> {
    return this.runs.command(projectId, configuredCommand, files);
  }

  // ── Runs (RunSessions) ────────────────────────────────────────────────────────────────────

  /** Starts the project's run command in a fresh sandbox built from the current documents. */
  async startRun(projectId: string, user: UserRef, configuredCommand: string | null): Promise<RunView> {
    this.assertOpen();
    return this.runs.start(projectId, user, configuredCommand);
  }

  /** Kills the run's whole process tree; resolves once it is gone. False if nothing was running. */
  stopRun(projectId: string, runId: string, user: UserRef): Promise<boolean> {
    return this.runs.stop(projectId, runId, user);
  }

  /** Recent runs, newest first; the live one (if any) as it is right now. */
  listRuns(projectId: string): Promise<RunView[]> {
    return this.runs.list(projectId);
  }

  /** The kept output of a run: in memory for the live and last one, else the stored tail. */
  runOutput(projectId: string, runId: string): Promise<RunOutputSnapshot> {
    return this.runs.output(projectId, runId);
  }

  // ── Terminals (TerminalSessions) ──────────────────────────────────────────────────────────

  async openTerminal(projectId: string, user: UserRef, size: TerminalSize): Promise<TerminalView> {
    this.assertOpen();
    return this.terminals.open(projectId, user, size);
  }

  listTerminals(projectId: string): TerminalView[] {
    return this.terminals.list(projectId);
  }

  scrollback(projectId: string, terminalId: string): TerminalScrollback {
    return this.terminals.scrollback(projectId, terminalId);
  }

  /** Types into a terminal, in order; Enter first syncs documents changed since the last sync. */
  writeTerminal(projectId: string, terminalId: string, data: string): Promise<void> {
    return this.terminals.write(projectId, terminalId, data);
  }

  resizeTerminal(projectId: string, terminalId: string, size: TerminalSize): TerminalView {
    return this.terminals.resize(projectId, terminalId, size);
  }

  killTerminal(projectId: string, terminalId: string): Promise<void> {
    return this.terminals.kill(projectId, terminalId);
  }

  // ── Generated files ───────────────────────────────────────────────────────────────────────

  /** Files programs wrote in the working copy that are not project documents (size-capped; binary ones when blobs are on). */
  async generatedFiles(projectId: string): Promise<{ files: GeneratedFileView[]; skipped: { path: string; reason: string }[] }> {
    const result = await this.listGenerated(projectId);
    const files: GeneratedFileView[] = [
      ...result.files.map((f) => ({ path: f.path, bytes: f.bytes })),
      ...result.binaries.map((f) => ({ path: f.path, bytes: f.data.length, binary: true })),
    ];
    return { files: files.sort((a, b) => (a.path < b.path ? -1 : 1)), skipped: result.skipped };
  }

  /** Adds a generated file to the project as a new document or binary file (never replaces one). */
  async importGenerated(projectId: string, path: string, user: UserRef): Promise<{ fileId: string; path: string }> {
    const result = await this.listGenerated(projectId);
    const file = result.files.find((f) => f.path === path);
    const binary = result.binaries.find((f) => f.path === path);
    if (!file && !binary) throw new AppError('NOT_FOUND', `“${path}” is not a generated file of this project (any more).`);
    const { fileId, path: createdPath } = binary
      ? await this.blobs!.write(projectId, binary.path, binary.data, user, { create: true })
      : await this.files.create(projectId, file!.path, file!.content, user);
    const created = { fileId, path: createdPath };
    const event: GeneratedImported = { ...created, importedBy: user };
    this.publish(projectId, GENERATED_EVENT, event);
    return created;
  }

  private async listGenerated(projectId: string) {
    const known = await this.files.paths(projectId);
    return this.host.listGeneratedFiles(projectId, known, this.blobs ? { maxBinaryFileBytes: this.blobs.maxFileBytes, maxTotalBytes: 4 * this.blobs.maxFileBytes } : {});
  }

  // ── Lifecycle ─────────────────────────────────────────────────────────────────────────────

  /**
   * Reset environment (owners): stops the project's runs and terminals and deletes what programs
   * installed or wrote (node_modules, .venv, caches, generated files); the next run or terminal
   * starts from the documents alone.
   */
  async resetEnvironment(projectId: string): Promise<void> {
    this.assertOpen();
    await this.sync.reset(projectId);
  }

  /** Syncs the working copy if a document changed since the last sync (also for language servers). Never throws. */
  syncIfChanged(projectId: string): Promise<boolean> {
    return this.sync.syncIfChanged(projectId);
  }

  /** The project was deleted: stop everything and delete its working copy. */
  async removeProject(projectId: string): Promise<void> {
    await this.host.removeWorkingCopy(projectId);
    await this.runs.settled();
    this.runs.forget(projectId);
    this.sync.forget(projectId);
    this.files.forget(projectId);
  }

  /** Kills every run and terminal (recording how runs ended) and removes the host's cgroups. */
  async close(): Promise<void> {
    this.closed = true;
    this.gate.close();
    this.sync.close();
    await this.host.close();
    await this.runs.settled();
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError('UNAVAILABLE', 'The server is shutting down.');
  }

  private publish<K extends ProjectStreamEventName>(projectId: string, type: K, data: ProjectStreamEvents[K]): void {
    this.hub.publish(projectChannel(projectId), type, data);
  }
}
