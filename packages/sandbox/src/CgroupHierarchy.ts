import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { killCgroupTasks, removeCgroupDir, RunCgroup, type CgroupController } from './RunCgroup.ts';

const CONTROLLERS: readonly CgroupController[] = ['memory', 'pids', 'cpu'];

/** Where each cgroup v1 controller is mounted, from /proc/self/mounts text. */
export function findCgroupV1Mounts(mountsText: string): Partial<Record<CgroupController, string>> {
  const found: Partial<Record<CgroupController, string>> = {};
  for (const line of mountsText.split('\n')) {
    const [, mountPoint, fsType, options] = line.split(' ');
    if (fsType !== 'cgroup' || !mountPoint || !options) continue;
    const opts = options.split(',');
    for (const c of CONTROLLERS) if (opts.includes(c) && !found[c]) found[c] = mountPoint.replace(/\\040/g, ' ');
  }
  return found;
}

/** This process's own cgroup path per controller, from /proc/self/cgroup text. */
export function findOwnCgroupPaths(cgroupText: string): Partial<Record<CgroupController, string>> {
  const found: Partial<Record<CgroupController, string>> = {};
  for (const line of cgroupText.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[1]!.split(',')) if ((CONTROLLERS as string[]).includes(c)) found[c as CgroupController] = m[2]!;
  }
  return found;
}

export type CgroupAvailability = { ok: true } | { ok: false; problem: string };

/**
 * The host's cgroup subtree: `<mount><own cgroup>/<name>/h<pid>/<run id>` in each controller.
 * Nesting under the server's own cgroup keeps sandboxes inside whatever limits the server itself
 * runs under; the per-process `h<pid>` level lets two servers (or test processes) share a
 * machine, and lets a restarted server remove what a crashed one left behind.
 */
export class CgroupHierarchy {
  private readonly name: string;
  private bases: Record<CgroupController, string> | null = null;
  private hostDirs: Record<CgroupController, string> | null = null;

  constructor(name: string) {
    this.name = name;
  }

  /** Finds and creates this host's directories; returns what is missing if that fails. */
  prepare(): CgroupAvailability {
    if (this.hostDirs) return { ok: true };
    let mounts: Partial<Record<CgroupController, string>>;
    let own: Partial<Record<CgroupController, string>>;
    try {
      mounts = findCgroupV1Mounts(readFileSync('/proc/self/mounts', 'utf8'));
      own = findOwnCgroupPaths(readFileSync('/proc/self/cgroup', 'utf8'));
    } catch {
      return { ok: false, problem: 'cannot read /proc/self/mounts or /proc/self/cgroup' };
    }
    const missing = CONTROLLERS.filter((c) => !mounts[c]);
    if (missing.length) return { ok: false, problem: `cgroup v1 controller(s) not mounted: ${missing.join(', ')}` };
    const bases = {} as Record<CgroupController, string>;
    const hostDirs = {} as Record<CgroupController, string>;
    for (const c of CONTROLLERS) {
      bases[c] = join(mounts[c]!, own[c] ?? '/', this.name);
      hostDirs[c] = join(bases[c], `h${process.pid}`);
      try {
        mkdirSync(hostDirs[c], { recursive: true });
        accessSync(join(hostDirs[c], 'cgroup.procs'), constants.W_OK);
      } catch (e) {
        return { ok: false, problem: `cannot create a writable cgroup in ${bases[c]} (${(e as Error).message})` };
      }
    }
    this.bases = bases;
    this.hostDirs = hostDirs;
    return { ok: true };
  }

  create(id: string): RunCgroup {
    if (!this.hostDirs) throw new Error('CgroupHierarchy.prepare() was not called');
    const dirs = {} as Record<CgroupController, string>;
    for (const c of CONTROLLERS) {
      dirs[c] = join(this.hostDirs[c], id);
      mkdirSync(dirs[c]);
    }
    return new RunCgroup(dirs);
  }

  /** Removes subtrees of servers that no longer run (their pid is gone). */
  async removeStale(): Promise<number> {
    if (!this.bases) return 0;
    let removed = 0;
    for (const c of CONTROLLERS) {
      for (const entry of safeReaddir(this.bases[c])) {
        const m = /^h(\d+)$/.exec(entry);
        if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
        if (await removeSubtree(join(this.bases[c], entry))) removed++;
      }
    }
    return removed;
  }

  /**
   * Removes this host's directories (after its runs were destroyed), and the shared `<name>`
   * level when no other host uses it, so nothing is left in the parent cgroup (a non-empty
   * cgroup cannot be removed by whoever owns the parent).
   */
  async close(): Promise<void> {
    if (!this.hostDirs || !this.bases) return;
    for (const dir of Object.values(this.hostDirs)) await removeSubtree(dir);
    for (const base of Object.values(this.bases)) {
      try {
        rmdirSync(base);
      } catch {
        // another host (or a crashed one, cleaned at its next start) still has a subtree here
      }
    }
    this.hostDirs = null;
  }
}

async function removeSubtree(dir: string): Promise<boolean> {
  for (const child of safeReaddir(dir)) {
    const childDir = join(dir, child);
    if (!isCgroupDir(childDir)) continue;
    await killCgroupTasks(childDir, 3000);
    await removeCgroupDir(childDir);
  }
  return removeCgroupDir(dir);
}

function isCgroupDir(dir: string): boolean {
  try {
    accessSync(join(dir, 'cgroup.procs'));
    return true;
  } catch {
    return false;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
