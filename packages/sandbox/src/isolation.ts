import { AppError } from '@tandem/protocol';
import type { CgroupHierarchy } from './CgroupHierarchy.ts';
import type { ProjectDisks } from './ProjectDisks.ts';
import type { RunCgroup } from './RunCgroup.ts';
import type { SandboxTools } from './sandboxCommand.ts';
import type { SandboxLimits } from './SandboxLimits.ts';
import { isExecutable, prepareSandboxRoot, probeSandbox } from './sandboxSetup.ts';

// What isolation the host has (split from SandboxHost): the report, its probe and the refusal.

export type SandboxLogger = (level: 'info' | 'warn' | 'error', message: string) => void;

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
  /** The seccomp filter is loaded in every sandbox. */
  seccomp: boolean;
  /** Per-project disk quota in bytes, or null with the reason there is none. */
  diskQuota: { bytes: number } | { bytes: null; reason: string };
}

export interface IsolationProbeSpec {
  rootDir: string;
  etcDir: string;
  user: { uid: number; gid: number } | null;
  tools: SandboxTools;
  limits: SandboxLimits;
  seccompFile: string | null;
  rootEntries: { path: string; symlinkTo: string | null }[];
  cgroups: CgroupHierarchy;
  disks: ProjectDisks;
  createCgroup: (id: string) => RunCgroup | null;
  allowUnsandboxed: boolean;
  log: SandboxLogger;
}

/** Checks the tools, cgroups, root dir and disks, then runs `true` in a full sandbox. */
export async function probeIsolation(spec: IsolationProbeSpec): Promise<IsolationReport> {
  const missing: string[] = [];
  const bwrapPath = spec.tools.bwrap!;
  for (const [what, path] of [['bubblewrap (bwrap)', bwrapPath], ['setpriv (util-linux)', spec.tools.setpriv], ['prlimit (util-linux)', spec.tools.prlimit]] as const) {
    if (!isExecutable(path)) missing.push(`${what} not found at ${path}`);
  }
  const cg = spec.cgroups.prepare();
  if (!cg.ok) missing.push(cg.problem);
  else {
    const stale = await spec.cgroups.removeStale();
    if (stale) spec.log('info', `removed ${stale} cgroup subtree(s) left by a previous server`);
  }
  try {
    prepareSandboxRoot({ rootDir: spec.rootDir, etcDir: spec.etcDir, user: spec.user, seccompFile: spec.seccompFile });
  } catch (e) {
    missing.push(`cannot prepare ${spec.rootDir} (${(e as Error).message})`);
  }
  const disk = await spec.disks.probe();
  if (!disk.quota) spec.log('warn', `no per-project disk quota: ${disk.reason}`);
  let probeMs: number | null = null;
  if (missing.length === 0) {
    const result = await probeSandbox({
      rootDir: spec.rootDir, etcDir: spec.etcDir, user: spec.user, tools: spec.tools, limits: spec.limits,
      seccompFile: spec.seccompFile, rootEntries: spec.rootEntries, createCgroup: spec.createCgroup,
    });
    probeMs = result.ms;
    if (result.problem) missing.push(result.problem);
  }
  const sandboxed = missing.length === 0;
  if (!sandboxed) {
    spec.log(spec.allowUnsandboxed ? 'error' : 'warn', `sandbox isolation unavailable: ${missing.join('; ')}${spec.allowUnsandboxed ? ' — RUNNING UNSANDBOXED (allowUnsandboxed)' : ' — runs are refused'}`);
  }
  return {
    sandboxed, canRun: sandboxed || spec.allowUnsandboxed, missing, bwrapPath, cgroups: cg.ok,
    user: spec.user, probeMs, seccomp: sandboxed && spec.seccompFile !== null,
    diskQuota: disk.quota ? { bytes: spec.disks.quotaBytes } : { bytes: null, reason: disk.reason },
  };
}

/** The report when code may run; otherwise the error that says what the operator must fix. */
export function requireCanRun(report: IsolationReport): IsolationReport {
  if (report.canRun) return report;
  throw new AppError(
    'UNAVAILABLE',
    `Running code is disabled on this server because its sandbox is not available: ${report.missing.join('; ')}.`,
    'Install bubblewrap, mount cgroup v1 memory/pids/cpu writable, run the server as root; or (development only) set allowUnsandboxed.',
  );
}
