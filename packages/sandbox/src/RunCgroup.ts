import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxLimits } from './SandboxLimits.ts';

export type CgroupController = 'memory' | 'pids' | 'cpu';

const CFS_PERIOD_US = 100_000;

/**
 * One cgroup (v1) per run or terminal, with a directory in each of the memory, pids and cpu
 * hierarchies. The sandbox's wrapper shell writes its own pid into `procsFiles()` before it
 * execs bubblewrap, so every descendant is accounted from the first instruction.
 */
export class RunCgroup {
  readonly dirs: Readonly<Record<CgroupController, string>>;

  constructor(dirs: Record<CgroupController, string>) {
    this.dirs = dirs;
  }

  applyLimits(limits: SandboxLimits): void {
    const mem = String(limits.memoryBytes);
    writeFileSync(join(this.dirs.memory, 'memory.limit_in_bytes'), mem);
    // memsw exists only with swap accounting; setting it stops a program from swapping past the limit.
    tryWrite(join(this.dirs.memory, 'memory.memsw.limit_in_bytes'), mem);
    writeFileSync(join(this.dirs.pids, 'pids.max'), String(limits.pidsMax));
    writeFileSync(join(this.dirs.cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    writeFileSync(join(this.dirs.cpu, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(limits.cpuCores * CFS_PERIOD_US))));
  }

  procsFiles(): string[] {
    return [this.dirs.memory, this.dirs.pids, this.dirs.cpu].map((d) => join(d, 'cgroup.procs'));
  }

  /** Host pids still in the cgroup (the pids hierarchy sees every task of the run). */
  pids(): number[] {
    return readCgroupPids(this.dirs.pids);
  }

  /** SIGKILLs every process of the run; true once the cgroup is empty. */
  killAll(maxWaitMs = 3000): Promise<boolean> {
    return killCgroupTasks(this.dirs.pids, maxWaitMs);
  }

  /** Number of OOM kills the kernel performed in this cgroup. */
  oomKills(): number {
    const text = tryRead(join(this.dirs.memory, 'memory.oom_control'));
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** True when a fork/clone was refused because pids.max was reached. */
  pidsLimitHit(): boolean {
    const m = /^max (\d+)$/m.exec(tryRead(join(this.dirs.pids, 'pids.events')));
    return m ? Number(m[1]) > 0 : false;
  }

  peakMemoryBytes(): number {
    return Number(tryRead(join(this.dirs.memory, 'memory.max_usage_in_bytes')).trim()) || 0;
  }

  /** Kills what is left and removes the directories (rmdir fails while tasks remain: retry). */
  async destroy(): Promise<void> {
    await this.killAll();
    for (const dir of Object.values(this.dirs)) await removeCgroupDir(dir);
  }
}

export function readCgroupPids(dir: string): number[] {
  return tryRead(join(dir, 'cgroup.procs'))
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * SIGKILLs every task in a cgroup until it is empty. A fork bomb can fork between our read and
 * our kill, hence the loop; pids.max bounds how many there can be.
 */
export async function killCgroupTasks(dir: string, maxWaitMs: number): Promise<boolean> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const pids = readCgroupPids(dir);
    if (pids.length === 0) return true;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
}

export async function removeCgroupDir(dir: string): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      rmdirSync(dir);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY') return false;
      await sleep(20);
    }
  }
  return false;
}

function tryRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function tryWrite(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    // optional knob not present on this kernel
  }
}
