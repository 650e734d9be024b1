import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCgroupV1Mounts, findOwnCgroupPaths } from './CgroupHierarchy.ts';
import type { OutputChunk } from './OutputCoalescer.ts';
import { SandboxHost, type SandboxHostOptions } from './SandboxHost.ts';
import type { RunResult, SandboxRun } from './SandboxRun.ts';

/** Test-only: a host on a fresh temp root, a sibling "data directory", and teardown. */
export interface TestHost {
  host: SandboxHost;
  /** Parent of rootDir and dataDir. */
  baseDir: string;
  rootDir: string;
  /** A sibling of the working copies, like the server's data directory; tests put secrets here. */
  dataDir: string;
  logs: { level: string; message: string }[];
  cgroupName: string;
  cleanup: () => Promise<void>;
}

export function createTestHost(options: Partial<SandboxHostOptions> = {}): TestHost {
  const baseDir = mkdtempSync(join(tmpdir(), 'tandem-sandbox-test-'));
  chmodSync(baseDir, 0o711); // the sandbox uid must be able to traverse to the working copies
  const rootDir = join(baseDir, 'root');
  const dataDir = join(baseDir, 'data');
  mkdirSync(dataDir, { mode: 0o755 });
  const logs: { level: string; message: string }[] = [];
  const cgroupName = options.cgroupName ?? 'tandem-sandbox-test';
  const host = new SandboxHost({
    rootDir,
    cgroupName,
    log: (level, message) => logs.push({ level, message }),
    ...options,
  });
  return {
    host, baseDir, rootDir, dataDir, logs, cgroupName,
    cleanup: async () => {
      await host.close();
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

/** Runs a command and collects its output. */
export async function runAndCollect(
  host: SandboxHost, projectId: string, command: string, opts: Parameters<SandboxHost['run']>[2] = {},
): Promise<{ result: RunResult; output: string; chunks: OutputChunk[]; run: SandboxRun }> {
  const chunks: OutputChunk[] = [];
  const run = await host.run(projectId, command, { ...opts, onOutput: (c) => chunks.push(c) });
  const result = await run.done;
  return { result, output: chunks.map((c) => c.text).join(''), chunks, run };
}

/** This process's cgroup directories for a host's cgroup name (pids hierarchy), for leak checks. */
export function hostPidsCgroupDir(cgroupName: string): string {
  const mounts = findCgroupV1Mounts(readFileSync('/proc/self/mounts', 'utf8'));
  const own = findOwnCgroupPaths(readFileSync('/proc/self/cgroup', 'utf8'));
  return join(mounts.pids!, own.pids ?? '/', cgroupName, `h${process.pid}`);
}

export function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

/** Host pids whose command line contains `needle` (to prove nothing survived a kill). */
export function processesMatching(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(needle)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

export { PREVIEW_APP_SOURCE, previewAppCommand } from './previewFixtureApp.ts';
