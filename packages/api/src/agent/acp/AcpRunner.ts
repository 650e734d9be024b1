import {
  client, methods, PROTOCOL_VERSION, RequestError,
  type ClientConnection, type PermissionOption, type ReadTextFileRequest, type RequestPermissionRequest, type RequestPermissionResponse,
  type WriteTextFileRequest,
} from '@agentclientprotocol/sdk';
import { AppError, type AgentPolicy, type AgentTurnMetrics } from '@tandem/protocol';
import type { ProcessExit, SandboxHost, SandboxProcess } from '@tandem/sandbox';
import { commandAllowed } from '../agentPolicy.ts';
import { askPermission, type CommandRunner } from '../AgentRunner.ts';
import { ToolError } from '../AgentWorkspace.ts';
import { MAX_ITEMS, workingCopyId, type LiveAgentRun } from '../LiveAgentRun.ts';
import type { AcpAgentConfig } from './acpAgents.ts';
import { acpStdioStream } from './acpStream.ts';
import { AcpTerminals } from './AcpTerminals.ts';
import { AcpTranscript, projectPathOf, SANDBOX_ROOT } from './acpTranscript.ts';
import { AcpWorkingCopy } from './AcpWorkingCopy.ts';

export interface AcpRunnerDeps {
  sandbox: SandboxHost | undefined;
  runCommand: CommandRunner;
  persist: (run: LiveAgentRun) => Promise<void>;
  /** `initialize` + `session/new` must answer within this. Default 60 s (an agent may install itself). */
  startTimeoutMs?: number;
  /** The agent may be silent this long while Tandem waits on it (not on people or commands). Default 5 min. */
  idleTimeoutMs?: number;
  /** After Stop's `session/cancel`, how long the agent gets to wind down before it is killed. Default 3 s. */
  cancelGraceMs?: number;
}

/** The run ends with this message (status `failed`). */
class AcpFailure extends Error {}

/** ACP's `auth_required` error code. */
const AUTH_REQUIRED = -32000;
/** The agent's HOME: the process's private /tmp, gone with it. */
const AGENT_HOME = '/tmp';
/** How long a broken connection waits for the process's exit to explain it. */
const EXIT_WAIT_MS = 3000;

/**
 * Runs an external agent over the Agent Client Protocol for one agent run: one process per run in
 * the run's own sandbox working copy, Tandem as the ACP client. The agent's requests map onto the
 * shared run exactly like the built-in agent's tools (reads of documents + changeset, writes into
 * the changeset, commands through the same path and permission policy, prompts to the
 * participants); its updates become the same transcript items. Steering messages are the next
 * `session/prompt`; Stop sends `session/cancel`, then kills. Anything that breaks the protocol
 * (no binary, a crash, a bad frame, silence, a method Tandem does not offer) ends the run with a
 * message saying so.
 */
export class AcpRunner {
  readonly #deps: Required<AcpRunnerDeps>;

  constructor(deps: AcpRunnerDeps) {
    this.#deps = { startTimeoutMs: 60_000, idleTimeoutMs: 300_000, cancelGraceMs: 3_000, ...deps } as Required<AcpRunnerDeps>;
  }

  async run(run: LiveAgentRun, agent: AcpAgentConfig, policy: AgentPolicy, signal: AbortSignal): Promise<void> {
    const host = this.#deps.sandbox;
    if (!host) throw new AppError('UNAVAILABLE', 'External agents need the sandbox, which this server does not have.');
    const report = await host.checkIsolation();
    if (!report.canRun) throw new AppError('UNAVAILABLE', `The sandbox is not available: ${report.missing.join('; ')}.`);
    const session = new AcpSession(this.#deps, host, run, agent, policy, signal);
    try {
      await session.run();
    } catch (e) {
      if (e instanceof AcpFailure) throw new AppError('UNAVAILABLE', e.message);
      throw e;
    } finally {
      session.dispose();
    }
  }
}

class AcpSession {
  readonly #deps: Required<AcpRunnerDeps>;
  readonly #host: SandboxHost;
  readonly #run: LiveAgentRun;
  readonly #agent: AcpAgentConfig;
  readonly #policy: AgentPolicy;
  readonly #signal: AbortSignal;
  readonly #transcript: AcpTranscript;
  readonly #wc: AcpWorkingCopy;
  readonly #terminals: AcpTerminals;
  #process: SandboxProcess | null = null;
  #connection: ClientConnection | null = null;
  #sessionId = '';
  /** Rejects when the agent fails; every wait races it. */
  readonly #failed: Promise<never>;
  #fail!: (e: AcpFailure) => void;
  #watchdog: NodeJS.Timeout | null = null;
  /** Requests from the agent being served: while Tandem (people, commands) works, silence is fine. */
  #serving = 0;
  #limitReached: string | null = null;

  constructor(deps: Required<AcpRunnerDeps>, host: SandboxHost, run: LiveAgentRun, agent: AcpAgentConfig, policy: AgentPolicy, signal: AbortSignal) {
    this.#deps = deps;
    this.#host = host;
    this.#run = run;
    this.#agent = agent;
    this.#policy = policy;
    this.#signal = signal;
    this.#failed = new Promise<never>((_, reject) => (this.#fail = reject));
    this.#failed.catch(() => undefined);
    this.#transcript = new AcpTranscript(run);
    this.#wc = new AcpWorkingCopy(host, workingCopyId(run.id), run);
    this.#terminals = new AcpTerminals(run, this.#transcript, policy, deps.runCommand, () => this.#wc.refresh(), signal);
  }

  async run(): Promise<void> {
    await this.#wc.refresh();
    if (this.#signal.aborted) return;
    const proc = await this.#host.spawn(workingCopyId(this.#run.id), [this.#agent.command, ...this.#agent.args], {
      // Its own state (sessions, logs: ~/.claude, ~/.codex, ~/.gemini) off /project, where it would be harvested as changes.
      env: { HOME: AGENT_HOME, ...this.#agent.env }, allowHosts: this.#agent.egressHosts,
      binds: this.#agent.mounts.map((m) => ({ src: m.host, dest: m.sandbox })),
    });
    this.#process = proc;
    let started = false;
    void proc.done.then((exit) => {
      if (!this.#signal.aborted) this.#fail(new AcpFailure(exitMessage(this.#agent.label, exit, started)));
    });
    const stream = acpStdioStream(proc.stdin, proc.stdout, {
      activity: () => this.#activity(),
      broken: (message) => this.#fail(new AcpFailure(`${this.#agent.label} ${message}`)),
    });
    const connection = this.#client().connect(stream);
    this.#connection = connection;
    void connection.closed.catch((e: unknown) => {
      if (!this.#signal.aborted) this.#fail(new AcpFailure(e instanceof Error ? e.message : `The connection to ${this.#agent.label} broke.`));
    });
    const onAbort = (): void => void this.#cancel();
    this.#signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#start();
      started = true;
      await this.#turns();
    } catch (e) {
      if (this.#signal.aborted) return;
      throw await this.#explain(e);
    } finally {
      this.#signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * What went wrong, in words: a request that failed because the connection closed is explained
   * by the process's exit (code, signal, the end of its stderr), which may follow a moment later.
   */
  async #explain(e: unknown): Promise<AcpFailure> {
    if (e instanceof AcpFailure) return e;
    if (e instanceof RequestError && e.code === AUTH_REQUIRED) {
      return new AcpFailure(`${this.#agent.label} needs credentials: ${e.message}. Set its API key in its env in TANDEM_ACP_AGENTS.`);
    }
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      this.#failed.catch((f: unknown) => f),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), EXIT_WAIT_MS))),
    ]).finally(() => clearTimeout(timer));
    return exited instanceof AcpFailure ? exited : new AcpFailure(`${this.#agent.label} failed: ${e instanceof Error ? e.message : String(e)}`);
  }

  dispose(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#connection?.close();
    this.#process?.kill();
  }

  async #start(): Promise<void> {
    const agent = this.#connection!.agent;
    const timeout = this.#deps.startTimeoutMs;
    const init = await this.#wait(agent.request(methods.agent.initialize, {
      protocolVersion: PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: true },
      clientInfo: { name: 'tandem', title: 'Tandem', version: '1' },
    }), timeout, 'initialize');
    if (init.protocolVersion !== PROTOCOL_VERSION) {
      throw new AcpFailure(`${this.#agent.label} speaks ACP version ${init.protocolVersion}; Tandem speaks version ${PROTOCOL_VERSION}.`);
    }
    try {
      const session = await this.#wait(agent.request(methods.agent.session.new, { cwd: SANDBOX_ROOT, mcpServers: [] }), timeout, 'session/new');
      this.#sessionId = session.sessionId;
    } catch (e) {
      if (!(e instanceof RequestError) || e.code === AUTH_REQUIRED) throw e;
      throw new AcpFailure(`${this.#agent.label} refused to open a session: ${e.message}`);
    }
  }

  async #turns(): Promise<void> {
    const run = this.#run;
    let prompt = run.view.task;
    for (;;) {
      if (this.#signal.aborted) return;
      let stopReason: string;
      const started = performance.now();
      const toolCallsBefore = this.#transcript.toolCalls;
      this.#transcript.firstOutputAt = null;
      try {
        this.#arm();
        const response = await this.#wait(this.#connection!.agent.request(methods.agent.session.prompt, {
          sessionId: this.#sessionId, prompt: [{ type: 'text', text: prompt }],
        }));
        stopReason = response.stopReason;
        run.turns.push(turnMetrics(this.#transcript, started, usageOf(response), this.#transcript.toolCalls - toolCallsBefore + 1));
      } finally {
        this.#disarm();
      }
      await this.#wc.refresh();
      run.changesetChanged(true);
      run.view = {
        ...run.view,
        steps: run.turns.reduce((n, t) => n + (t.steps ?? 1), 0),
        tokens: run.turns.reduce((n, t) => n + (t.completionTokens ?? 0) + (t.promptTokens ?? 0), 0),
      };
      run.publishRun();
      await this.#deps.persist(run);
      if (this.#signal.aborted) return;
      if (this.#limitReached) return run.notice(this.#limitReached);
      if (stopReason === 'refusal' || stopReason === 'max_tokens' || stopReason === 'max_turn_requests') {
        run.notice(`${this.#agent.label} ended its turn: ${stopReason.replace(/_/g, ' ')}.`, null, 'error');
      }
      const steering = run.steering.splice(0);
      if (steering.length === 0) return;
      // As the built-in agent: no further model work past the token limit (its tokens as reported).
      if (run.view.tokens >= this.#policy.maxTokens) return run.notice(`Stopped at the project's token limit (${this.#policy.maxTokens}).`);
      prompt = steering.map((s) => `${s.author.name} (a participant watching you) says: ${s.text}`).join('\n\n');
      this.#transcript.turn++;
    }
  }

  /** Stop: `session/cancel`, a moment to wind down, then the process is killed. */
  async #cancel(): Promise<void> {
    if (this.#sessionId) void this.#connection?.agent.notify(methods.agent.session.cancel, { sessionId: this.#sessionId }).catch(() => undefined);
    const proc = this.#process;
    if (!proc) return;
    const timer = setTimeout(() => proc.kill(), this.#deps.cancelGraceMs);
    await proc.done;
    clearTimeout(timer);
  }

  #client() {
    return client({ name: 'tandem' })
      .onNotification(methods.client.session.update, ({ params }) => {
        if (params.sessionId !== this.#sessionId || this.#signal.aborted) return;
        this.#transcript.apply(params.update);
        this.#checkLimits();
      })
      .onRequest(methods.client.fs.readTextFile, ({ params }) => this.#serve(() => this.#read(params)))
      .onRequest(methods.client.fs.writeTextFile, ({ params }) => this.#serve(() => this.#write(params)))
      .onRequest(methods.client.session.requestPermission, ({ params }) => this.#serve(() => this.#permission(params)))
      .onRequest(methods.client.terminal.create, ({ params }) => this.#serve(() => this.#terminals.create(params)))
      .onRequest(methods.client.terminal.output, ({ params }) => this.#terminals.output(params.terminalId))
      .onRequest(methods.client.terminal.waitForExit, ({ params }) => this.#serve(() => this.#terminals.waitForExit(params.terminalId)))
      .onRequest(methods.client.terminal.kill, ({ params }) => this.#terminals.kill(params.terminalId))
      .onRequest(methods.client.terminal.release, ({ params }) => this.#terminals.release(params.terminalId))
      .onRequest('*', ({ method }) => {
        this.#fail(new AcpFailure(`${this.#agent.label} asked for "${method.slice(0, 100)}", which Tandem does not offer.`));
        throw RequestError.methodNotFound(method);
      });
  }

  /** A path the agent gave (absolute, inside /project) as a project path; the workspace applies the policy. */
  #path(path: string): string {
    const rel = projectPathOf(path);
    if (rel === null || rel === '') throw RequestError.invalidParams({ path }, `${path} is outside the project (${SANDBOX_ROOT})`);
    return rel;
  }

  async #read(params: ReadTextFileRequest): Promise<{ content: string }> {
    const text = await this.#workspace(() => this.#run.workspace.read(this.#path(params.path)));
    if (params.line == null && params.limit == null) return { content: text };
    const start = Math.max(0, (params.line ?? 1) - 1);
    const lines = text.split('\n');
    return { content: lines.slice(start, params.limit == null ? undefined : start + Math.max(0, params.limit)).join('\n') };
  }

  async #write(params: WriteTextFileRequest): Promise<Record<string, never>> {
    const path = this.#path(params.path);
    await this.#wc.write(() => this.#workspace(() => this.#run.workspace.write(path, params.content)));
    this.#run.changesetChanged();
    return {};
  }

  async #workspace<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (e instanceof ToolError) throw new RequestError(-32002, e.message);
      throw e;
    }
  }

  async #permission(params: RequestPermissionRequest): Promise<RequestPermissionResponse> {
    const input = params.toolCall.rawInput as { command?: unknown } | null | undefined;
    const command = typeof input?.command === 'string' ? input.command.trim() : null;
    const pick = (kinds: PermissionOption['kind'][]): RequestPermissionResponse => {
      const option = kinds.map((k) => params.options.find((o) => o.kind === k)).find((o) => o !== undefined);
      return { outcome: option ? { outcome: 'selected', optionId: option.optionId } : { outcome: 'cancelled' } };
    };
    if (command && commandAllowed(this.#policy.allowedCommands, command)) return pick(['allow_once', 'allow_always']);
    const what = (command ?? params.toolCall.title ?? params.toolCall.toolCallId).slice(0, 2000);
    const decision = await askPermission(this.#run, params.toolCall.toolCallId, what, this.#signal);
    if (decision === null) return { outcome: { outcome: 'cancelled' } };
    if (!decision.allow) return pick(['reject_once', 'reject_always']);
    if (command) this.#terminals.grant(command);
    return pick(['allow_once', 'allow_always']);
  }

  /** Serves one agent request; while it runs, the agent's silence is Tandem's doing. */
  async #serve<T>(op: () => Promise<T>): Promise<T> {
    this.#serving++;
    try {
      return await op();
    } finally {
      this.#serving--;
      this.#activity();
    }
  }

  #checkLimits(): void {
    if (this.#limitReached) return;
    if (this.#transcript.toolCalls > this.#policy.maxSteps) this.#limitReached = `Stopped at the project's step limit (${this.#policy.maxSteps} tool calls).`;
    else if (this.#run.items.length >= MAX_ITEMS) this.#limitReached = 'Stopped: the transcript is full.';
    else return;
    void this.#connection?.agent.notify(methods.agent.session.cancel, { sessionId: this.#sessionId }).catch(() => undefined);
  }

  // ── Hang watchdog ─────────────────────────────────────────────────────────────────────

  #arm(): void {
    this.#disarm();
    this.#watchdog = setTimeout(() => {
      if (this.#serving > 0) return void this.#watchdog?.refresh();
      const seconds = Math.round(this.#deps.idleTimeoutMs / 1000);
      this.#fail(new AcpFailure(`${this.#agent.label} stopped responding (nothing for ${seconds} s while it had the turn).`));
    }, this.#deps.idleTimeoutMs);
  }

  #disarm(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = null;
  }

  /** Every frame and every answer restarts the silence clock (in place: this runs per message). */
  #activity(): void {
    this.#watchdog?.refresh();
  }

  /** Waits for `promise`, failing on the agent's failure or after `timeoutMs` (when given). */
  #wait<T>(promise: Promise<T>, timeoutMs?: number, what?: string): Promise<T> {
    const racers: Array<Promise<T>> = [promise, this.#failed];
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) {
      racers.push(new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AcpFailure(`${this.#agent.label} did not answer ${what} within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs);
      }));
    }
    return Promise.race(racers).finally(() => clearTimeout(timer));
  }
}

/** Largest token count believed for one turn (an agent's report is input, not truth). */
const MAX_TURN_TOKENS = 1e9;

/**
 * A turn's token usage, when the agent reports it: ACP's `usage` on the `session/prompt`
 * response (unstable in SDK 2.4, passed through as sent). null when absent or malformed.
 */
function usageOf(response: object): { total: number; output: number } | null {
  const usage = (response as { usage?: unknown }).usage;
  if (typeof usage !== 'object' || usage === null) return null;
  const count = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_TURN_TOKENS ? v : null);
  const { inputTokens, outputTokens, totalTokens } = usage as Record<string, unknown>;
  const input = count(inputTokens);
  const output = count(outputTokens);
  if (input === null || output === null) return null;
  // The agent's total also counts cached and reasoning tokens; never less than input + output.
  return { total: Math.max(count(totalTokens) ?? 0, input + output), output };
}

/**
 * One ACP prompt turn as the run record's turn: its duration, TTFT (prompt sent → first message
 * or thought chunk), tokens and tokens/s when reported (output tokens over the time after the
 * first chunk), and its steps.
 */
function turnMetrics(transcript: AcpTranscript, started: number, usage: { total: number; output: number } | null, steps: number): AgentTurnMetrics {
  const ended = performance.now();
  const first = transcript.firstOutputAt;
  const streaming = first === null ? 0 : (ended - first) / 1000;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    turn: transcript.turn,
    promptTokens: usage ? usage.total - usage.output : null,
    completionTokens: usage?.output ?? null,
    ttftMs: first === null ? null : round(first - started),
    tokensPerSecond: usage && usage.output > 0 && streaming > 0 ? round(usage.output / streaming) : null,
    durationMs: round(ended - started),
    steps,
  };
}

function exitMessage(label: string, exit: ProcessExit, started: boolean): string {
  const stderr = exit.stderrTail.trim().split('\n').slice(-3).join(' | ').slice(-500);
  const how = exit.oom ? 'was killed at the sandbox memory limit' : exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.exitCode}`;
  return started
    ? `${label} ${how} during the run${stderr ? `: ${stderr}` : '.'}`
    : `${label} could not start: it ${how}${stderr ? `: ${stderr}` : '.'}`;
}
