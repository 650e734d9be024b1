import { AGENT_EVENTS, type AcpToolKind, type AcpToolStatus, type AgentItem, type AgentPlanEntry } from '@tandem/protocol';
import type { ContentBlock, SessionUpdate, ToolCallContent, ToolCallLocation } from '@agentclientprotocol/sdk';
import { ITEM_TEXT_LIMIT, type LiveAgentRun } from '../LiveAgentRun.ts';

type ToolCallItem = Extract<AgentItem, { kind: 'tool_call' }>;
type PlanItem = Extract<AgentItem, { kind: 'plan' }>;

const TOOL_KINDS: readonly AcpToolKind[] = ['read', 'edit', 'delete', 'move', 'search', 'execute', 'think', 'fetch', 'other'];
const MAX_PLAN_ENTRIES = 50;
const MAX_LOCATIONS = 20;

/** Where the project appears inside the sandbox; ACP paths are absolute. */
export const SANDBOX_ROOT = '/project';

/** An absolute ACP path as a project path ('' for the root), or null when it is outside /project. */
export function projectPathOf(path: string): string | null {
  if (path === SANDBOX_ROOT || path === `${SANDBOX_ROOT}/`) return '';
  return path.startsWith(`${SANDBOX_ROOT}/`) ? path.slice(SANDBOX_ROOT.length + 1) : null;
}

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text': return block.text;
    case 'resource_link': return `[${block.name}](${block.uri})`;
    case 'resource': return 'text' in block.resource ? block.resource.text : `[${block.resource.uri}]`;
    default: return `[${block.type}]`;
  }
}

function contentSummary(content: ToolCallContent[] | null | undefined): string | null {
  if (!content || content.length === 0) return null;
  const parts = content.map((c) => (c.type === 'content' ? blockText(c.content) : c.type === 'diff' ? `diff of ${projectPathOf(c.path) ?? c.path}` : 'terminal output'));
  return parts.join('\n').slice(0, 300);
}

function locationsOf(locations: ToolCallLocation[] | null | undefined): Array<{ path: string; line?: number }> {
  return (locations ?? []).slice(0, MAX_LOCATIONS).map((l) => ({ path: projectPathOf(l.path) ?? l.path, ...(typeof l.line === 'number' ? { line: l.line } : {}) }));
}

function rawInputOf(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const json = JSON.stringify(value);
  return json.length > 4000 ? { truncated: json.slice(0, 4000) } : (value as Record<string, unknown>);
}

/**
 * Turns an external agent's `session/update` notifications into the run's transcript, the same
 * items (and `agent.*` events) the built-in agent produces: message and thought chunks grow one
 * item per stretch of text, tool calls are items updated in place by `toolCallId`, the plan is
 * one item replaced on every update. Commands, modes and context-usage updates are not shown.
 */
export class AcpTranscript {
  readonly #run: LiveAgentRun;
  readonly #toolCalls = new Map<string, { seq: number; started: number }>();
  #planSeq: number | null = null;
  turn = 1;
  /** Tool calls the agent announced (the policy's step limit counts them). */
  toolCalls = 0;
  /** When the current turn's first message or thought chunk came (`performance.now()`); the runner resets it. */
  firstOutputAt: number | null = null;

  constructor(run: LiveAgentRun) {
    this.#run = run;
  }

  apply(update: SessionUpdate): void {
    const run = this.#run;
    switch (update.sessionUpdate) {
      case 'agent_message_chunk':
      case 'agent_thought_chunk':
        return this.#text(update.sessionUpdate === 'agent_message_chunk' ? 'agent_message' : 'thought', blockText(update.content));
      case 'tool_call': {
        const known = this.#toolCalls.get(update.toolCallId);
        if (known) return this.#updateTool(known.seq, update);
        this.toolCalls++;
        const item = run.add<ToolCallItem>({
          kind: 'tool_call', toolCallId: update.toolCallId.slice(0, 200), name: update.name ?? 'acp', title: (update.title || 'Tool call').slice(0, 300),
          toolKind: kindOf(update.kind), status: update.status ?? 'pending', rawInput: rawInputOf(update.rawInput),
          locations: locationsOf(update.locations), summary: contentSummary(update.content), resultChars: 0, durationMs: null, command: null, turn: this.turn,
        });
        this.#toolCalls.set(update.toolCallId, { seq: item.seq, started: performance.now() });
        return;
      }
      case 'tool_call_update': {
        const known = this.#toolCalls.get(update.toolCallId);
        if (known) return this.#updateTool(known.seq, update);
        return this.apply({ ...update, sessionUpdate: 'tool_call', title: update.title ?? 'Tool call' } as SessionUpdate);
      }
      case 'plan': {
        const entries: AgentPlanEntry[] = update.entries.slice(0, MAX_PLAN_ENTRIES).map((e) => ({ content: e.content.slice(0, 500), priority: e.priority, status: e.status }));
        if (this.#planSeq === null) this.#planSeq = run.add<PlanItem>({ kind: 'plan', entries }).seq;
        else run.update({ ...(run.items[this.#planSeq] as PlanItem), entries });
        return;
      }
      default:
        return; // user_message_chunk (Tandem recorded the message itself), commands, modes, usage
    }
  }

  #text(kind: 'agent_message' | 'thought', text: string): void {
    this.firstOutputAt ??= performance.now();
    const run = this.#run;
    const last = run.items.at(-1);
    if (last && last.kind === kind && last.turn === this.turn) {
      // Past the item's limit nothing more is kept or sent: an agent cannot flood the watchers.
      const added = text.slice(0, ITEM_TEXT_LIMIT - last.text.length);
      if (added === '') return;
      const offset = last.text.length;
      last.text += added;
      run.publish(AGENT_EVENTS.delta, { runId: run.id, seq: last.seq, offset, text: added });
      return;
    }
    run.add({ kind, text: text.slice(0, ITEM_TEXT_LIMIT), turn: this.turn });
  }

  #updateTool(seq: number, update: Extract<SessionUpdate, { sessionUpdate: 'tool_call' | 'tool_call_update' }>): void {
    const item = this.#run.items[seq] as ToolCallItem;
    const status: AcpToolStatus = update.status ?? item.status;
    const ended = (status === 'completed' || status === 'failed') && item.durationMs === null;
    const started = this.#toolCalls.get(update.toolCallId)?.started ?? performance.now();
    this.#run.update({
      ...item,
      status,
      ...(update.title ? { title: update.title.slice(0, 300) } : {}),
      ...(update.kind ? { toolKind: kindOf(update.kind) } : {}),
      ...(update.rawInput !== undefined && update.rawInput !== null ? { rawInput: rawInputOf(update.rawInput) } : {}),
      ...(update.locations ? { locations: locationsOf(update.locations) } : {}),
      ...(update.content ? { summary: contentSummary(update.content) } : {}),
      ...(ended ? { durationMs: Math.round((performance.now() - started) * 100) / 100 } : {}),
    });
  }
}

function kindOf(kind: string | null | undefined): AcpToolKind {
  return TOOL_KINDS.includes(kind as AcpToolKind) ? (kind as AcpToolKind) : 'other';
}
