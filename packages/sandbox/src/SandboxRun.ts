import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { OutputCoalescer, type OutputChunk } from './OutputCoalescer.ts';
import type { RunCgroup } from './RunCgroup.ts';
import type { SandboxLimits } from './SandboxLimits.ts';

export type RunEndReason =
  | 'exit' // the program ended by itself (any exit code)
  | 'killed-timeout' // wall-clock limit
  | 'killed-memory' // the kernel OOM-killed a process of the run at the memory limit
  | 'output-capped' // printed more than outputCapBytes
  | 'stopped' // stop() or the abort signal
  | 'error'; // could not be started at all

export interface RunResult {
  reason: RunEndReason;
  /** Exit code of the program (bubblewrap passes it through; 128+n when killed by signal n). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** Raw bytes the program wrote to stdout+stderr that were delivered (≤ outputCapBytes). */
  outputBytes: number;
  /** A fork was refused because the pids limit was reached. */
  pidsLimitHit: boolean;
  peakMemoryBytes: number;
  sandboxed: boolean;
}

export interface RunOutputOptions {
  /** Coalesced, ordered output; called at most once per `outputIntervalMs` while output flows. */
  onOutput?: (chunk: OutputChunk) => void;
  signal?: AbortSignal;
}

export interface SandboxRunSpawn {
  id: string;
  projectId: string;
  command: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  cgroup: RunCgroup | null;
  limits: SandboxLimits;
  sandboxed: boolean;
  outputIntervalMs: number;
  maxPendingChars: number;
  onError: (message: string, e: unknown) => void;
  /** At the end of the run: a notice to print when the project's disk filled up, or null. */
  diskFullNotice?: () => string | null;
}

/** Grace period between the program's exit and its pipes closing (a leftover child holding them). */
const CLOSE_GRACE_MS = 2000;

/** One execution of a command in a sandbox: live output, limits, stop(), and a final result. */
export class SandboxRun {
  readonly id: string;
  readonly projectId: string;
  readonly command: string;
  readonly startedAt: number;
  /** Settles once the process tree is gone and its cgroup removed; never rejects. */
  readonly done: Promise<RunResult>;

  private readonly spec: SandboxRunSpawn;
  private readonly opts: RunOutputOptions;
  private readonly child: ChildProcess;
  private readonly coalescer: OutputCoalescer;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private readonly t0 = performance.now();
  private resolveDone!: (r: RunResult) => void;
  private reason: RunEndReason | null = null;
  private outputBytes = 0;
  private capped = false;
  private exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | null = null;
  private finished = false;
  private timeout: NodeJS.Timeout | null = null;
  private readonly onAbort = () => this.stop();

  constructor(spec: SandboxRunSpawn, opts: RunOutputOptions) {
    this.spec = spec;
    this.opts = opts;
    this.id = spec.id;
    this.projectId = spec.projectId;
    this.command = spec.command;
    this.startedAt = Date.now();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.coalescer = new OutputCoalescer({
      intervalMs: spec.outputIntervalMs,
      maxPendingChars: spec.maxPendingChars,
      emit: (chunks) => this.emit(chunks),
      pause: () => this.setFlowing(false),
      resume: () => this.setFlowing(true),
    });
    this.child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      // Cast: apps whose global types make NODE_ENV a required env key (Next's) compile this too.
      env: spec.env as unknown as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: signals to the server's group never reach it
    });
    this.child.stdout!.on('data', (b: Buffer) => this.onData('stdout', b));
    this.child.stderr!.on('data', (b: Buffer) => this.onData('stderr', b));
    this.child.on('error', (e) => this.onSpawnError(e));
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
    this.child.on('close', () => void this.finish());
    this.timeout = setTimeout(() => this.kill('killed-timeout'), spec.limits.runTimeoutMs);
    if (opts.signal?.aborted) this.stop();
    else opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get running(): boolean {
    return !this.finished;
  }

  /** Kills the whole process tree (its pid namespace and everything in its cgroup). */
  stop(): void {
    this.kill('stopped');
  }

  private kill(reason: RunEndReason): void {
    if (this.finished) return;
    this.reason ??= reason;
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

  private onData(stream: 'stdout' | 'stderr', buf: Buffer): void {
    if (this.capped) return;
    const room = this.spec.limits.outputCapBytes - this.outputBytes;
    if (buf.length > room) {
      buf = buf.subarray(0, room);
      this.capped = true;
    }
    this.outputBytes += buf.length;
    this.coalescer.push(stream, this.decoders[stream].write(buf));
    if (this.capped) {
      this.setFlowing(true); // discard the rest so nothing blocks while it dies
      this.kill('output-capped');
    }
  }

  private setFlowing(flowing: boolean): void {
    for (const s of [this.child.stdout, this.child.stderr]) {
      if (!s) continue;
      if (flowing || this.capped) s.resume();
      else s.pause();
    }
  }

  private emit(chunks: OutputChunk[]): void {
    if (!this.opts.onOutput) return;
    for (const c of chunks) {
      try {
        this.opts.onOutput(c);
      } catch (e) {
        this.spec.onError(`onOutput listener of run ${this.id} threw`, e);
      }
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exit = { code, signal, at: performance.now() };
    // Anything the program left behind dies with it; then its pipes close.
    void this.spec.cgroup?.killAll();
    setTimeout(() => {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      void this.finish();
    }, CLOSE_GRACE_MS).unref();
  }

  private onSpawnError(e: Error): void {
    this.reason ??= 'error';
    this.spec.onError(`run ${this.id} could not start`, e);
    void this.finish();
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (this.timeout) clearTimeout(this.timeout);
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    if (!this.capped) {
      this.coalescer.push('stdout', this.decoders.stdout.end());
      this.coalescer.push('stderr', this.decoders.stderr.end());
    }
    const diskFull = this.spec.diskFullNotice?.() ?? null;
    if (diskFull) this.coalescer.push('stderr', `\n[tandem] ${diskFull}\n`);
    this.coalescer.close();
    const cg = this.spec.cgroup;
    const oom = cg ? cg.oomKills() > 0 : false;
    const result: RunResult = {
      reason: this.reason ?? (oom ? 'killed-memory' : 'exit'),
      exitCode: this.exit?.code ?? null,
      signal: this.exit?.signal ?? null,
      durationMs: Math.round((this.exit?.at ?? performance.now()) - this.t0),
      outputBytes: this.outputBytes,
      pidsLimitHit: cg ? cg.pidsLimitHit() : false,
      peakMemoryBytes: cg ? cg.peakMemoryBytes() : 0,
      sandboxed: this.spec.sandboxed,
    };
    try {
      await cg?.destroy();
    } catch (e) {
      this.spec.onError(`cgroup cleanup of run ${this.id} failed`, e);
    }
    this.resolveDone(result);
  }
}
