import { AppError } from '@tandem/protocol';
import type { SandboxHost, TerminalSize } from '@tandem/sandbox';
import { KeyedSerialQueue } from '../suggestions/KeyedSerialQueue.ts';
import { OutputBudget } from './OutputBudget.ts';
import {
  TERMINAL_DATA_EVENT, TERMINAL_EVENT,
  type ProjectPublisher, type TerminalData, type TerminalScrollback, type TerminalView, type UserRef,
} from './sandboxEvents.ts';
import type { SessionGate } from './SessionGate.ts';
import type { SlotGrant } from './SlotQueue.ts';
import { TerminalSession } from './TerminalSession.ts';
import type { WorkingCopySync } from './WorkingCopySync.ts';

export interface TerminalSessionsOptions {
  host: SandboxHost;
  sync: WorkingCopySync;
  gate: SessionGate;
  publish: ProjectPublisher;
  /** Names this server process in TerminalView.node. */
  nodeId: string;
  /** A terminal nobody typed into for this long is closed. */
  idleMs: number;
  /** Terminal output broadcast to participants: sustained rate and burst (chars). */
  output: { perSecond: number; burst: number };
  now: () => number;
  logError: (message: string, error: unknown) => void;
}

/**
 * The projects' shared terminals on this node (split from SandboxService): opened in the project's
 * sandbox, output broadcast to participants, input in order and seeing the documents as they are.
 */
export class TerminalSessions {
  private readonly terminals = new Map<string, TerminalSession>();
  private readonly inputQueue = new KeyedSerialQueue();

  constructor(private readonly o: TerminalSessionsOptions) {}

  async open(projectId: string, user: UserRef, size: TerminalSize): Promise<TerminalView> {
    const release = this.o.gate.reserve(user);
    let terminal: Awaited<ReturnType<SandboxHost['openTerminal']>>;
    let notice: string | null;
    let slot: SlotGrant | null = null;
    try {
      slot = await this.o.gate.admit(projectId, 'terminal', user);
      try {
        ({ notice } = await this.o.sync.sync(projectId, { alwaysNotice: true }));
      } catch (error) {
        // A full project disk must not lock people out of the terminal they need to free space.
        if (!(error instanceof AppError) || error.code !== 'TOO_LARGE') throw error;
        notice = `[tandem] ${error.message}\n`;
      }
      terminal = await this.o.host.openTerminal(projectId, size);
    } finally {
      slot?.();
      release();
    }
    const session = new TerminalSession({
      terminal,
      title: this.nextTitle(projectId),
      openedBy: user,
      node: this.o.nodeId,
      budget: new OutputBudget(this.o.output.perSecond, this.o.output.burst, this.o.now()),
      now: this.o.now,
      idleMs: this.o.idleMs,
      onData: (s, data, end) => {
        const event: TerminalData = { terminalId: s.id, data, end };
        this.o.publish(s.projectId, TERMINAL_DATA_EVENT, event);
      },
      onExit: (s) => {
        this.terminals.delete(s.id);
        this.o.publish(s.projectId, TERMINAL_EVENT, s.view());
      },
    });
    this.terminals.set(session.id, session);
    // After the session subscribed: the notice is broadcast and counted like program output.
    if (notice) session.notice(notice.replace(/\n/g, '\r\n'));
    const view = session.view();
    this.o.publish(projectId, TERMINAL_EVENT, view);
    return view;
  }

  list(projectId: string): TerminalView[] {
    return [...this.terminals.values()].filter((s) => s.projectId === projectId).map((s) => s.view());
  }

  scrollback(projectId: string, terminalId: string): TerminalScrollback {
    return this.get(projectId, terminalId).scrollback();
  }

  /**
   * Types into a terminal. When the input ends a command line (Enter) and a document changed
   * since the working copy was last synced, the files are synced first: a command typed in the
   * terminal sees what everyone sees in the editor. Writes to one terminal keep their order.
   */
  async write(projectId: string, terminalId: string, data: string): Promise<void> {
    const session = this.get(projectId, terminalId);
    await this.inputQueue.run(terminalId, async () => {
      if (/[\r\n]/.test(data) && !this.o.sync.isCurrent(projectId)) {
        try {
          const { notice } = await this.o.sync.sync(projectId);
          if (notice) session.notice(notice.replace(/\n/g, '\r\n'));
        } catch (error) {
          // The keystroke matters more than the refresh; the next Enter tries again.
          if (error instanceof AppError && error.code === 'TOO_LARGE') session.notice(`[tandem] ${error.message}\r\n`);
          else this.o.logError(`syncing the working copy of ${projectId} before terminal input failed`, error);
        }
      }
      session.write(data);
    });
  }

  resize(projectId: string, terminalId: string, size: TerminalSize): TerminalView {
    const session = this.get(projectId, terminalId);
    session.resize(size.cols, size.rows);
    const view = session.view();
    this.o.publish(projectId, TERMINAL_EVENT, view);
    return view;
  }

  async kill(projectId: string, terminalId: string): Promise<void> {
    const session = this.get(projectId, terminalId);
    session.kill();
    await session.closed();
  }

  /** Open terminals the user opened. */
  heldBy(userId: string): number {
    let n = 0;
    for (const terminal of this.terminals.values()) if (terminal.openedBy.id === userId) n++;
    return n;
  }

  private get(projectId: string, terminalId: string): TerminalSession {
    const session = this.terminals.get(terminalId);
    // Terminals live on the node that opened them (TerminalView.node); with several nodes, a
    // write for a terminal owned elsewhere would be forwarded there instead of refused.
    if (!session || session.projectId !== projectId || !session.isOpen) throw new AppError('NOT_FOUND', 'This terminal is closed.');
    return session;
  }

  private nextTitle(projectId: string): string {
    const used = new Set(this.list(projectId).map((t) => t.title));
    let n = 1;
    while (used.has(`Terminal ${n}`)) n++;
    return `Terminal ${n}`;
  }
}
