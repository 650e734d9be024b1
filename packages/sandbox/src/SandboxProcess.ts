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

export interface ProcessExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The kernel OOM-killed a process of it at the memory limit. */
  oom: boolean;
  /** The end of what it wrote on stderr (for a clear failure message). */
  stderrTail: string;
}

const STDERR_TAIL_CHARS = 4000;
/** Grace period between the program's exit and its pipes closing (a leftover child holding them). */
const CLOSE_GRACE_MS = 2000;

/**
 * A long-lived program in a sandbox that talks over its stdin/stdout (an ACP agent): raw byte
 * streams, no wall-clock limit (its owner decides how long it may live), the same cgroup limits,
 * namespaces and network door as runs. stderr is kept as a bounded tail.
 */
export class SandboxProcess {
  readonly id: string;
  readonly projectId: string;
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Settles once the process tree is gone and its cgroup removed; never rejects. */
  readonly done: Promise<ProcessExit>;

  private readonly spec: SandboxProcessSpawn;
  private readonly child: ChildProcess;
  private stderr = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private finished = false;
  private resolveDone!: (e: ProcessExit) => void;

  constructor(spec: SandboxProcessSpawn) {
    this.spec = spec;
    this.id = spec.id;
    this.projectId = spec.projectId;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: spec.env as unknown as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group: signals to the server's group never reach it
    });
    this.stdin = this.child.stdin!;
    this.stdout = this.child.stdout!;
    // A write after the program died is an EPIPE here; the exit is what the owner hears about.
    this.stdin.on('error', () => undefined);
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-STDERR_TAIL_CHARS);
    });
    this.child.on('error', (e) => {
      this.spec.onError(`process ${this.id} could not start`, e);
      this.stderr += `\n${e.message}`;
      void this.finish();
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      void this.spec.cgroup?.killAll();
      setTimeout(() => {
        this.child.stdout?.destroy();
        this.child.stderr?.destroy();
        void this.finish();
      }, CLOSE_GRACE_MS).unref();
    });
    this.child.on('close', () => void this.finish());
  }

  /** Kills the whole process tree (its pid namespace and everything in its cgroup). */
  kill(): void {
    if (this.finished) return;
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

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const cg = this.spec.cgroup;
    const result: ProcessExit = {
      exitCode: this.exit?.code ?? null, signal: this.exit?.signal ?? null,
      oom: cg ? cg.oomKills() > 0 : false, stderrTail: this.stderr,
    };
    try {
      await cg?.destroy();
    } catch (e) {
      this.spec.onError(`cgroup cleanup of process ${this.id} failed`, e);
    }
    this.resolveDone(result);
  }
}
