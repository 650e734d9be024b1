import { AppError } from '@tandem/protocol';

/** Resource limits applied to every run and terminal (each gets its own cgroup). */
export interface SandboxLimits {
  /** cgroup memory.limit_in_bytes (and memsw, so swap does not extend it). */
  memoryBytes: number;
  /** cgroup pids.max: processes + threads. Contains fork bombs. */
  pidsMax: number;
  /** CPU quota in cores (cpu.cfs_quota_us / cfs_period_us), e.g. 1 = one full core. */
  cpuCores: number;
  /** Wall-clock limit of a run (terminals have none; they end when closed). */
  runTimeoutMs: number;
  /** Total stdout+stderr bytes a run may print before it is killed. */
  outputCapBytes: number;
  /** RLIMIT_FSIZE: largest single file a program may write. */
  fileSizeBytes: number;
  /** Size of the private tmpfs mounted on /tmp (its pages also count against memoryBytes). */
  tmpBytes: number;
  /** RLIMIT_NOFILE. */
  openFiles: number;
}

/** Defaults and why: see README "Limits". */
export const DEFAULT_LIMITS: SandboxLimits = {
  memoryBytes: 512 * 1024 * 1024,
  pidsMax: 128,
  cpuCores: 1,
  runTimeoutMs: 60_000,
  outputCapBytes: 1024 * 1024,
  fileSizeBytes: 64 * 1024 * 1024,
  tmpBytes: 64 * 1024 * 1024,
  openFiles: 1024,
};

const MINIMUMS: SandboxLimits = {
  memoryBytes: 16 * 1024 * 1024,
  pidsMax: 8,
  cpuCores: 0.01,
  runTimeoutMs: 100,
  outputCapBytes: 1024,
  fileSizeBytes: 4096,
  tmpBytes: 1024 * 1024,
  openFiles: 64,
};

/** Merges overrides onto a base, refusing values a cgroup or rlimit could not take. */
export function resolveLimits(base: SandboxLimits, overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  const merged: SandboxLimits = { ...base };
  for (const key of Object.keys(MINIMUMS) as (keyof SandboxLimits)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < MINIMUMS[key]) {
      throw new AppError('BAD_INPUT', `Sandbox limit ${key} must be a number of at least ${MINIMUMS[key]}.`);
    }
    merged[key] = key === 'cpuCores' ? value : Math.floor(value);
  }
  return merged;
}
