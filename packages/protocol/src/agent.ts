/**
 * Agent runs as every participant sees them: the run, its transcript, its changeset, and the
 * events on the project's SSE stream (`stream.events`).
 *
 * The transcript is shaped after the Agent Client Protocol (ACP) so that an external ACP agent can
 * feed the same runs later: `toAcpUpdate` maps each item one-to-one onto a `session/update`
 * notification, a permission item onto `session/request_permission` (and its outcome), and Stop
 * is `session/cancel`.
 */

export const AGENT_RUN_STATUSES = [
  'running', 'waiting_permission', 'ready', 'applied', 'rejected', 'stopped', 'interrupted', 'failed',
] as const;
export type AgentRunStatus = (typeof AGENT_RUN_STATUSES)[number];

/** Live statuses: the model loop is (or may be) working. */
export const AGENT_LIVE_STATUSES: readonly AgentRunStatus[] = ['running', 'waiting_permission'];

export interface AgentUserRef {
  id: string;
  name: string;
}

/** ACP `ToolKind`. */
export type AcpToolKind = 'read' | 'edit' | 'delete' | 'move' | 'search' | 'execute' | 'think' | 'fetch' | 'other';
/** ACP `ToolCallStatus`. */
export type AcpToolStatus = 'pending' | 'in_progress' | 'completed' | 'failed';

export interface AgentCommandResult {
  command: string;
  exitCode: number | null;
  durationMs: number;
  /** The end of the output (what the model sees). */
  tail: string;
  /** How the command ended when it did not simply exit (timeout, killed, …). */
  reason: string | null;
}

interface ItemBase {
  /** Position in the transcript; events that change an item carry it. */
  seq: number;
  at: string;
}

export type AgentItem =
  /** The task (steering: false) or a follow-up message from a participant (steering: true). */
  | (ItemBase & { kind: 'user_message'; text: string; author: AgentUserRef; steering: boolean })
  /** The model's text of one turn; grows through `agent.delta` events while it streams. */
  | (ItemBase & { kind: 'agent_message'; text: string; turn: number })
  /** An external agent's reasoning shown as it thinks (ACP `agent_thought_chunk`); grows like a message. */
  | (ItemBase & { kind: 'thought'; text: string; turn: number })
  /** An external agent's plan (ACP `plan`): one item per run, replaced whole on every update. */
  | (ItemBase & { kind: 'plan'; entries: AgentPlanEntry[] })
  | (ItemBase & {
    kind: 'tool_call';
    toolCallId: string;
    /** Function name the model called (`read_file`, `run_command`, …). */
    name: string;
    title: string;
    toolKind: AcpToolKind;
    status: AcpToolStatus;
    /**
     * Arguments as parsed (or `{ raw }` when the model's JSON was malformed). While the call is
     * `pending` (the model is still generating it): the string arguments complete so far.
     */
    rawInput: Record<string, unknown>;
    /** While `pending`: the arguments' JSON as generated so far (the first 4,000 characters). */
    inputText?: string;
    locations: Array<{ path: string; line?: number }>;
    /** Short result for display (the model got the whole result). */
    summary: string | null;
    resultChars: number;
    durationMs: number | null;
    command: AgentCommandResult | null;
    turn: number;
  })
  | (ItemBase & {
    kind: 'permission';
    requestId: string;
    toolCallId: string;
    command: string;
    options: AgentPermissionOption[];
    /** null while waiting. `cancelled`: the run stopped before anyone decided. */
    outcome: null | { outcome: 'selected'; optionId: 'allow' | 'deny'; by: AgentUserRef } | { outcome: 'cancelled' };
  })
  /** A review decision, a Stop, a check, the end of the run: one line for the record. */
  | (ItemBase & { kind: 'notice'; text: string; author: AgentUserRef | null; tone: 'info' | 'error' });

export interface AgentPlanEntry {
  content: string;
  priority: 'high' | 'medium' | 'low';
  status: 'pending' | 'in_progress' | 'completed';
}

export interface AgentPermissionOption {
  optionId: 'allow' | 'deny';
  name: string;
  /** ACP `PermissionOptionKind`. */
  kind: 'allow_once' | 'reject_once';
}

export const AGENT_PERMISSION_OPTIONS: readonly AgentPermissionOption[] = [
  { optionId: 'allow', name: 'Allow', kind: 'allow_once' },
  { optionId: 'deny', name: 'Deny', kind: 'reject_once' },
];

export interface AgentTurnMetrics {
  turn: number;
  promptTokens: number | null;
  /** null: an external agent that did not report its usage for this turn. */
  completionTokens: number | null;
  ttftMs: number | null;
  tokensPerSecond: number | null;
  durationMs: number;
  /**
   * Model steps in this turn: absent for the built-in agent (each turn is one step); an external
   * agent's prompt turn counts one step per tool call it announced plus the one that answered.
   */
  steps?: number;
}

export type AgentHunkStatus = 'intact' | 'stale' | 'conflict';
export type AgentHunkDecision = 'pending' | 'accepted' | 'rejected';

export interface AgentHunkView {
  index: number;
  /** For a content hunk: the lines removed and inserted; for a create/delete/rename pseudo-hunk, a label. */
  removed: string;
  inserted: string;
  decision: AgentHunkDecision;
  status: AgentHunkStatus;
  approvals: number;
  /**
   * A content hunk's place in the live file: Yjs relative positions (base64) over its removed
   * text, as a suggestion's anchor, so every tab draws it on its own copy. null for a pseudo-hunk.
   */
  anchor: { start: string; end: string } | null;
}

export interface AgentFileView {
  kind: 'modify' | 'create' | 'delete' | 'rename';
  path: string;
  newPath: string | null;
  /** The live file's document id (null for a created file). */
  fileId: string | null;
  /** The review state machine's status for this file (`ready`, `accepted`, `partially_accepted`, …). */
  status: string;
  hunks: AgentHunkView[];
}

export interface AgentChangesetView {
  runId: string;
  files: AgentFileView[];
  /** Accepted changes that one Undo can revert for everyone (on the project's home node). */
  undoable: boolean;
}

export interface AgentRunView {
  id: string;
  projectId: string;
  task: string;
  status: AgentRunStatus;
  startedBy: AgentUserRef;
  provider: string;
  model: string;
  createdAt: string;
  endedAt: string | null;
  steps: number;
  tokens: number;
  error: string | null;
  /** The last command the agent or a reviewer ran on documents + changeset. */
  lastCheck: (AgentCommandResult & { by: AgentUserRef | null }) | null;
  /** Set while the run waits for an Allow/Deny decision. */
  pendingPermission: { requestId: string; command: string } | null;
}

export interface AgentPolicy {
  /** Who may start and steer runs. */
  starters: 'editors' | 'owner';
  maxSteps: number;
  maxTokens: number;
  /** Commands the agent may run without asking: `*` matches any run of characters. */
  allowedCommands: string[];
  /** Paths the AI never reads or writes (globs: `*` within a segment, `**` across segments). */
  forbiddenPaths: string[];
}

export const DEFAULT_AGENT_POLICY: AgentPolicy = {
  starters: 'editors',
  maxSteps: 30,
  maxTokens: 200_000,
  allowedCommands: ['npm test', 'npm run *', 'node *'],
  forbiddenPaths: ['.env', '.env.*', 'secrets/**'],
};

/** SSE event names on the project channel. */
export const AGENT_EVENTS = {
  run: 'agent.run',
  item: 'agent.item',
  delta: 'agent.delta',
  output: 'agent.output',
  changeset: 'agent.changeset',
} as const;

export interface AgentItemEvent {
  runId: string;
  item: AgentItem;
}
export interface AgentDeltaEvent {
  runId: string;
  seq: number;
  /** Where `text` starts in the turn's text: a tab that loaded the item meanwhile skips what it has. */
  offset: number;
  text: string;
}
export interface AgentOutputEvent {
  runId: string;
  toolCallId: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** ACP `session/update` payloads (the `update` field), one per transcript item. */
export type AcpSessionUpdate =
  | { sessionUpdate: 'user_message_chunk'; content: { type: 'text'; text: string } }
  | { sessionUpdate: 'agent_message_chunk'; content: { type: 'text'; text: string } }
  | { sessionUpdate: 'agent_thought_chunk'; content: { type: 'text'; text: string } }
  | { sessionUpdate: 'plan'; entries: AgentPlanEntry[] }
  | {
    sessionUpdate: 'tool_call' | 'tool_call_update';
    toolCallId: string;
    title: string;
    kind: AcpToolKind;
    status: AcpToolStatus;
    rawInput: Record<string, unknown>;
    locations: Array<{ path: string; line?: number }>;
    content: Array<{ type: 'content'; content: { type: 'text'; text: string } }>;
  };

/**
 * The ACP message an item corresponds to: a `session/update` for messages and tool calls, a
 * `session/request_permission` for permission prompts, nothing for notices (Tandem-only record).
 */
export function toAcpUpdate(sessionId: string, item: AgentItem):
  | { method: 'session/update'; params: { sessionId: string; update: AcpSessionUpdate } }
  | { method: 'session/request_permission'; params: { sessionId: string; toolCall: { toolCallId: string }; options: AgentPermissionOption[] } }
  | null {
  switch (item.kind) {
    case 'user_message':
      return { method: 'session/update', params: { sessionId, update: { sessionUpdate: 'user_message_chunk', content: { type: 'text', text: item.text } } } };
    case 'agent_message':
      return { method: 'session/update', params: { sessionId, update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: item.text } } } };
    case 'thought':
      return { method: 'session/update', params: { sessionId, update: { sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: item.text } } } };
    case 'plan':
      return { method: 'session/update', params: { sessionId, update: { sessionUpdate: 'plan', entries: item.entries } } };
    case 'tool_call':
      return {
        method: 'session/update',
        params: {
          sessionId,
          update: {
            sessionUpdate: item.status === 'pending' || item.status === 'in_progress' ? 'tool_call' : 'tool_call_update',
            toolCallId: item.toolCallId,
            title: item.title,
            kind: item.toolKind,
            status: item.status,
            rawInput: item.rawInput,
            locations: item.locations,
            content: item.summary === null ? [] : [{ type: 'content', content: { type: 'text', text: item.summary } }],
          },
        },
      };
    case 'permission':
      return { method: 'session/request_permission', params: { sessionId, toolCall: { toolCallId: item.toolCallId }, options: item.options } };
    case 'notice':
      return null;
  }
}

declare module './streamEvents.ts' {
  interface ProjectStreamEvents {
    'agent.run': AgentRunView;
    'agent.item': AgentItemEvent;
    'agent.delta': AgentDeltaEvent;
    'agent.output': AgentOutputEvent;
    /** The run's changeset changed: refetch it (`agent.changeset` query). */
    'agent.changeset': { runId: string };
  }
}
