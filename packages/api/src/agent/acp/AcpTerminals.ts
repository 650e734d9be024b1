import { RequestError, type CreateTerminalRequest, type TerminalOutputResponse, type WaitForTerminalExitResponse } from '@agentclientprotocol/sdk';
import type { AgentCommandResult, AgentItem, AgentPolicy } from '@tandem/protocol';
import { commandAllowed } from '../agentPolicy.ts';
import { askPermission, type CommandRunner } from '../AgentRunner.ts';
import type { LiveAgentRun } from '../LiveAgentRun.ts';
import { projectPathOf, type AcpTranscript } from './acpTranscript.ts';

type ToolCallItem = Extract<AgentItem, { kind: 'tool_call' }>;

interface Terminal {
  controller: AbortController;
  output: string;
  truncated: boolean;
  limit: number;
  result: Promise<AgentCommandResult | null>;
  exit: AgentCommandResult | null;
}

const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;
const MAX_TERMINALS = 8;
const MAX_KEPT = 64;
const SAFE_WORD = /^[A-Za-z0-9_/.,:=@%+-]+$/;
const SHELL = /^(\/usr)?(\/bin\/)?(ba|da)?sh$/;

function quote(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * ACP `terminal/*` on the run's sandbox: each terminal is one command through the built-in
 * agent's command path (same working copy, limits, timeout, output streamed to everyone as
 * `agent.output`) and shows in the transcript as a tool call with its exit code. A command the
 * policy does not allow asks the participants first, unless they just allowed exactly it through
 * the agent's own permission request.
 */
export class AcpTerminals {
  readonly #run: LiveAgentRun;
  readonly #policy: AgentPolicy;
  readonly #runCommand: CommandRunner;
  readonly #sync: () => Promise<unknown>;
  readonly #signal: AbortSignal;
  readonly #transcript: AcpTranscript;
  readonly #terminals = new Map<string, Terminal>();
  /** Commands the participants allowed through `session/request_permission`, each good once. */
  readonly #granted: string[] = [];
  #next = 1;

  constructor(run: LiveAgentRun, transcript: AcpTranscript, policy: AgentPolicy, runCommand: CommandRunner, sync: () => Promise<unknown>, signal: AbortSignal) {
    this.#run = run;
    this.#transcript = transcript;
    this.#policy = policy;
    this.#runCommand = runCommand;
    this.#sync = sync;
    this.#signal = signal;
  }

  grant(command: string): void {
    this.#granted.push(command.trim());
    if (this.#granted.length > 20) this.#granted.shift();
  }

  async create(params: CreateTerminalRequest): Promise<{ terminalId: string }> {
    if ([...this.#terminals.values()].filter((t) => t.exit === null).length >= MAX_TERMINALS) {
      throw new RequestError(-32000, `At most ${MAX_TERMINALS} commands may run at once.`);
    }
    // Each keeps its output until released: an agent that never releases cannot pile them up.
    if (this.#terminals.size >= MAX_KEPT) throw new RequestError(-32000, `At most ${MAX_KEPT} terminals may be kept; release finished ones (terminal/release).`);
    const args = params.args ?? [];
    // `sh -c "<line>"` is how agents run a command line: the line is what people judge.
    const line = SHELL.test(params.command) && args.length === 2 && (args[0] === '-c' || args[0] === '-lc') ? args[1]! : null;
    const command = (line ?? (args.length ? [params.command, ...args].map(quote).join(' ') : params.command)).trim();
    if (command === '' || command.length > 2000) throw RequestError.invalidParams(undefined, 'command must be 1 to 2000 characters');
    const cwd = params.cwd ? projectPathOf(params.cwd) : '';
    if (cwd === null) throw RequestError.invalidParams(undefined, `cwd ${params.cwd} is outside the project (/project)`);
    const terminalId = `term-${this.#next++}`;
    const toolCallId = `terminal-${terminalId}`;
    const granted = this.#granted.indexOf(command);
    if (granted >= 0) this.#granted.splice(granted, 1);
    else if (!commandAllowed(this.#policy.allowedCommands, command)) {
      const decision = await askPermission(this.#run, toolCallId, command, this.#signal);
      if (decision === null) throw new RequestError(-32800, 'The run was stopped before anyone decided.');
      if (!decision.allow) throw new RequestError(-32000, `${decision.by.name} denied running \`${command}\`. Do something else.`);
    }
    const env = (params.env ?? []).slice(0, 50).map((e) => quote(`${e.name}=${e.value}`)).join(' ');
    const full = `${cwd ? `cd ${quote(cwd)} && ` : ''}${env ? `env ${env} ` : ''}${command}`;
    const item = this.#run.add<ToolCallItem>({
      kind: 'tool_call', toolCallId, name: 'terminal', title: `Run ${command}`, toolKind: 'execute', status: 'in_progress',
      rawInput: { command, ...(cwd ? { cwd } : {}) }, locations: [], summary: null, resultChars: 0, durationMs: null, command: null, turn: this.#transcript.turn,
    });
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    this.#signal.addEventListener('abort', onAbort, { once: true });
    const terminal: Terminal = { controller, output: '', truncated: false, limit: Math.min(params.outputByteLimit ?? DEFAULT_OUTPUT_LIMIT, DEFAULT_OUTPUT_LIMIT), result: Promise.resolve(null), exit: null };
    const started = performance.now();
    terminal.result = this.#runCommand(this.#run, full, toolCallId, controller.signal, {
      sync: async () => void (await this.#sync()),
      onOutput: (text) => {
        terminal.output += text;
        if (Buffer.byteLength(terminal.output) > terminal.limit) {
          terminal.output = terminal.output.slice(-Math.floor(terminal.limit / 2));
          terminal.truncated = true;
        }
      },
    }).then((result) => {
      terminal.exit = result;
      this.#run.update({
        ...item, status: result.exitCode === 0 ? 'completed' : 'failed', command: result, resultChars: terminal.output.length,
        summary: `exit ${result.exitCode ?? '–'}${result.reason ? ` (${result.reason})` : ''}`, durationMs: Math.round(performance.now() - started),
      });
      return result;
    }, (e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      terminal.exit = { command, exitCode: null, durationMs: Math.round(performance.now() - started), tail: message, reason: message };
      this.#run.update({ ...item, status: 'failed', summary: message.slice(0, 300) });
      return terminal.exit;
    }).finally(() => this.#signal.removeEventListener('abort', onAbort));
    this.#terminals.set(terminalId, terminal);
    return { terminalId };
  }

  output(terminalId: string): TerminalOutputResponse {
    const t = this.#get(terminalId);
    return { output: t.output, truncated: t.truncated, ...(t.exit ? { exitStatus: exitStatus(t.exit) } : {}) };
  }

  async waitForExit(terminalId: string): Promise<WaitForTerminalExitResponse> {
    const t = this.#get(terminalId);
    await t.result;
    return exitStatus(t.exit!);
  }

  kill(terminalId: string): void {
    this.#get(terminalId).controller.abort();
  }

  release(terminalId: string): void {
    this.#get(terminalId).controller.abort();
    this.#terminals.delete(terminalId);
  }

  #get(terminalId: string): Terminal {
    const t = this.#terminals.get(terminalId);
    if (!t) throw RequestError.resourceNotFound(terminalId);
    return t;
  }
}

function exitStatus(r: AgentCommandResult): WaitForTerminalExitResponse {
  const signal = r.reason === 'stopped' ? 'SIGKILL' : null;
  return { exitCode: r.exitCode, signal };
}
