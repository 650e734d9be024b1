import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants as fsc, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RunCgroup } from './RunCgroup.ts';
import { SANDBOX_PROJECT_DIR, sandboxArgv, sandboxEnv, type SandboxTools } from './sandboxCommand.ts';
import type { SandboxLimits } from './SandboxLimits.ts';
import { buildSeccompFilter, seccompArch } from './SeccompFilter.ts';
import { WorkingCopy } from './WorkingCopy.ts';

/** Host-side set-up every sandbox relies on, and the end-to-end probe (split from SandboxHost). */

const PROBE_TIMEOUT_MS = 10_000;

interface RootSpec {
  rootDir: string;
  etcDir: string;
  user: { uid: number; gid: number } | null;
  seccompFile: string | null;
}

/** Root dir (traverse-only), the synthetic /etc files every sandbox sees, and the seccomp program. */
export function prepareSandboxRoot(spec: RootSpec): void {
  mkdirSync(spec.rootDir, { recursive: true, mode: 0o711 });
  mkdirSync(spec.etcDir, { recursive: true, mode: 0o755 });
  const uid = spec.user?.uid ?? process.getuid?.() ?? 65534;
  const gid = spec.user?.gid ?? process.getgid?.() ?? 65534;
  writeFileSync(join(spec.etcDir, 'passwd'), `root:x:0:0:root:/root:/bin/sh\nsandbox:x:${uid}:${gid}:sandbox:${SANDBOX_PROJECT_DIR}:/bin/bash\n`, { mode: 0o644 });
  writeFileSync(join(spec.etcDir, 'group'), `root:x:0:\nsandbox:x:${gid}:\n`, { mode: 0o644 });
  writeFileSync(join(spec.etcDir, 'hosts'), '127.0.0.1 localhost sandbox\n::1 localhost\n', { mode: 0o644 });
  if (spec.seccompFile) {
    const arch = seccompArch();
    if (!arch) throw new Error(`no seccomp filter for the ${process.arch} architecture (supported: x64, arm64)`);
    // Read by the root wrapper shell only (it opens it before dropping privileges).
    writeFileSync(spec.seccompFile, buildSeccompFilter(arch), { mode: 0o600 });
  }
}

interface ProbeSpec extends RootSpec {
  tools: SandboxTools;
  limits: SandboxLimits;
  rootEntries: { path: string; symlinkTo: string | null }[];
  createCgroup: (id: string) => RunCgroup | null;
}

/** Runs `true` in a complete sandbox (cgroup, uid switch, seccomp, bwrap) against a scratch working copy. */
export async function probeSandbox(spec: ProbeSpec): Promise<{ ms: number; problem: string | null }> {
  const wc = new WorkingCopy(join(spec.rootDir, '.probe'), spec.user);
  let cg: RunCgroup | null = null;
  const t0 = performance.now();
  try {
    wc.ensure();
    cg = spec.createCgroup(`probe-${randomUUID()}`);
    const argv = sandboxArgv({
      tools: spec.tools, cgroupProcsFiles: cg?.procsFiles() ?? [], limits: spec.limits, user: spec.user,
      workDir: wc.workDir, etcDir: spec.etcDir, env: sandboxEnv(SANDBOX_PROJECT_DIR), newSession: true, argv: ['true'],
      seccompFile: spec.seccompFile,
    }, spec.rootEntries);
    const { code, stderr } = await runToEnd(argv, PROBE_TIMEOUT_MS);
    const ms = performance.now() - t0;
    if (code === 0) return { ms, problem: null };
    return { ms, problem: `bubblewrap could not start a sandbox (exit ${code}: ${stderr.trim().slice(0, 300) || 'no message'}); check unprivileged user namespaces and that ${spec.rootDir} and its parents are searchable by uid ${spec.user?.uid ?? 'of the server'}` };
  } catch (e) {
    return { ms: performance.now() - t0, problem: `sandbox probe failed: ${(e as Error).message}` };
  } finally {
    await cg?.destroy();
  }
}

export function isExecutable(path: string): boolean {
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
