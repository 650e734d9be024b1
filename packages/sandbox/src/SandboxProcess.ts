import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { RunCgroup } from './RunCgroup.ts';

export interface SandboxProcessSpawn {
  id: string;
  projectId: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  cgroup: RunCgroup | null;
  onError: (message: string, e: unknown) => void;
}

/**
 * A long-lived helper program in a project's sandbox (e.g. a language server) spoken to over
 * its stdin/stdout. No wall clock and no output cap: the caller frames and bounds the stream and
 * decides when it is idle; memory, pids and CPU are bounded by its cgroup like any run.
 */
export class SandboxProcess {
  readonly id: string;
  readonly projectId: string;
  /** Settles once the process tree is gone and its cgroup removed; never rejects. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; oomKilled: boolean }>;

  private readonly child: ChildProcess;
  private readonly spec: SandboxProcessSpawn;

  constructor(spec: SandboxProcessSpawn) {
    this.spec = spec;
    this.id = spec.id;
    this.projectId = spec.projectId;
    this.child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: spec.env as unknown as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    // stderr is the program's log: drained so it never blocks, not kept.
    this.child.stderr!.resume();
    this.child.stdin!.on('error', () => {}); // EPIPE after it died: `exited` says so
    this.exited = new Promise((resolve) => {
      this.child.once('error', (e) => spec.onError(`${spec.id} could not start`, e));
      this.child.once('close', (code, signal) => {
        void (async () => {
          const cg = spec.cgroup;
          const oomKilled = cg ? cg.oomKills() > 0 : false;
          await cg?.killAll();
          await cg?.destroy().catch((e: unknown) => spec.onError(`cgroup cleanup of ${spec.id} failed`, e));
          resolve({ code, signal, oomKilled });
        })();
      });
    });
  }

  get stdin(): Writable {
    return this.child.stdin!;
  }

  get stdout(): Readable {
    return this.child.stdout!;
  }

  /** Kills the whole process tree (its pid namespace and everything in its cgroup). */
  kill(): void {
    const pid = this.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // group already gone
      }
    }
    void this.spec.cgroup?.killAll();
  }
}
