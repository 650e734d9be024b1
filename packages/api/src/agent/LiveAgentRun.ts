import {
  AGENT_EVENTS, type AgentChangesetView, type AgentItem, type AgentRunView, type AgentTurnMetrics, type AgentUserRef,
  type ProjectStreamEventName, type ProjectStreamEvents,
} from '@tandem/protocol';
import type { AiEditOrigin } from '@tandem/review';
import { projectChannel, type EventHub } from '../EventHub.ts';
import { AiEditUndo } from '../suggestions/AiEditUndo.ts';
import type { AgentWorkspace } from './AgentWorkspace.ts';

/** The run's own working copy (documents + changeset), never the project's shared one. */
export function workingCopyId(runId: string): string {
  return `agent-${runId}`;
}

/** Longest text kept per transcript item (the model got all of it; this is the record). */
export const ITEM_TEXT_LIMIT = 20_000;
/** Transcript items per run: beyond this the run stops (it cannot be doing anything useful). */
export const MAX_ITEMS = 2_000;
/**
 * At most one changeset event per run per this many ms while an agent writes in a burst: each
 * event makes every watcher fetch the changeset again (an external agent can write a file per ms).
 */
export const CHANGESET_EVENT_MS = 100;
/** Longest a run's events are held back (see `hold`): a slow tool shows as it runs. */
const HOLD_MAX_MS = 20;

export interface PendingPermission {
  requestId: string;
  seq: number;
  resolve: (decision: { allow: boolean; by: AgentUserRef } | null) => void;
}

/**
 * One run in the memory of the project's home node: what participants see (`view`, `items`), the
 * private changeset (`workspace`), and the handles that steer it (abort, steering queue, the
 * pending permission, the undo of its accepted changes).
 */
export class LiveAgentRun {
  view: AgentRunView;
  readonly items: AgentItem[];
  readonly turns: AgentTurnMetrics[];
  readonly workspace: AgentWorkspace;
  controller: AbortController | null = null;
  readonly steering: Array<{ text: string; author: AgentUserRef }> = [];
  permission: PendingPermission | null = null;
  origin: AiEditOrigin | null = null;
  undo = new AiEditUndo();
  undoneBy: AgentUserRef | null = null;
  loop: Promise<void> | null = null;
  readonly #hub: EventHub;
  #changesetAt = -Infinity;
  #changesetTimer: NodeJS.Timeout | null = null;
  #held: Array<() => void> | null = null;
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(hub: EventHub, view: AgentRunView, workspace: AgentWorkspace, items: AgentItem[] = [], turns: AgentTurnMetrics[] = []) {
    this.#hub = hub;
    this.view = view;
    this.workspace = workspace;
    this.items = items;
    this.turns = turns;
  }

  get id(): string {
    return this.view.id;
  }

  get live(): boolean {
    return this.view.status === 'running' || this.view.status === 'waiting_permission';
  }

  publish<K extends ProjectStreamEventName>(type: K, data: ProjectStreamEvents[K]): void {
    if (this.#held) this.#held.push(() => this.#hub.publish(projectChannel(this.view.projectId), type, data));
    else this.#hub.publish(projectChannel(this.view.projectId), type, data);
  }

  /**
   * Keeps this run's events (in order) until `release()`: the runner holds them from the end of a
   * model's answer until its next request is on the wire, so writing them to every participant
   * (a socket write each) is not on the run's path. Only quick work may happen while held.
   */
  hold(maxMs = HOLD_MAX_MS): void {
    if (this.#held) return;
    this.#held = [];
    this.#holdTimer = setTimeout(() => this.release(), maxMs);
  }

  /** Sends the events held since `hold()`, in order. */
  release(): void {
    const held = this.#held;
    if (!held) return;
    this.#held = null;
    clearTimeout(this.#holdTimer);
    for (const send of held) send();
  }

  /**
   * Tells everyone the changeset changed: at once, or, within CHANGESET_EVENT_MS of the last
   * time, once at the end of that interval (so a burst of writes costs each watcher a few
   * fetches, and the last state always follows). `now` sends it at once (a turn's end).
   */
  changesetChanged(now = false): void {
    const wait = now ? 0 : this.#changesetAt + CHANGESET_EVENT_MS - Date.now();
    if (wait <= 0) {
      if (this.#changesetTimer) clearTimeout(this.#changesetTimer);
      this.#changesetTimer = null;
      this.#changesetAt = Date.now();
      this.publish(AGENT_EVENTS.changeset, { runId: this.id });
      return;
    }
    this.#changesetTimer ??= setTimeout(() => {
      this.#changesetTimer = null;
      this.changesetChanged(true);
    }, wait).unref();
  }

  publishRun(): void {
    this.publish(AGENT_EVENTS.run, this.view);
  }

  /** Appends an item (its seq is assigned here) and tells everyone. */
  add<T extends AgentItem = AgentItem>(item: T extends AgentItem ? Omit<T, 'seq' | 'at'> : never): T {
    const full = { ...item, seq: this.items.length, at: new Date().toISOString() } as unknown as T;
    this.items.push(full);
    // A copy: the stored item keeps growing (streamed text) while the event waits to be sent.
    this.publish(AGENT_EVENTS.item, { runId: this.id, item: { ...full } });
    return full;
  }

  /** Replaces item `seq` and tells everyone. */
  update(item: AgentItem): void {
    this.items[item.seq] = item;
    this.publish(AGENT_EVENTS.item, { runId: this.id, item: { ...item } });
  }

  notice(text: string, author: AgentUserRef | null = null, tone: 'info' | 'error' = 'info'): void {
    this.add({ kind: 'notice', text: text.slice(0, ITEM_TEXT_LIMIT), author, tone });
  }

  setStatus(status: AgentRunView['status'], extra: Partial<AgentRunView> = {}): void {
    this.release(); // a status change (Stop) goes out at once, after what came before it
    const ended = status !== 'running' && status !== 'waiting_permission' && this.view.endedAt === null;
    this.view = { ...this.view, ...extra, status, ...(ended ? { endedAt: new Date().toISOString() } : {}) };
    this.publishRun();
  }

  changesetView(files: AgentChangesetView['files']): AgentChangesetView {
    return { runId: this.id, files, undoable: !this.undo.empty && this.undoneBy === null };
  }
}
