import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants as fsc, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AppError } from '@tandem/protocol';
import { CgroupHierarchy } from './CgroupHierarchy.ts';
import type { RunCgroup } from './RunCgroup.ts';
import { osRootEntries, SANDBOX_PROJECT_DIR, sandboxArgv, sandboxEnv, type SandboxTools } from './sandboxCommand.ts';
import { DEFAULT_LIMITS, resolveLimits, type SandboxLimits } from './SandboxLimits.ts';
import type { SandboxNetwork, SessionNetworkSpec } from './net/SandboxNetwork.ts';
import { SandboxRun, type RunOutputOptions } from './SandboxRun.ts';
import { SandboxTerminal, validateTerminalSize, type TerminalSize } from './SandboxTerminal.ts';
import {
  DEFAULT_GENERATED_LIMITS, WorkingCopy,
  type GeneratedFilesLimits, type GeneratedFilesResult, type ProjectFile, type SyncResult,
} from './WorkingCopy.ts';

export type SandboxLogger = (level: 'info' | 'warn' | 'error', message: string) => void;

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
  /** Egress proxy + preview channel for sandboxed sessions; without it sandboxes have no network at all. */
  network?: SandboxNetwork;
}

export interface IsolationReport {
  /** Full isolation (bubblewrap + cgroups) works: runs are sandboxed. */
  sandboxed: boolean;
  /** Runs are allowed: sandboxed, or allowUnsandboxed was given. */
  canRun: boolean;
  /** What is missing, in words an operator can act on. Empty when sandboxed. */
  missing: string[];
  bwrapPath: string;
  cgroups: boolean;
  /** uid/gid programs run as; null when the server is not root (they run as the server user). */
  user: { uid: number; gid: number } | null;
  /** Time of the probe run (`true` in a full sandbox), when it ran. */
  probeMs: number | null;
}

export interface RunOptions extends RunOutputOptions {
  /** Per-run overrides (e.g. a shorter timeout); validated like the host's. */
  limits?: Partial<SandboxLimits>;
}

const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_COMMAND_CHARS = 4096;
const RUN_OUTPUT_INTERVAL_MS = 25;
const TERMINAL_OUTPUT_INTERVAL_MS = 16;
const MAX_PENDING_CHARS = 64 * 1024;
const PROBE_TIMEOUT_MS = 10_000;

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
  private readonly runs = new Map<string, SandboxRun>();
  private readonly terms = new Map<string, SandboxTerminal>();
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

  async syncWorkingCopy(projectId: string, files: readonly ProjectFile[]): Promise<SyncResult> {
    return this.workingCopy(projectId).sync(files);
  }

  async listGeneratedFiles(projectId: string, knownPaths: Iterable<string>, limits?: Partial<GeneratedFilesLimits>): Promise<GeneratedFilesResult> {
    return this.workingCopy(projectId).listGenerated(knownPaths, { ...DEFAULT_GENERATED_LIMITS, ...limits });
  }

  /** Stops the project's runs and terminals, then deletes its working copy. */
  async removeWorkingCopy(projectId: string): Promise<void> {
    const wc = this.workingCopy(projectId);
    await this.stopProject(projectId);
    wc.remove();
  }

  /** Runs a shell command (`/bin/sh -c`) in /project. Call syncWorkingCopy first. */
  async run(projectId: string, command: string, options: RunOptions = {}): Promise<SandboxRun> {
    const wc = this.workingCopy(projectId);
    if (typeof command !== 'string' || !command.trim() || command.length > MAX_COMMAND_CHARS || command.includes('\0')) {
      throw new AppError('BAD_INPUT', 'The run command is empty or invalid.');
    }
    const limits = resolveLimits(this.limits, options.limits);
    const report = await this.requireIsolation();
    this.checkCapacity(projectId);
    wc.ensure();
    const id = `run-${randomUUID()}`;
    const cgroup = this.createCgroup(id, limits, report);
    const home = report.sandboxed ? SANDBOX_PROJECT_DIR : wc.workDir;
    const net = this.attachNetwork(id, projectId, report);
    const env = sandboxEnv(home, net?.env);
    const argv = sandboxArgv({
      tools: { ...this.tools, bwrap: report.sandboxed ? this.tools.bwrap : null },
      cgroupProcsFiles: cgroup?.procsFiles() ?? [],
      limits, user: this.user, workDir: wc.workDir, etcDir: this.etcDir, env,
      newSession: true,
      extraBinds: net?.binds,
      argv: net ? net.wrap(['/bin/sh', '-c', command]) : ['/bin/sh', '-c', command],
    }, this.rootEntries);
    if (!report.sandboxed) this.log('error', `UNSANDBOXED run of project ${projectId}: ${command}`);
    const run = this.startOrCleanUp(cgroup, id, () => new SandboxRun({
      id, projectId, command, argv, cwd: wc.workDir, cgroup, limits,
      env: report.sandboxed ? { PATH: '/usr/bin:/bin' } : env,
      sandboxed: report.sandboxed,
      outputIntervalMs: RUN_OUTPUT_INTERVAL_MS,
      maxPendingChars: MAX_PENDING_CHARS,
      onError: (m, e) => this.log('warn', `${m}: ${(e as Error)?.message ?? String(e)}`),
    }, options));
    this.runs.set(id, run);
    void run.done.then(() => {
      this.runs.delete(id);
      this.network?.release(id);
    });
    return run;
  }

  /** Opens an interactive bash in the project's sandbox. Terminals have no wall-clock limit. */
  async openTerminal(projectId: string, size: TerminalSize): Promise<SandboxTerminal> {
    const wc = this.workingCopy(projectId);
    const { cols, rows } = validateTerminalSize(size?.cols, size?.rows);
    const report = await this.requireIsolation();
    this.checkCapacity(projectId);
    wc.ensure();
    const id = `term-${randomUUID()}`;
    const cgroup = this.createCgroup(id, this.limits, report);
    const home = report.sandboxed ? SANDBOX_PROJECT_DIR : wc.workDir;
    const net = this.attachNetwork(id, projectId, report);
    const env = sandboxEnv(home, { TERM: 'xterm-256color', PS1: '\\w\\$ ', ...net?.env });
    const shell = ['/bin/bash', '--noprofile', '--norc', '-i'];
    const argv = sandboxArgv({
      tools: { ...this.tools, bwrap: report.sandboxed ? this.tools.bwrap : null },
      cgroupProcsFiles: cgroup?.procsFiles() ?? [],
      limits: this.limits, user: this.user, workDir: wc.workDir, etcDir: this.etcDir, env,
      newSession: false,
      extraBinds: net?.binds,
      argv: net ? net.wrap(shell) : shell,
    }, this.rootEntries);
    if (!report.sandboxed) this.log('error', `UNSANDBOXED terminal for project ${projectId}`);
    const term = this.startOrCleanUp(cgroup, id, () => new SandboxTerminal({
      id, projectId, argv, cwd: wc.workDir, cgroup, size: { cols, rows },
      env: report.sandboxed ? { PATH: '/usr/bin:/bin', TERM: 'xterm-256color' } : env,
      scrollbackChars: this.scrollbackChars,
      outputIntervalMs: TERMINAL_OUTPUT_INTERVAL_MS,
      maxPendingChars: MAX_PENDING_CHARS,
      onError: (m, e) => this.log('warn', `${m}: ${(e as Error)?.message ?? String(e)}`),
    }));
    this.terms.set(id, term);
    void term.closed.then(() => {
      this.terms.delete(id);
      this.network?.release(id);
    });
    return term;
  }

  getTerminal(id: string): SandboxTerminal | undefined {
    return this.terms.get(id);
  }

  terminals(projectId: string): SandboxTerminal[] {
    return [...this.terms.values()].filter((t) => t.projectId === projectId);
  }

  activeRuns(projectId: string): SandboxRun[] {
    return [...this.runs.values()].filter((r) => r.projectId === projectId);
  }

  /** Kills every run and terminal of a project and waits until they are gone. */
  async stopProject(projectId: string): Promise<void> {
    const runs = this.activeRuns(projectId);
    const terms = this.terminals(projectId);
    for (const r of runs) r.stop();
    for (const t of terms) t.kill();
    await Promise.all([...runs.map((r) => r.done), ...terms.map((t) => t.closed)]);
  }

  /** Kills everything and removes this host's cgroups. */
  async close(): Promise<void> {
    this.closing = true;
    const runs = [...this.runs.values()];
    const terms = [...this.terms.values()];
    for (const r of runs) r.stop();
    for (const t of terms) t.kill();
    await Promise.all([...runs.map((r) => r.done), ...terms.map((t) => t.closed)]);
    await this.cgroups.close();
  }

  private workingCopy(projectId: string): WorkingCopy {
    if (typeof projectId !== 'string' || !PROJECT_ID.test(projectId)) throw new AppError('BAD_INPUT', 'Invalid project id.');
    mkdirSync(this.rootDir, { recursive: true, mode: 0o711 });
    return new WorkingCopy(join(this.rootDir, projectId), this.user);
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
    const report = await this.checkIsolation();
    if (report.canRun) return report;
    throw new AppError(
      'UNAVAILABLE',
      `Running code is disabled on this server because its sandbox is not available: ${report.missing.join('; ')}.`,
      'Install bubblewrap, mount cgroup v1 memory/pids/cpu writable, run the server as root; or (development only) set allowUnsandboxed.',
    );
  }

  /** The session's network door (egress proxy + preview), only for fully sandboxed sessions. */
  private attachNetwork(id: string, projectId: string, report: IsolationReport): SessionNetworkSpec | null {
    if (!report.sandboxed || !this.network) return null;
    return this.network.attach(id, projectId);
  }

  private createCgroup(id: string, limits: SandboxLimits, report: IsolationReport): RunCgroup | null {
    if (!report.cgroups) return null;
    let cg: RunCgroup | null = null;
    try {
      cg = this.cgroups.create(id);
      cg.applyLimits(limits);
      return cg;
    } catch (e) {
      void cg?.destroy();
      throw new AppError('INTERNAL', 'Could not set up resource limits for the program.', (e as Error).message);
    }
  }

  /** Starts a run/terminal; if spawning throws, its cgroup is removed and the error is an AppError. */
  private startOrCleanUp<T>(cgroup: RunCgroup | null, id: string, start: () => T): T {
    try {
      return start();
    } catch (e) {
      void cgroup?.destroy();
      this.network?.release(id);
      throw new AppError('INTERNAL', 'The program could not be started.', (e as Error).message);
    }
  }

  private async probe(): Promise<IsolationReport> {
    const missing: string[] = [];
    const bwrapPath = this.tools.bwrap!;
    for (const [what, path] of [['bubblewrap (bwrap)', bwrapPath], ['setpriv (util-linux)', this.tools.setpriv], ['prlimit (util-linux)', this.tools.prlimit]] as const) {
      if (!isExecutable(path)) missing.push(`${what} not found at ${path}`);
    }
    const cg = this.cgroups.prepare();
    if (!cg.ok) missing.push(cg.problem);
    else {
      const stale = await this.cgroups.removeStale();
      if (stale) this.log('info', `removed ${stale} cgroup subtree(s) left by a previous server`);
    }
    try {
      this.prepareRootDir();
    } catch (e) {
      missing.push(`cannot prepare ${this.rootDir} (${(e as Error).message})`);
    }
    let probeMs: number | null = null;
    if (missing.length === 0) {
      const result = await this.probeSandbox();
      probeMs = result.ms;
      if (result.problem) missing.push(result.problem);
    }
    const sandboxed = missing.length === 0;
    if (!sandboxed) {
      this.log(this.allowUnsandboxed ? 'error' : 'warn', `sandbox isolation unavailable: ${missing.join('; ')}${this.allowUnsandboxed ? ' — RUNNING UNSANDBOXED (allowUnsandboxed)' : ' — runs are refused'}`);
    }
    return {
      sandboxed, canRun: sandboxed || this.allowUnsandboxed, missing, bwrapPath, cgroups: cg.ok,
      user: this.user, probeMs,
    };
  }

  /** Root dir (traverse-only) and the synthetic /etc files every sandbox sees. */
  private prepareRootDir(): void {
    mkdirSync(this.rootDir, { recursive: true, mode: 0o711 });
    mkdirSync(this.etcDir, { recursive: true, mode: 0o755 });
    const uid = this.user?.uid ?? process.getuid?.() ?? 65534;
    const gid = this.user?.gid ?? process.getgid?.() ?? 65534;
    writeFileSync(join(this.etcDir, 'passwd'), `root:x:0:0:root:/root:/bin/sh\nsandbox:x:${uid}:${gid}:sandbox:${SANDBOX_PROJECT_DIR}:/bin/bash\n`, { mode: 0o644 });
    writeFileSync(join(this.etcDir, 'group'), `root:x:0:\nsandbox:x:${gid}:\n`, { mode: 0o644 });
    writeFileSync(join(this.etcDir, 'hosts'), '127.0.0.1 localhost sandbox\n::1 localhost\n', { mode: 0o644 });
  }

  /** Runs `true` in a complete sandbox (cgroup, uid switch, bwrap) against a scratch working copy. */
  private async probeSandbox(): Promise<{ ms: number; problem: string | null }> {
    const wc = new WorkingCopy(join(this.rootDir, '.probe'), this.user);
    const report = { cgroups: true } as IsolationReport;
    let cg: RunCgroup | null = null;
    const t0 = performance.now();
    try {
      wc.ensure();
      cg = this.createCgroup(`probe-${randomUUID()}`, this.limits, report);
      const argv = sandboxArgv({
        tools: this.tools, cgroupProcsFiles: cg?.procsFiles() ?? [], limits: this.limits, user: this.user,
        workDir: wc.workDir, etcDir: this.etcDir, env: sandboxEnv(SANDBOX_PROJECT_DIR), newSession: true, argv: ['true'],
      }, this.rootEntries);
      const { code, stderr } = await runToEnd(argv, PROBE_TIMEOUT_MS);
      const ms = performance.now() - t0;
      if (code === 0) return { ms, problem: null };
      return { ms, problem: `bubblewrap could not start a sandbox (exit ${code}: ${stderr.trim().slice(0, 300) || 'no message'}); check unprivileged user namespaces and that ${this.rootDir} and its parents are searchable by uid ${this.user?.uid ?? 'of the server'}` };
    } catch (e) {
      return { ms: performance.now() - t0, problem: `sandbox probe failed: ${(e as Error).message}` };
    } finally {
      await cg?.destroy();
    }
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

function runToEnd(argv: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolvePromise) => {
    // Cast: apps whose global types make NODE_ENV a required env key (Next's) compile this too.
    const env = { PATH: '/usr/bin:/bin' } as unknown as NodeJS.ProcessEnv;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolvePromise({ code: null, stderr: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stderr });
    });
  });
}
