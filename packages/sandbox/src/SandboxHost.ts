import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '@tandem/protocol';
import { CgroupHierarchy } from './CgroupHierarchy.ts';
import { probeIsolation, requireCanRun, type IsolationReport, type SandboxLogger } from './isolation.ts';
import { osRootEntries, type SandboxTools } from './sandboxCommand.ts';
import { isDiskFullError, ProjectDisks, type DiskUsage } from './ProjectDisks.ts';
import { DEFAULT_LIMITS, resolveLimits, type SandboxLimits } from './SandboxLimits.ts';
import type { AllowEntry } from './net/EgressAllowlist.ts';
import type { SandboxNetwork } from './net/SandboxNetwork.ts';
import { SandboxProcess } from './SandboxProcess.ts';
import { SandboxRun, type RunOutputOptions } from './SandboxRun.ts';
import { SandboxTerminal, validateTerminalSize, type TerminalSize } from './SandboxTerminal.ts';
import { SessionLauncher } from './SessionLauncher.ts';
import {
  DEFAULT_GENERATED_LIMITS, WorkingCopy,
  type GeneratedFilesLimits, type GeneratedFilesResult, type ProjectFile, type SyncResult,
} from './WorkingCopy.ts';

export interface SandboxHostOptions {
  /** Working copies live in `<rootDir>/<projectId>/work`. Every parent must be searchable (o+x). */
  rootDir: string;
  limits?: Partial<SandboxLimits>;
  /**
   * Run code WITHOUT bubblewrap when isolation is missing. Off by default; for a developer's
   * machine only. Logged at error level when set and on every unsandboxed start.
   */
  allowUnsandboxed?: boolean;
  bwrapPath?: string;
  /** Host uid/gid for sandboxed code when the server runs as root (default nobody, 65534). */
  sandboxUser?: { uid: number; gid: number };
  /** Name of this host's cgroup subtree in each controller. */
  cgroupName?: string;
  /** Runs + terminals alive at once per project. */
  maxSessionsPerProject?: number;
  /** Runs + terminals alive at once on this host. */
  maxSessions?: number;
  scrollbackChars?: number;
  log?: SandboxLogger;
  /**
   * Load the seccomp filter (SeccompFilter.ts) in every sandbox. Default true; false exists only
   * so tests can show what the filter prevents.
   */
  seccomp?: boolean;
  /**
   * Per-project disk quota over everything a project writes (working copy, installed packages,
   * caches, /tmp). Default 1 GiB; 0 disables it. Needs root and loop devices (ProjectDisks).
   */
  diskQuotaBytes?: number;
  /** Project disks kept mounted at once (loop devices); idle ones past it are unmounted. Default 64. */
  maxMountedDisks?: number;
  /** A disk used within this long stays mounted whatever the cap. Default 30 s. */
  diskMountIdleMs?: number;
  /** Egress proxy + preview channel for sandboxed sessions; without it sandboxes have no network at all. */
  network?: SandboxNetwork;
}

export interface SpawnOptions {
  /** Extra environment (after the sandbox's own; the network variables win). */
  env?: Record<string, string>;
  /** Host files or folders bound read-only at absolute paths inside the sandbox. */
  binds?: { src: string; dest: string }[];
  /** Hosts this process's egress may reach beyond the deployment's list and the registries. */
  allowHosts?: readonly AllowEntry[];
  /** Overrides of the host's limits (the wall clock and output cap never apply). */
  limits?: Partial<SandboxLimits>;
  /**
   * A helper of the server's own (a language server): no network at all, and not one of the
   * project's runs (it takes no run slot; its owner caps how many it keeps).
   */
  helper?: boolean;
}

export interface RunOptions extends RunOutputOptions {
  /** Per-run overrides (e.g. a shorter timeout); validated like the host's. */
  limits?: Partial<SandboxLimits>;
}

const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_COMMAND_CHARS = 4096;
const RUN_OUTPUT_INTERVAL_MS = 25;
const TERMINAL_OUTPUT_INTERVAL_MS = 16;
const MAX_PENDING_CHARS = 64 * 1024;

const defaultLog: SandboxLogger = (level, message) => {
  const line = `[sandbox] ${message}`;
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.info(line);
};

/**
 * Runs project code and shared terminals in per-run sandboxes: bubblewrap namespaces (no
 * network, no view of the host beyond read-only /usr and a few /etc files, the project's working
 * copy as /project), an unprivileged uid, and a cgroup per run/terminal with memory, pids and CPU
 * limits. Refuses to run when isolation is missing unless `allowUnsandboxed` is set.
 */
export class SandboxHost {
  readonly rootDir: string;
  readonly limits: SandboxLimits;
  private readonly allowUnsandboxed: boolean;
  private readonly tools: SandboxTools;
  private readonly user: { uid: number; gid: number } | null;
  private readonly cgroups: CgroupHierarchy;
  private readonly maxPerProject: number;
  private readonly maxSessions: number;
  private readonly scrollbackChars: number;
  private readonly log: SandboxLogger;
  readonly network: SandboxNetwork | null;
  private readonly rootEntries = osRootEntries();
  private readonly etcDir: string;
  private readonly seccompFile: string | null;
  private readonly disks: ProjectDisks;
  private readonly launcher: SessionLauncher;
  private readonly runs = new Map<string, SandboxRun | SandboxProcess>();
  private readonly terms = new Map<string, SandboxTerminal>();
  private readonly slotListeners = new Set<() => void>();
  /** Helper processes (language servers): not runs, never counted against the slots. */
  private readonly helpers = new Map<string, SandboxProcess>();
  private isolation: Promise<IsolationReport> | null = null;
  private closing = false;

  constructor(options: SandboxHostOptions) {
    this.rootDir = resolve(options.rootDir);
    this.limits = resolveLimits(DEFAULT_LIMITS, options.limits);
    this.allowUnsandboxed = options.allowUnsandboxed ?? false;
    this.tools = { sh: '/bin/sh', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', bwrap: options.bwrapPath ?? '/usr/bin/bwrap' };
    this.user = process.getuid?.() === 0 ? (options.sandboxUser ?? { uid: 65534, gid: 65534 }) : null;
    this.cgroups = new CgroupHierarchy(options.cgroupName ?? 'tandem-sandbox');
    this.maxPerProject = options.maxSessionsPerProject ?? 4;
    this.maxSessions = options.maxSessions ?? 32;
    this.scrollbackChars = options.scrollbackChars ?? 256 * 1024;
    this.log = options.log ?? defaultLog;
    this.network = options.network ?? null;
    this.etcDir = join(this.rootDir, '.sandbox-etc');
    this.seccompFile = options.seccomp === false ? null : join(this.etcDir, 'seccomp.bpf');
    this.disks = new ProjectDisks({
      rootDir: this.rootDir, quotaBytes: options.diskQuotaBytes ?? DEFAULT_DISK_QUOTA_BYTES, owner: this.user, log: this.log,
      maxMounted: options.maxMountedDisks, mountIdleMs: options.diskMountIdleMs, isBusy: (id) => this.activeRuns(id).length + this.terminals(id).length + this.processes(id).length > 0,
    });
    this.launcher = new SessionLauncher({
      rootDir: this.rootDir, etcDir: this.etcDir, tools: this.tools, user: this.user, seccompFile: this.seccompFile,
      rootEntries: this.rootEntries, cgroups: this.cgroups, disks: this.disks, network: this.network,
    });
    if (this.allowUnsandboxed) {
      this.log('error', 'allowUnsandboxed is set: if isolation is missing, project code will run WITHOUT a sandbox (no namespaces, full network). Never use this in production.');
    }
  }

  /**
   * What isolation is available. Probed once (a real sandboxed `true`), then cached; pass
   * `refresh` after fixing the host (e.g. installing bubblewrap) to probe again.
   */
  checkIsolation(options: { refresh?: boolean } = {}): Promise<IsolationReport> {
    if (options.refresh) this.isolation = null;
    this.isolation ??= this.probe();
    return this.isolation;
  }

  /**
   * Copies the documents into the working copy. Files over the per-file limit are left out and
   * listed in `skipped` (say so to the user); a full project disk is a clear TOO_LARGE error.
   */
  async syncWorkingCopy(projectId: string, files: readonly ProjectFile[]): Promise<SyncResult> {
    const wc = await this.workingCopy(projectId);
    try {
      return wc.sync(files);
    } catch (e) {
      if (isDiskFullError(e)) throw new AppError('TOO_LARGE', this.disks.fullMessage(), (e as Error).message);
      throw e;
    }
  }

  /**
   * Writes some documents into the working copy (`WorkingCopy.put`), leaving the others as they
   * are. `known`: every one of them was synced or put before (saves reading the synced list).
   */
  async putWorkingCopyFiles(projectId: string, files: readonly ProjectFile[], options: { known?: boolean } = {}): Promise<SyncResult> {
    const wc = await this.workingCopy(projectId);
    try {
      return wc.put(files, options.known);
    } catch (e) {
      if (isDiskFullError(e)) throw new AppError('TOO_LARGE', this.disks.fullMessage(), (e as Error).message);
      throw e;
    }
  }

  async listGeneratedFiles(projectId: string, knownPaths: Iterable<string>, limits?: Partial<GeneratedFilesLimits>): Promise<GeneratedFilesResult> {
    return (await this.workingCopy(projectId)).listGenerated(knownPaths, { ...DEFAULT_GENERATED_LIMITS, ...limits });
  }

  /** Stops the project's runs and terminals, then deletes its working copy and environment. */
  async removeWorkingCopy(projectId: string): Promise<void> {
    validateProjectId(projectId);
    // Ordered with other uses: a sync or run asked for after this call gets a fresh disk.
    await this.disks.remove(projectId, () => this.stopProject(projectId));
  }

  /**
   * Reset environment: stops the project's runs and terminals and deletes everything programs
   * wrote (installed packages, caches, generated files); the next run or terminal starts from
   * the documents alone.
   */
  async resetEnvironment(projectId: string): Promise<void> {
    await this.removeWorkingCopy(projectId);
  }

  /** Space the project uses on its disk, or null without a quota (or before its first use). */
  diskUsage(projectId: string): DiskUsage | null {
    validateProjectId(projectId);
    return this.disks.usage(projectId);
  }

  /** Runs a shell command (`/bin/sh -c`) in /project. Call syncWorkingCopy first. */
  async run(projectId: string, command: string, options: RunOptions = {}): Promise<SandboxRun> {
    validateProjectId(projectId);
    if (typeof command !== 'string' || !command.trim() || command.length > MAX_COMMAND_CHARS || command.includes('\0')) {
      throw new AppError('BAD_INPUT', 'The run command is empty or invalid.');
    }
    const wc = await this.workingCopy(projectId);
    const limits = resolveLimits(this.limits, options.limits);
    const report = await this.requireIsolation();
    this.checkCapacity(projectId);
    wc.ensure();
    const id = `run-${randomUUID()}`;
    const launch = this.launcher.launch({
      id, projectId, workDir: wc.workDir, limits, report, command: ['/bin/sh', '-c', command], network: {}, newSession: true,
    });
    if (!report.sandboxed) this.log('error', `UNSANDBOXED run of project ${projectId}: ${command}`);
    const run = this.launcher.startOrCleanUp(id, launch, () => new SandboxRun({
      id, projectId, command, argv: launch.argv, cwd: wc.workDir, cgroup: launch.cgroup, limits, env: launch.env,
      sandboxed: report.sandboxed,
      outputIntervalMs: RUN_OUTPUT_INTERVAL_MS,
      maxPendingChars: MAX_PENDING_CHARS,
      onError: (m, e) => this.log('warn', `${m}: ${(e as Error)?.message ?? String(e)}`),
      diskFullNotice: () => (this.disks.isFull(projectId) ? this.disks.fullMessage() : null),
    }, options));
    this.runs.set(id, run);
    void run.done.then(() => {
      this.runs.delete(id);
      this.launcher.release(id, launch);
      this.slotFreed();
    });
    return run;
  }

  /**
   * Starts a long-lived program (argv, no shell) in /project that talks over stdin/stdout, e.g.
   * an ACP agent. Same isolation and cgroup limits as a run, no wall-clock limit: the caller
   * kills it. Counts as a run of the project, unless it is a `helper` (then it has no network).
   */
  async spawn(projectId: string, argv: readonly string[], options: SpawnOptions = {}): Promise<SandboxProcess> {
    validateProjectId(projectId);
    if (argv.length === 0 || argv.some((a) => typeof a !== 'string' || a.includes('\0')) || argv.join(' ').length > MAX_COMMAND_CHARS) {
      throw new AppError('BAD_INPUT', 'The program to start is empty or invalid.');
    }
    if (Object.entries(options.env ?? {}).some(([k, v]) => !ENV_NAME.test(k) || v.includes('\0'))) throw new AppError('BAD_INPUT', 'Invalid environment variable.');
    const wc = await this.workingCopy(projectId);
    const report = await this.requireIsolation();
    if (this.closing) throw new AppError('UNAVAILABLE', 'The sandbox host is shutting down.');
    if (!options.helper) this.checkCapacity(projectId);
    wc.ensure();
    const limits = resolveLimits(this.limits, options.limits);
    const id = `proc-${randomUUID()}`;
    const launch = this.launcher.launch({
      id, projectId, workDir: wc.workDir, limits, report, command: argv, secretEnv: options.env, binds: options.binds,
      network: options.helper ? null : { allowHosts: options.allowHosts }, newSession: true,
    });
    if (!report.sandboxed) this.log('error', `UNSANDBOXED process of project ${projectId}: ${argv.join(' ')}`);
    const proc = this.launcher.startOrCleanUp(id, launch, () => new SandboxProcess({
      id, projectId, argv: launch.argv, cwd: wc.workDir, cgroup: launch.cgroup, env: launch.env,
      onError: (m, e) => this.log('warn', `${m}: ${(e as Error)?.message ?? String(e)}`),
    }));
    const sessions = options.helper ? this.helpers : this.runs;
    sessions.set(id, proc);
    void proc.done.then(() => {
      sessions.delete(id);
      this.launcher.release(id, launch);
    });
    return proc;
  }

  /** Opens an interactive bash in the project's sandbox. Terminals have no wall-clock limit. */
  async openTerminal(projectId: string, size: TerminalSize): Promise<SandboxTerminal> {
    validateProjectId(projectId);
    const { cols, rows } = validateTerminalSize(size?.cols, size?.rows);
    const report = await this.requireIsolation();
    this.checkCapacity(projectId);
    const wc = await this.workingCopy(projectId);
    wc.ensure();
    const id = `term-${randomUUID()}`;
    const launch = this.launcher.launch({
      id, projectId, workDir: wc.workDir, limits: this.limits, report, command: ['/bin/bash', '--noprofile', '--norc', '-i'],
      env: { TERM: 'xterm-256color', PS1: '\\w\\$ ' }, outerEnv: { TERM: 'xterm-256color' }, network: {}, newSession: false,
    });
    if (!report.sandboxed) this.log('error', `UNSANDBOXED terminal for project ${projectId}`);
    const term = this.launcher.startOrCleanUp(id, launch, () => new SandboxTerminal({
      id, projectId, argv: launch.argv, cwd: wc.workDir, cgroup: launch.cgroup, size: { cols, rows }, env: launch.env,
      scrollbackChars: this.scrollbackChars,
      outputIntervalMs: TERMINAL_OUTPUT_INTERVAL_MS,
      maxPendingChars: MAX_PENDING_CHARS,
      onError: (m, e) => this.log('warn', `${m}: ${(e as Error)?.message ?? String(e)}`),
    }));
    this.terms.set(id, term);
    void term.closed.then(() => {
      this.terms.delete(id);
      this.launcher.release(id, launch);
      this.slotFreed();
    });
    return term;
  }

  /** Runs + terminals that could start now before the host is full (`maxSessions`). */
  freeSlots(): number {
    return Math.max(0, this.maxSessions - this.runs.size - this.terms.size);
  }

  /** Calls `listener` whenever a run or terminal ended (a slot became free). */
  onSlotFreed(listener: () => void): () => void {
    this.slotListeners.add(listener);
    return () => this.slotListeners.delete(listener);
  }

  private slotFreed(): void {
    for (const listener of this.slotListeners) listener();
  }

  /** The project's helper processes (`spawn` with `helper`). */
  processes(projectId: string): SandboxProcess[] {
    return [...this.helpers.values()].filter((p) => p.projectId === projectId);
  }

  getTerminal(id: string): SandboxTerminal | undefined {
    return this.terms.get(id);
  }

  terminals(projectId: string): SandboxTerminal[] {
    return [...this.terms.values()].filter((t) => t.projectId === projectId);
  }

  activeRuns(projectId: string): Array<SandboxRun | SandboxProcess> {
    return [...this.runs.values()].filter((r) => r.projectId === projectId);
  }

  /** Kills every run, terminal and helper process of a project and waits until they are gone. */
  async stopProject(projectId: string): Promise<void> {
    const runs = this.activeRuns(projectId);
    const terms = this.terminals(projectId);
    const procs = this.processes(projectId);
    for (const r of runs) stopSession(r);
    for (const t of terms) t.kill();
    for (const p of procs) p.kill();
    await Promise.all([...runs.map((r) => r.done), ...terms.map((t) => t.closed), ...procs.map((p) => p.done)]);
  }

  /** Kills everything and removes this host's cgroups. */
  async close(): Promise<void> {
    this.closing = true;
    const runs = [...this.runs.values()];
    const terms = [...this.terms.values()];
    const procs = [...this.helpers.values()];
    for (const r of runs) stopSession(r);
    for (const t of terms) t.kill();
    for (const p of procs) p.kill();
    await Promise.all([...runs.map((r) => r.done), ...terms.map((t) => t.closed), ...procs.map((p) => p.done)]);
    await this.cgroups.close();
    await this.disks.close();
  }

  private async workingCopy(projectId: string): Promise<WorkingCopy> {
    validateProjectId(projectId);
    mkdirSync(this.rootDir, { recursive: true, mode: 0o711 });
    const disk = await this.disks.ensure(projectId);
    return new WorkingCopy(disk.projectDir, this.user, disk.workDir);
  }

  private checkCapacity(projectId: string): void {
    if (this.closing) throw new AppError('UNAVAILABLE', 'The sandbox host is shutting down.');
    if (this.runs.size + this.terms.size >= this.maxSessions) {
      throw new AppError('RATE_LIMITED', 'The server is running too many programs right now; try again shortly.');
    }
    if (this.activeRuns(projectId).length + this.terminals(projectId).length >= this.maxPerProject) {
      throw new AppError('RATE_LIMITED', `This project already has ${this.maxPerProject} runs or terminals open; stop one first.`);
    }
  }

  private async requireIsolation(): Promise<IsolationReport> {
    return requireCanRun(await this.checkIsolation());
  }

  private probe(): Promise<IsolationReport> {
    return probeIsolation({
      rootDir: this.rootDir, etcDir: this.etcDir, user: this.user, tools: this.tools, limits: this.limits,
      seccompFile: this.seccompFile, rootEntries: this.rootEntries, cgroups: this.cgroups, disks: this.disks,
      createCgroup: (id) => this.launcher.createCgroup(id, this.limits),
      allowUnsandboxed: this.allowUnsandboxed, log: this.log,
    });
  }
}

const DEFAULT_DISK_QUOTA_BYTES = 1024 * 1024 * 1024;

function stopSession(s: SandboxRun | SandboxProcess): void {
  if (s instanceof SandboxProcess) s.kill();
  else s.stop();
}

function validateProjectId(projectId: string): void {
  if (typeof projectId !== 'string' || !PROJECT_ID.test(projectId)) throw new AppError('BAD_INPUT', 'Invalid project id.');
}

