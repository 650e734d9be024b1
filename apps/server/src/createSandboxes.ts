import { SandboxService, type EventHub, type LiveProjectFiles, type ProjectBlobs } from '@tandem/api';
import type { PrismaClient } from '@tandem/db';
import { SandboxHost, type SandboxLimits, type SandboxNetwork } from '@tandem/sandbox';
import type { Env } from './env.ts';

/** Limits the operator overrode in the environment; the rest are the sandbox package defaults. */
export function sandboxLimitsFromEnv(env: Env): Partial<SandboxLimits> {
  const limits: Partial<SandboxLimits> = {};
  if (env.TANDEM_SANDBOX_MEMORY_MB !== undefined) limits.memoryBytes = env.TANDEM_SANDBOX_MEMORY_MB * 1024 * 1024;
  if (env.TANDEM_SANDBOX_MAX_PROCESSES !== undefined) limits.pidsMax = env.TANDEM_SANDBOX_MAX_PROCESSES;
  if (env.TANDEM_SANDBOX_CPUS !== undefined) limits.cpuCores = env.TANDEM_SANDBOX_CPUS;
  if (env.TANDEM_SANDBOX_RUN_TIMEOUT_SECONDS !== undefined) limits.runTimeoutMs = Math.round(env.TANDEM_SANDBOX_RUN_TIMEOUT_SECONDS * 1000);
  if (env.TANDEM_SANDBOX_OUTPUT_KB !== undefined) limits.outputCapBytes = env.TANDEM_SANDBOX_OUTPUT_KB * 1024;
  return limits;
}

/**
 * Runs and shared terminals: the sandbox host on TANDEM_SANDBOX_DIR, fed from the live documents.
 * Isolation is probed now, so the log says at start-up whether code can run and, if not, what
 * the host is missing (runs are then refused with the same words).
 */
export async function createSandboxes(env: Env, deps: { prisma: PrismaClient; hub: EventHub; files: LiveProjectFiles; blobs?: ProjectBlobs; network?: SandboxNetwork | null }): Promise<SandboxService> {
  const allowUnsandboxed = env.TANDEM_ALLOW_UNSANDBOXED === 'true';
  const host = new SandboxHost({
    rootDir: env.sandboxDir, allowUnsandboxed, limits: sandboxLimitsFromEnv(env), diskQuotaBytes: env.TANDEM_SANDBOX_DISK_MB * 1024 * 1024,
    maxSessions: env.TANDEM_SANDBOX_MAX_SESSIONS,
    network: deps.network ?? undefined,
  });
  const service = new SandboxService({
    host, files: deps.files, blobs: deps.blobs, hub: deps.hub, prisma: deps.prisma,
    maxSessionsPerUser: env.TANDEM_SANDBOX_MAX_PER_USER,
    queue: { maxWaiting: env.TANDEM_SANDBOX_QUEUE_MAX, timeoutMs: env.TANDEM_SANDBOX_QUEUE_SECONDS * 1000 },
    terminalIdleMs: Math.round(env.TANDEM_SANDBOX_TERMINAL_IDLE_MINUTES * 60_000),
  });
  // With several nodes a project's runs are recovered by the node that becomes its home (createCluster).
  const interrupted = env.REDIS_URL ? 0 : await service.recoverInterruptedRuns();
  if (interrupted > 0) console.info(`[sandbox] ${interrupted} run(s) were cut short by the previous server stop`);
  const report = await host.checkIsolation();
  if (report.sandboxed) {
    console.info(`[sandbox] project code runs sandboxed (bubblewrap + cgroups) in ${env.sandboxDir}; probe took ${Math.round(report.probeMs ?? 0)} ms`);
    const quota = report.diskQuota.bytes === null ? `no per-project disk quota (${report.diskQuota.reason})` : `per-project disk quota ${env.TANDEM_SANDBOX_DISK_MB} MiB`;
    console.info(`[sandbox] seccomp filter ${report.seccomp ? 'on' : 'OFF'}; ${quota}`);
  } else if (report.canRun) {
    console.error(`[sandbox] TANDEM_ALLOW_UNSANDBOXED=true: project code runs WITHOUT isolation (${report.missing.join('; ')}). Never expose this server to other people.`);
  } else {
    console.warn(`[sandbox] running code is DISABLED: ${report.missing.join('; ')}`);
  }
  return service;
}
