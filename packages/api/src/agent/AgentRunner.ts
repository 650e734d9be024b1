import { randomUUID } from 'node:crypto';
import {
  AGENT_EVENTS, AGENT_PERMISSION_OPTIONS, type AgentCommandResult, type AgentItem, type AgentPolicy, type AgentUserRef,
} from '@tandem/protocol';
import {
  isInferenceError, meter, type ChatMessage, type ChatRequest, type InferenceChunk, type InferenceProvider, type MeteredStream, type ToolCall,
} from '@tandem/inference';
import { DeltaCoalescer } from '../ai/DeltaCoalescer.ts';
import { commandAllowed } from './agentPolicy.ts';
import { AGENT_SYSTEM_PROMPT, AGENT_TOOLS, presentTool, runWorkspaceTool } from './agentTools.ts';
import { ITEM_TEXT_LIMIT, MAX_ITEMS, type LiveAgentRun } from './LiveAgentRun.ts';
import { requestedNow } from '../ai/requestedNow.ts';

/** A turn's request already sent (the first turn's, while the run is being stored). */
export interface SentTurn {
  stream: MeteredStream;
  chunks: AsyncIterable<InferenceChunk>;
  /** Closes the request if the run never reads it. */
  cancel(): void;
}

type ToolCallItem = Extract<AgentItem, { kind: 'tool_call' }>;
type AssembledCall = Extract<InferenceChunk, { type: 'tool_call' }>;
type CallDelta = Extract<InferenceChunk, { type: 'tool_call_delta' }>;
/** A call of the turn: assembled, with the transcript item that showed it while it streamed. */
type TurnCall = AssembledCall & { item: ToolCallItem | undefined };

/** Runs a command on the run's documents + changeset in the sandbox, streaming its output. */
export type CommandRunner = (run: LiveAgentRun, command: string, toolCallId: string, signal: AbortSignal, options?: CommandOptions) => Promise<AgentCommandResult>;

export interface CommandOptions {
  /** Brings the working copy up to date instead of the default copy of documents + changeset. */
  sync?: () => Promise<void>;
  /** Every piece of output as it streams (besides the `agent.output` events). */
  onOutput?: (text: string) => void;
}

export interface AgentRunnerDeps {
  runCommand: CommandRunner;
  /** Stores the run (asked after every turn and its tools; not awaited: the caller coalesces writes, off the run's path). */
  persist: (run: LiveAgentRun) => Promise<void>;
  /** Upper bound on one turn's output. Default 4096 tokens. */
  maxTurnTokens?: number;
  /** Retries of a rate-limited or dropped turn before the run fails. Default 2. */
  retries?: number;
  /** Longest wait before a retry (a provider asking for more fails the run). Default 10 s. */
  maxRetryWaitMs?: number;
}

const RESULT_LIMIT = 30_000;
const TAIL_CHARS = 4000;
/** Streamed arguments shown to participants (the model's whole call still runs). */
const INPUT_SHOWN_CHARS = 4000;
/** Shortest time between two updates of a streaming call's arguments (each is one event to everyone). */
const INPUT_UPDATE_MS = 50;

/**
 * The agent loop of one run: a turn streams from the model (text to everyone as it arrives),
 * then its tool calls run one by one and their results go back to the model; steering messages
 * join at the start of the next turn. It ends when the model calls `finish` (or answers without
 * tools), at the policy's step or token limit, on Stop, or when the provider fails for good.
 * A tool that fails — bad arguments, no match, a forbidden path, a denied command — is a result
 * the model reads, never an exception here.
 */
export class AgentRunner {
  readonly #deps: Required<AgentRunnerDeps>;

  constructor(deps: AgentRunnerDeps) {
    this.#deps = { maxTurnTokens: 4096, retries: 2, maxRetryWaitMs: 10_000, ...deps };
  }

  /** Sends the first turn's request for `task` now; `run` reads it (or cancel() it). */
  sendFirstTurn(provider: InferenceProvider, task: string, signal: AbortSignal): SentTurn {
    const own = new AbortController();
    const stream = meter(provider.generate(this.#request(firstMessages(task)), AbortSignal.any([signal, own.signal])));
    return { stream, chunks: requestedNow(stream), cancel: () => own.abort() };
  }

  async run(run: LiveAgentRun, provider: InferenceProvider, policy: AgentPolicy, signal: AbortSignal, first?: SentTurn): Promise<void> {
    try {
      await this.#loop(run, provider, policy, signal, first);
    } finally {
      run.release();
      first?.cancel(); // unread when a limit stopped the run before its first turn; a no-op otherwise
    }
  }

  async #loop(run: LiveAgentRun, provider: InferenceProvider, policy: AgentPolicy, signal: AbortSignal, first?: SentTurn): Promise<void> {
    const messages: ChatMessage[] = firstMessages(run.view.task);
    for (let step = 0; ; step++) {
      if (signal.aborted) return;
      for (const s of run.steering.splice(0)) messages.push({ role: 'user', content: `${s.author.name} (a participant watching you) says: ${s.text}` });
      if (step >= policy.maxSteps) {
        run.notice(`Stopped at the project's step limit (${policy.maxSteps}).`);
        return;
      }
      if (run.view.tokens >= policy.maxTokens) {
        run.notice(`Stopped at the project's token limit (${policy.maxTokens}).`);
        return;
      }
      if (run.items.length >= MAX_ITEMS) {
        run.notice('Stopped: the transcript is full.', null, 'error');
        return;
      }
      const turn = await this.#turnWithRetries(run, provider, messages, signal, step + 1, step === 0 ? first : undefined);
      if (turn === null) return; // cancelled
      run.view = { ...run.view, steps: step + 1 };
      run.publishRun();
      messages.push({ role: 'assistant', content: turn.text, ...(turn.calls.length > 0 ? { toolCalls: turn.calls.map((c) => c.call) } : {}) });
      void this.#deps.persist(run);
      if (turn.calls.length === 0) return; // answered without a tool: done
      let finished = false;
      for (const call of turn.calls) {
        if (signal.aborted) {
          for (const c of turn.calls) {
            const item = c.item && run.items[c.item.seq];
            if (item?.kind === 'tool_call' && item.status === 'pending') run.update({ ...item, status: 'failed', summary: 'stopped', inputText: undefined });
          }
          return;
        }
        const result = await this.#tool(run, call, policy, signal, step + 1);
        messages.push({ role: 'tool', toolCallId: call.call.id, content: result });
        if (call.call.name === 'finish' && call.args) finished = true;
      }
      void this.#deps.persist(run);
      if (finished) return;
    }
  }

  async #turnWithRetries(run: LiveAgentRun, provider: InferenceProvider, messages: readonly ChatMessage[], signal: AbortSignal, turn: number, sent?: SentTurn):
    Promise<{ text: string; calls: TurnCall[] } | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#turn(run, provider, messages, signal, turn, attempt === 0 ? sent : undefined);
      } catch (e) {
        const retryable = isInferenceError(e) && ['rate_limited', 'connection_dropped', 'idle_timeout', 'provider'].includes(e.kind);
        if (!retryable || attempt >= this.#deps.retries || signal.aborted) throw e;
        const wait = e.retryAfterMs ?? 500 * 2 ** attempt;
        if (wait > this.#deps.maxRetryWaitMs) throw e;
        run.notice(`${e.message} Retrying in ${(wait / 1000).toFixed(1)} s.`, null, 'error');
        run.release();
        await sleep(wait, signal);
        if (signal.aborted) return null;
      }
    }
  }

  #request(messages: readonly ChatMessage[]): ChatRequest {
    return { mode: 'chat', messages, tools: AGENT_TOOLS, maxTokens: this.#deps.maxTurnTokens };
  }

  async #turn(run: LiveAgentRun, provider: InferenceProvider, messages: readonly ChatMessage[], signal: AbortSignal, turn: number, sent?: SentTurn):
    Promise<{ text: string; calls: TurnCall[] } | null> {
    const stream = sent?.stream ?? meter(provider.generate(this.#request(messages), signal));
    // The request is written now (before the previous answer's events go out, see LiveAgentRun.hold).
    const chunks = sent?.chunks ?? requestedNow(stream);
    run.release();
    let text = '';
    let seq = -1;
    const calls: TurnCall[] = [];
    const streaming = new Map<number, StreamingCall>();
    let cancelled = false;
    // Text that arrives while the event loop is behind goes out as one delta (as AI edits' frames do).
    let published = 0;
    const deltas = new DeltaCoalescer((t) => {
      run.publish(AGENT_EVENTS.delta, { runId: run.id, seq, offset: published, text: t });
      published += t.length;
    });
    try {
      for await (const chunk of chunks) {
        if (chunk.type === 'text') {
          if (seq === -1) seq = run.add({ kind: 'agent_message', text: '', turn }).seq;
          const item = run.items[seq] as Extract<AgentItem, { kind: 'agent_message' }>;
          if (item.text.length < ITEM_TEXT_LIMIT) item.text += chunk.text;
          deltas.push(chunk.text);
          text += chunk.text;
          continue;
        }
        deltas.flush(); // every other event after the text before it
        if (chunk.type === 'tool_call_delta') {
          streamCall(run, streaming, chunk, turn);
        } else if (chunk.type === 'tool_call') {
          calls.push({ ...chunk, item: streaming.get(chunk.index)?.item });
        } else if (chunk.type === 'finish' && chunk.reason === 'cancelled') {
          cancelled = true;
        }
      }
    } finally {
      deltas.flush();
      // A turn cut short leaves no call looking as if it were still coming.
      if (cancelled || calls.length < streaming.size) {
        for (const s of streaming.values()) run.update({ ...s.item, status: 'failed', summary: 'the model\'s answer was cut off', inputText: undefined });
      }
    }
    const m = await stream.done;
    // From here to the next request: tools that answer at once, their events held (see run.release).
    run.hold();
    run.turns.push({
      turn, promptTokens: m.promptTokens, completionTokens: m.completionTokens, ttftMs: m.ttftMs,
      tokensPerSecond: m.tokensPerSecond, durationMs: m.durationMs,
    });
    run.view = { ...run.view, tokens: run.view.tokens + m.completionTokens + (m.promptTokens ?? 0) };
    return cancelled ? null : { text, calls };
  }

  async #tool(run: LiveAgentRun, call: TurnCall, policy: AgentPolicy, signal: AbortSignal, turn: number): Promise<string> {
    const { id, name } = call.call;
    const shown = presentTool(name, call.args);
    const started = performance.now();
    const running = {
      kind: 'tool_call', toolCallId: id, name, title: shown.title, toolKind: shown.kind, status: 'in_progress',
      rawInput: call.args ?? { raw: call.call.arguments.slice(0, 2000) }, locations: shown.locations,
      summary: null, resultChars: 0, durationMs: null, command: null, turn,
    } as const;
    let item: ToolCallItem;
    if (call.item) run.update((item = { ...running, seq: call.item.seq, at: call.item.at }));
    else item = run.add<ToolCallItem>(running);
    const finish = (result: string, summary: string, failed: boolean, command: AgentCommandResult | null = null): string => {
      const capped = result.length > RESULT_LIMIT ? `${result.slice(0, RESULT_LIMIT)}\n… (${result.length - RESULT_LIMIT} more characters cut)` : result;
      run.update({
        ...item, status: failed ? 'failed' : 'completed', summary: summary.slice(0, 300), resultChars: result.length,
        durationMs: Math.round((performance.now() - started) * 100) / 100, command,
      });
      return capped;
    };
    if (!call.args) {
      return finish(`Error: the arguments of ${name} were not valid: ${call.argumentsError}. Call the tool again with a JSON object.`, `bad arguments: ${call.argumentsError}`, true);
    }
    if (name === 'finish') {
      const summary = typeof call.args.summary === 'string' ? call.args.summary : '';
      return finish('Finished. The changes go to review.', summary || 'finished', false);
    }
    if (name === 'run_command') {
      run.release(); // a command takes its time: everyone sees it start now
      return this.#command(run, call.call, call.args, policy, signal, finish);
    }
    const outcome = await runWorkspaceTool(run.workspace, name, call.args);
    if (!outcome.failed && ['edit_file', 'write_file', 'create_file', 'rename_file', 'delete_file'].includes(name)) {
      run.changesetChanged();
    }
    return finish(outcome.result, outcome.summary, outcome.failed);
  }

  async #command(
    run: LiveAgentRun, call: ToolCall, args: Record<string, unknown>, policy: AgentPolicy, signal: AbortSignal,
    finish: (result: string, summary: string, failed: boolean, command?: AgentCommandResult | null) => string,
  ): Promise<string> {
    const command = typeof args.command === 'string' ? args.command.trim() : '';
    if (command === '' || command.length > 2000) return finish('Error: command must be a non-empty string of at most 2000 characters.', 'bad command', true);
    if (!commandAllowed(policy.allowedCommands, command)) {
      const decision = await askPermission(run, call.id, command, signal);
      if (decision === null) return finish('The run was stopped before anyone decided.', 'cancelled', true);
      if (!decision.allow) return finish(`Error: ${decision.by.name} denied running \`${command}\`. Do something else.`, `denied by ${decision.by.name}`, true);
    }
    try {
      const result = await this.#deps.runCommand(run, command, call.id, signal);
      run.view = { ...run.view, lastCheck: { ...result, by: null } };
      run.publishRun();
      const how = result.reason ? ` (${result.reason})` : '';
      return finish(`Exit code: ${result.exitCode ?? 'none'}${how}\n--- end of output ---\n${result.tail.slice(-TAIL_CHARS)}`, `exit ${result.exitCode ?? '–'}${how}`, result.exitCode !== 0, result);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return finish(`Error: the command could not run: ${message}`, message, true);
    }
  }
}

/**
 * Pauses the run on an Allow / Deny prompt for the participants allowed to decide (ACP
 * `session/request_permission`); null when the run stopped first. `command`: what is asked about.
 */
export function askPermission(run: LiveAgentRun, toolCallId: string, command: string, signal: AbortSignal): Promise<{ allow: boolean; by: AgentUserRef } | null> {
  const requestId = randomUUID();
  const item = run.add<Extract<AgentItem, { kind: 'permission' }>>({
    kind: 'permission', requestId, toolCallId, command, options: [...AGENT_PERMISSION_OPTIONS], outcome: null,
  });
  run.setStatus('waiting_permission', { pendingPermission: { requestId, command } });
  return new Promise((resolve) => {
    const done = (decision: { allow: boolean; by: AgentUserRef } | null): void => {
      signal.removeEventListener('abort', onAbort);
      if (run.permission?.requestId === requestId) run.permission = null;
      run.update({
        ...item,
        outcome: decision === null ? { outcome: 'cancelled' } : { outcome: 'selected', optionId: decision.allow ? 'allow' : 'deny', by: decision.by },
      });
      if (decision !== null) run.setStatus('running', { pendingPermission: null });
      resolve(decision);
    };
    const onAbort = (): void => done(null);
    run.permission = { requestId, seq: item.seq, resolve: done };
    if (signal.aborted) done(null);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface StreamingCall {
  item: ToolCallItem;
  input: string;
  shownAt: number;
}

/**
 * A fragment of a function call as the model generates it: the call appears in the transcript
 * (`pending`) as soon as its name is known, and its arguments are shown as they stream, at most
 * one update per INPUT_UPDATE_MS per call (the last fragments show when the call runs).
 */
function streamCall(run: LiveAgentRun, streaming: Map<number, StreamingCall>, delta: CallDelta, turn: number): void {
  let s = streaming.get(delta.index);
  if (!s) {
    if (!delta.name) return;
    const shown = presentTool(delta.name, undefined);
    const item = run.add<ToolCallItem>({
      kind: 'tool_call', toolCallId: delta.id ?? `call_${delta.index}`, name: delta.name, title: shown.title, toolKind: shown.kind,
      status: 'pending', rawInput: {}, locations: [], summary: null, resultChars: 0, durationMs: null, command: null, turn, inputText: '',
    });
    s = { item, input: '', shownAt: performance.now() };
    streaming.set(delta.index, s);
  }
  const name = delta.name ?? s.item.name;
  s.input += delta.argumentsDelta;
  const now = performance.now();
  if (now - s.shownAt < INPUT_UPDATE_MS || s.input.length - delta.argumentsDelta.length >= INPUT_SHOWN_CHARS) return;
  s.shownAt = now;
  const partial = partialArguments(s.input);
  const shown = presentTool(name, partial);
  s.item = {
    ...s.item, name, title: shown.title, toolKind: shown.kind, locations: shown.locations, rawInput: partial,
    inputText: s.input.slice(0, INPUT_SHOWN_CHARS),
  };
  run.update(s.item);
}

/** The string arguments already complete in JSON still streaming (`{"path": "src/a.js", "edi…` → `{ path }`). */
function partialArguments(json: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of json.matchAll(/"(\w+)"\s*:\s*("(?:[^"\\]|\\.)*")/g)) {
    try {
      out[m[1]!] ??= JSON.parse(m[2]!);
    } catch {
      // an escape cut in half: shown once complete
    }
  }
  return out;
}

export function commandTail(output: string): string {
  return output.slice(-TAIL_CHARS);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function firstMessages(task: string): ChatMessage[] {
  return [{ role: 'system', content: AGENT_SYSTEM_PROMPT }, { role: 'user', content: task }];
}
