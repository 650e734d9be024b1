import type { SandboxTerminal } from '@tandem/sandbox';
import type { OutputBudget } from './OutputBudget.ts';
import type { TerminalScrollback, TerminalView, UserRef } from './sandboxEvents.ts';

export interface TerminalSessionOptions {
  terminal: SandboxTerminal;
  title: string;
  openedBy: UserRef;
  node: string;
  budget: OutputBudget;
  now: () => number;
  /** A terminal nobody typed into for this long is closed (it holds a sandbox slot). */
  idleMs: number;
  onData: (session: TerminalSession, data: string, end: number) => void;
  onExit: (session: TerminalSession) => void;
}

/**
 * One shared terminal: a sandboxed pty plus what participants need around it — the count of
 * characters broadcast (`end`, for reattaching without gaps or duplicates), a broadcast budget,
 * and an idle timeout. Who may write is checked by the router; this only forwards.
 */
export class TerminalSession {
  readonly id: string;
  readonly projectId: string;
  readonly title: string;
  readonly openedBy: UserRef;
  readonly openedAt: string;
  private end = 0;
  private exitCode: number | null = null;
  private exited = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: TerminalSessionOptions) {
    const { terminal } = options;
    this.id = terminal.id;
    this.projectId = terminal.projectId;
    this.title = options.title;
    this.openedBy = options.openedBy;
    this.openedAt = new Date(terminal.createdAt).toISOString();
    terminal.onData((text) => this.broadcast(text));
    terminal.onExit((e) => {
      this.exited = true;
      this.exitCode = e.exitCode;
      if (this.idleTimer) clearTimeout(this.idleTimer);
      options.onExit(this);
    });
    this.touch();
  }

  get isOpen(): boolean {
    return !this.exited;
  }

  /** A line from Tandem (not the program) in the terminal, for everyone watching it. */
  notice(text: string): void {
    this.options.terminal.notice(text);
  }

  write(data: string): void {
    this.touch();
    this.options.terminal.write(data);
  }

  resize(cols: number, rows: number): void {
    this.options.terminal.resize(cols, rows);
  }

  kill(): void {
    this.options.terminal.kill();
  }

  /** Resolves once the shell is gone and its cgroup removed. */
  closed(): Promise<unknown> {
    return this.options.terminal.closed;
  }

  view(): TerminalView {
    const t = this.options.terminal;
    return {
      id: this.id, projectId: this.projectId, title: this.title, cols: t.cols, rows: t.rows,
      openedBy: this.openedBy, openedAt: this.openedAt, exitCode: this.exitCode, exited: this.exited, node: this.options.node,
    };
  }

  /**
   * What a client attaching now writes first. The pty's scrollback already holds every chunk
   * counted in `end` (it is appended just before listeners run), so the client continues with
   * events whose `end` is greater.
   */
  scrollback(): TerminalScrollback {
    return { terminalId: this.id, data: this.options.terminal.scrollback(), end: this.end };
  }

  private broadcast(text: string): void {
    const shown = this.options.budget.take(text, this.options.now());
    if (!shown) return;
    this.end += shown.length;
    this.options.onData(this, shown, this.end);
  }

  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.exited) return;
    this.idleTimer = setTimeout(() => this.kill(), this.options.idleMs);
    this.idleTimer.unref();
  }
}
