import type { RunEndReason } from '@tandem/sandbox';
import type { ProjectStreamEventName, ProjectStreamEvents } from '@tandem/protocol';

/**
 * What participants receive about runs and terminals, on the project channel of the EventHub
 * (every member's one SSE stream):
 *
 *   RUN_EVENT            a full `RunView` when a run starts and when it ends. Replaces what the
 *                        client had for that run id.
 *   RUN_OUTPUT_EVENT     `RunOutput`: coalesced output of a live run (≤ one per 25 ms).
 *   TERMINAL_EVENT       a full `TerminalView` when a terminal opens, is resized or exits.
 *   TERMINAL_DATA_EVENT  `TerminalData`: coalesced output of a terminal (≤ one per 16 ms).
 *   GENERATED_EVENT      `GeneratedImported`: a generated file became a project file (refetch the list).
 *   QUEUE_EVENT          `SandboxQueued`: a run or terminal waits for a free sandbox (the host is
 *                        full): its position as it changes, then `position: null` once it started
 *                        or gave up (the start call itself answers how).
 *
 * Output events carry `end`: the number of characters of that run/terminal delivered so far,
 * including this chunk. A client reattaching (page reload) subscribes first, then fetches the
 * snapshot (`runs.output` / `terminals.scrollback`, which carry the same `end`) and applies only
 * events past it; an event whose start (`end - text.length`) is beyond what it has means it
 * missed something: it refetches the snapshot. `resync` on the stream means the same.
 */
export const RUN_EVENT = 'sandbox.run' as const;
export const RUN_OUTPUT_EVENT = 'sandbox.output' as const;
export const TERMINAL_EVENT = 'sandbox.terminal' as const;
export const TERMINAL_DATA_EVENT = 'sandbox.terminalData' as const;
export const GENERATED_EVENT = 'sandbox.generated' as const;
export const QUEUE_EVENT = 'sandbox.queued' as const;

export interface UserRef {
  id: string;
  name: string;
}

/** `running` while live; then how it ended. `interrupted`: the server stopped during the run. */
export type RunStatus = 'running' | RunEndReason | 'interrupted';

export interface RunView {
  id: string;
  projectId: string;
  command: string;
  status: RunStatus;
  exitCode: number | null;
  durationMs: number | null;
  startedAt: string;
  endedAt: string | null;
  startedBy: UserRef;
  /** One line for people: why it ended when that was not the program's own choice. */
  detail: string | null;
}

export interface RunOutput {
  runId: string;
  stream: 'stdout' | 'stderr';
  text: string;
  end: number;
}

/** Output kept for a run (its tail, when it printed more than the server keeps). */
export interface RunOutputSnapshot {
  runId: string;
  chunks: { stream: 'stdout' | 'stderr'; text: string }[];
  /** Characters delivered so far (same counter as RunOutput.end). */
  end: number;
  /** Characters dropped from the front (kept output starts at this offset). */
  omitted: number;
}

export interface TerminalView {
  id: string;
  projectId: string;
  /** "Terminal 1", "Terminal 2", … in order of opening within the project. */
  title: string;
  cols: number;
  rows: number;
  openedBy: UserRef;
  openedAt: string;
  /** Set once the shell ended; the terminal is then gone from the server. */
  exitCode: number | null;
  exited: boolean;
  /**
   * The server process that owns the pty. Input for a terminal must reach this node; with one
   * node it is always this one (the seam where a multi-node setup routes writes).
   */
  node: string;
}

export interface TerminalData {
  terminalId: string;
  data: string;
  end: number;
}

export interface TerminalScrollback {
  terminalId: string;
  /** Recent output (bounded; older output is dropped on the server). */
  data: string;
  end: number;
}

export interface GeneratedImported {
  path: string;
  fileId: string;
  importedBy: UserRef;
}

export interface SandboxQueued {
  projectId: string;
  /** One waiting start. */
  ticket: string;
  kind: 'run' | 'terminal';
  user: UserRef;
  /** 1 = next to start; null = no longer waiting. */
  position: number | null;
}

declare module '@tandem/protocol' {
  interface ProjectStreamEvents {
    'sandbox.run': RunView;
    'sandbox.output': RunOutput;
    'sandbox.terminal': TerminalView;
    'sandbox.terminalData': TerminalData;
    'sandbox.generated': GeneratedImported;
    'sandbox.queued': SandboxQueued;
  }
}

/** Publishes a typed event on a project's channel. */
export type ProjectPublisher = <K extends ProjectStreamEventName>(projectId: string, type: K, data: ProjectStreamEvents[K]) => void;
