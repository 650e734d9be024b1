import { spawn as spawnPty, type IPty } from 'node-pty';
import { AppError } from '@tandem/protocol';
import { OutputCoalescer } from './OutputCoalescer.ts';
import type { RunCgroup } from './RunCgroup.ts';
import { ScrollbackBuffer } from './ScrollbackBuffer.ts';

export interface TerminalSize {
  cols: number;
  rows: number;
}

export interface TerminalExit {
  exitCode: number;
  signal: number | null;
}

export interface SandboxTerminalSpawn {
  id: string;
  projectId: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  size: TerminalSize;
  cgroup: RunCgroup | null;
  scrollbackChars: number;
  outputIntervalMs: number;
  maxPendingChars: number;
  onError: (message: string, e: unknown) => void;
}

/** Largest single write accepted from a client (a paste); larger input is refused, not truncated. */
export const MAX_TERMINAL_WRITE_CHARS = 64 * 1024;
const MAX_COLS = 1000;
const MAX_ROWS = 500;

export function validateTerminalSize(cols: unknown, rows: unknown): TerminalSize {
  const ok = (v: unknown, max: number): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
  if (!ok(cols, MAX_COLS) || !ok(rows, MAX_ROWS)) {
    throw new AppError('BAD_INPUT', `Terminal size must be 1-${MAX_COLS} columns and 1-${MAX_ROWS} rows.`);
  }
  return { cols, rows };
}

/**
 * A shell in a sandbox on a pseudo-terminal. Output is coalesced (bounded buffer, the pty is
 * paused when listeners fall behind) and kept in a bounded scrollback for clients that attach
 * later. Who may write is the caller's business.
 */
export class SandboxTerminal {
  readonly id: string;
  readonly projectId: string;
  readonly createdAt = Date.now();

  private readonly spec: SandboxTerminalSpawn;
  private readonly pty: IPty;
  private readonly scroll: ScrollbackBuffer;
  private readonly coalescer: OutputCoalescer;
  private readonly dataListeners = new Set<(text: string) => void>();
  private readonly exitListeners = new Set<(e: TerminalExit) => void>();
  private size: TerminalSize;
  private exitInfo: TerminalExit | null = null;
  /** Settles once the shell is gone and its cgroup removed. */
  readonly closed: Promise<TerminalExit>;
  private resolveClosed!: (e: TerminalExit) => void;

  constructor(spec: SandboxTerminalSpawn) {
    this.spec = spec;
    this.id = spec.id;
    this.projectId = spec.projectId;
    this.size = spec.size;
    this.scroll = new ScrollbackBuffer(spec.scrollbackChars);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.pty = spawnPty(spec.argv[0]!, spec.argv.slice(1), {
      name: 'xterm-256color',
      cols: spec.size.cols,
      rows: spec.size.rows,
      cwd: spec.cwd,
      env: spec.env,
    });
    this.coalescer = new OutputCoalescer({
      intervalMs: spec.outputIntervalMs,
      maxPendingChars: spec.maxPendingChars,
      emit: (chunks) => this.emit(chunks.map((c) => c.text).join('')),
      pause: () => this.pty.pause(),
      resume: () => this.pty.resume(),
    });
    this.pty.onData((text) => this.coalescer.push('pty', text));
    this.pty.onExit((e) => void this.onPtyExit({ exitCode: e.exitCode, signal: e.signal ?? null }));
  }

  get cols(): number {
    return this.size.cols;
  }

  get rows(): number {
    return this.size.rows;
  }

  get exited(): boolean {
    return this.exitInfo !== null;
  }

  write(data: string): void {
    if (typeof data !== 'string') throw new AppError('BAD_INPUT', 'Terminal input must be text.');
    if (data.length > MAX_TERMINAL_WRITE_CHARS) throw new AppError('TOO_LARGE', 'That paste is too large for the terminal.');
    if (this.exitInfo || data.length === 0) return;
    this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    const size = validateTerminalSize(cols, rows);
    if (this.exitInfo) return;
    this.size = size;
    this.pty.resize(size.cols, size.rows);
  }

  /** Recent output (bounded) for a client that attaches now; subscribe with onData for the rest. */
  scrollback(): string {
    return this.scroll.snapshot();
  }

  onData(listener: (text: string) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  /** Called once when the shell ends (at once, asynchronously, if it already has). */
  onExit(listener: (e: TerminalExit) => void): () => void {
    if (this.exitInfo) {
      const info = this.exitInfo;
      queueMicrotask(() => listener(info));
      return () => {};
    }
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Shows a line from Tandem itself (not the program) to everyone watching, e.g. skipped files. */
  notice(text: string): void {
    if (!this.exitInfo) this.coalescer.push('pty', text);
  }

  /** Kills the shell and everything it started. */
  kill(): void {
    if (this.exitInfo) return;
    try {
      this.pty.kill('SIGKILL');
    } catch {
      // already gone
    }
    void this.spec.cgroup?.killAll();
  }

  private emit(text: string): void {
    this.scroll.append(text);
    for (const l of this.dataListeners) {
      try {
        l(text);
      } catch (e) {
        this.spec.onError(`onData listener of terminal ${this.id} threw`, e);
      }
    }
  }

  private async onPtyExit(info: TerminalExit): Promise<void> {
    if (this.exitInfo) return;
    this.coalescer.close();
    this.exitInfo = info;
    try {
      await this.spec.cgroup?.destroy();
    } catch (e) {
      this.spec.onError(`cgroup cleanup of terminal ${this.id} failed`, e);
    }
    for (const l of this.exitListeners) {
      try {
        l(info);
      } catch (e) {
        this.spec.onError(`onExit listener of terminal ${this.id} threw`, e);
      }
    }
    this.exitListeners.clear();
    this.dataListeners.clear();
    this.resolveClosed(info);
  }
}
