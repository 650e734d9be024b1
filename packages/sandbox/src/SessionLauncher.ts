import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '@tandem/protocol';
import type { CgroupHierarchy } from './CgroupHierarchy.ts';
import type { IsolationReport } from './isolation.ts';
import type { ProjectDisks } from './ProjectDisks.ts';
import type { RunCgroup } from './RunCgroup.ts';
import { SANDBOX_PROJECT_DIR, sandboxArgv, sandboxEnv, type SandboxTools } from './sandboxCommand.ts';
import type { SandboxLimits } from './SandboxLimits.ts';
import type { AllowEntry } from './net/EgressAllowlist.ts';
import type { SandboxNetwork } from './net/SandboxNetwork.ts';

/** Where a spawned program's secret environment appears inside the sandbox (sourced, then exec). */
const SECRET_ENV_FILE = '/run/tandem-env';

export interface SessionLauncherOptions {
  rootDir: string;
  etcDir: string;
  tools: SandboxTools;
  user: { uid: number; gid: number } | null;
  seccompFile: string | null;
  rootEntries: { path: string; symlinkTo: string | null }[];
  cgroups: CgroupHierarchy;
  disks: ProjectDisks;
  network: SandboxNetwork | null;
}

export interface SessionRequest {
  id: string;
  projectId: string;
  /** The project's working copy on the host (mounted as /project when sandboxed). */
  workDir: string;
  limits: SandboxLimits;
  report: IsolationReport;
  /** The program, argv style. */
  command: readonly string[];
  /** Environment beyond the sandbox's own (the network variables win). */
  env?: Record<string, string>;
  /** Environment that may hold a secret: never on a command line (see launch). */
  secretEnv?: Record<string, string>;
  /** Outer environment of bwrap itself, besides PATH, when sandboxed. */
  outerEnv?: Record<string, string>;
  /** Egress through the proxy (hosts beyond the deployment's list); null: no network at all. */
  network: { allowHosts?: readonly AllowEntry[] } | null;
  binds?: { src: string; dest: string }[];
  /** setsid for the program (runs); a terminal keeps its pty as controlling terminal. */
  newSession: boolean;
}

/** What a session is started with, and what to clean up after it. */
export interface LaunchSpec {
  argv: string[];
  env: Record<string, string>;
  cgroup: RunCgroup | null;
  tmpDir: string | null;
  secretFile: string | null;
}

/**
 * Builds a session's sandbox around a program (split from SandboxHost): its cgroup, its /tmp on
 * the project disk, its network door, its environment (secrets in a file) and the bwrap argv.
 */
export class SessionLauncher {
  constructor(private readonly o: SessionLauncherOptions) {}

  launch(req: SessionRequest): LaunchSpec {
    const { report, workDir } = req;
    const tmpDir = this.sessionTmp(req.projectId, req.id);
    const cgroup = report.cgroups ? this.createCgroup(req.id, req.limits, tmpDir) : null;
    const home = report.sandboxed ? SANDBOX_PROJECT_DIR : workDir;
    // The session's network door (egress proxy + preview), only for fully sandboxed sessions.
    const net = req.network && report.sandboxed && this.o.network ? this.o.network.attach(req.id, req.projectId, req.network.allowHosts) : null;
    const secrets = req.secretEnv ?? {};
    // The secret environment (e.g. an API key) travels in a file only the sandbox user reads,
    // never on a command line (bwrap's argv is readable in /proc by anyone on the host).
    const secretFile = report.sandboxed && Object.keys(secrets).length > 0 ? this.writeSecretEnv(req.id, secrets) : null;
    const env = sandboxEnv(home, { ...req.env, ...(report.sandboxed ? {} : secrets), ...net?.env });
    const command = secretFile ? ['/bin/sh', '-c', `. ${SECRET_ENV_FILE} && exec "$@"`, req.command[0]!, ...req.command] : [...req.command];
    const argv = sandboxArgv({
      tools: { ...this.o.tools, bwrap: report.sandboxed ? this.o.tools.bwrap : null },
      cgroupProcsFiles: cgroup?.procsFiles() ?? [],
      limits: req.limits, user: this.o.user, workDir, etcDir: this.o.etcDir, env, seccompFile: this.o.seccompFile, tmpDir,
      newSession: req.newSession,
      extraBinds: [...(net?.binds ?? []), ...(req.binds ?? []), ...(secretFile ? [{ src: secretFile, dest: SECRET_ENV_FILE }] : [])],
      argv: net ? net.wrap(command) : command,
    }, this.o.rootEntries);
    return { argv, env: report.sandboxed ? { PATH: '/usr/bin:/bin', ...req.outerEnv } : env, cgroup, tmpDir, secretFile };
  }

  /** Starts the session; if spawning throws, what launch set up is removed and the error is an AppError. */
  startOrCleanUp<T>(id: string, spec: LaunchSpec, start: () => T): T {
    try {
      return start();
    } catch (e) {
      void spec.cgroup?.destroy();
      this.release(id, spec);
      throw new AppError('INTERNAL', 'The program could not be started.', (e as Error).message);
    }
  }

  /** After the session ended: its secrets, /tmp and network door go. */
  release(id: string, spec: LaunchSpec): void {
    if (spec.secretFile) rmSync(dirname(spec.secretFile), { recursive: true, force: true });
    if (spec.tmpDir) this.o.disks.removeTmp(spec.tmpDir);
    this.o.network?.release(id);
  }

  createCgroup(id: string, limits: SandboxLimits, tmpDir: string | null = null): RunCgroup {
    let cg: RunCgroup | null = null;
    try {
      cg = this.o.cgroups.create(id);
      cg.applyLimits(limits);
      return cg;
    } catch (e) {
      void cg?.destroy();
      if (tmpDir) this.o.disks.removeTmp(tmpDir);
      throw new AppError('INTERNAL', 'Could not set up resource limits for the program.', (e as Error).message);
    }
  }

  /** A /tmp on the project's quota-limited disk; null (tmpfs /tmp) without a quota. */
  private sessionTmp(projectId: string, sessionId: string): string | null {
    const disk = this.o.disks.paths(projectId);
    return disk.quota ? this.o.disks.createTmp(disk, sessionId) : null;
  }

  /** `export K='v'` lines in a fresh 0700 folder owned by the sandbox user; returns the file. */
  private writeSecretEnv(sessionId: string, env: Record<string, string>): string {
    const dir = join(this.o.rootDir, '.secrets', sessionId);
    mkdirSync(join(this.o.rootDir, '.secrets'), { recursive: true, mode: 0o711 });
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'env');
    const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
    writeFileSync(file, Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}\n`).join(''), { mode: 0o400 });
    if (this.o.user) {
      chownSync(file, this.o.user.uid, this.o.user.gid);
      chownSync(dir, this.o.user.uid, this.o.user.gid);
    }
    return file;
  }
}
