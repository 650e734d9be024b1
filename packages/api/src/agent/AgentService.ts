import {
  AGENT_EVENTS, AppError, type AgentChangesetView, type AgentCommandResult, type AgentItem, type AgentPolicy, type AgentRunStatus,
  type AgentRunView, type AgentTurnMetrics, type AgentUserRef,
} from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import type { InferenceProvider } from '@tandem/inference';
import { resolveRunCommand, type SandboxHost } from '@tandem/sandbox';
import { mayReview, type ApprovalPolicy } from '@tandem/review';
import type { EventHub } from '../EventHub.ts';
import { approvalPolicyOf } from '../suggestions/ApprovalPolicies.ts';
import { KeyedSerialQueue } from '../suggestions/KeyedSerialQueue.ts';
import { mayStartOrSteer, parseAgentPolicy } from './agentPolicy.ts';
import { AgentReview, type AgentReviewer, type ChangesetDecision } from './AgentReview.ts';
import { AgentRunner, commandTail, type CommandOptions, type SentTurn } from './AgentRunner.ts';
import { AgentWorkspace, type AgentDocuments, type AgentFiles } from './AgentWorkspace.ts';
import { CoalescedWrite } from './CoalescedWrite.ts';
import { SearchWorkers } from '../search/SearchWorkers.ts';
import { ITEM_TEXT_LIMIT, LiveAgentRun, workingCopyId } from './LiveAgentRun.ts';
import type { AcpAgentConfig } from './acp/acpAgents.ts';
import { AcpRunner, type AcpRunnerDeps } from './acp/AcpRunner.ts';

export interface AgentServiceOptions {
  prisma: PrismaClient;
  hub: EventHub;
  documents: AgentDocuments;
  /** The project's files, decoded once per change (the app's one LiveProjectFiles). */
  files: AgentFiles;
  /** The search workers the agent's search tool runs in (the app's, shared with project search). Default: one of its own. */
  searches?: SearchWorkers;
  /** The sandbox host for commands and checks; without one, run_command answers that it is unavailable. */
  sandbox?: SandboxHost;
  /** Wall-clock limit of one agent command (ms). Default: the host's run timeout. */
  commandTimeoutMs?: number;
  /** Runs alive at once per project. Default 3. */
  maxLivePerProject?: number;
  /** Entries a project tree may hold: accepting new files past it is refused. Default: no cap. */
  maxFilesPerProject?: number;
  runnerOptions?: { retries?: number; maxRetryWaitMs?: number; maxTurnTokens?: number };
  /** External agents the deployment offers (TANDEM_ACP_AGENTS); owners enable them per project. */
  acpAgents?: readonly AcpAgentConfig[];
  acpOptions?: Pick<AcpRunnerDeps, 'startTimeoutMs' | 'idleTimeoutMs' | 'cancelGraceMs'>;
  logError?: (message: string, error: unknown) => void;
}

/** What works on a run: the built-in loop on a model, or an external agent over ACP. */
export type AgentEngine = InferenceProvider | { acpAgent: string };

interface AgentDriver {
  provider: string;
  label: string;
  model: string;
  run(run: LiveAgentRun, policy: AgentPolicy, signal: AbortSignal, first?: SentTurn): Promise<void>;
  /** Sends the first turn's request now, while the run is being stored (built-in agent). */
  sendFirstTurn?(task: string, signal: AbortSignal): SentTurn;
}

const MAX_STEERING_CHARS = 4000;
const LIST_LIMIT = 30;
const LIVE_RECORD_GAP_MS = 250;

/**
 * Agent runs of the projects this node is home for: starting them, steering (Stop, follow-up
 * messages, permission answers), group review of their changesets, Run checks, and the record
 * in the `AgentRun` table. Everything participants see goes out on the project channel as
 * `agent.*` events. Authorization against the project's policies happens here (the router only
 * establishes membership and role).
 */
export class AgentService {
  readonly #prisma: PrismaClient;
  readonly #hub: EventHub;
  readonly #workspaceDeps: { docs: AgentDocuments; files: AgentFiles; searches: SearchWorkers };
  readonly #sandbox: SandboxHost | undefined;
  readonly #runs = new Map<string, LiveAgentRun>();
  readonly #records = new WeakMap<LiveAgentRun, CoalescedWrite>();
  readonly #queue = new KeyedSerialQueue();
  readonly #runner: AgentRunner;
  readonly #acpRunner: AcpRunner;
  readonly #acpAgents: readonly AcpAgentConfig[];
  readonly #review: AgentReview;
  readonly #maxLive: number;
  readonly #commandTimeoutMs: number | undefined;
  readonly #logError: (message: string, error: unknown) => void;
  #closed = false;

  constructor(options: AgentServiceOptions) {
    this.#prisma = options.prisma;
    this.#hub = options.hub;
    this.#workspaceDeps = { docs: options.documents, files: options.files, searches: options.searches ?? new SearchWorkers({ maxWorkers: 1, timeoutMs: 5000 }) };
    this.#sandbox = options.sandbox;
    this.#maxLive = options.maxLivePerProject ?? 3;
    this.#commandTimeoutMs = options.commandTimeoutMs;
    this.#logError = options.logError ?? ((m, e) => console.error(`[agent] ${m}`, e));
    this.#review = new AgentReview(options.documents, options.maxFilesPerProject);
    this.#runner = new AgentRunner({
      ...options.runnerOptions,
      runCommand: (run, command, toolCallId, signal) => this.#runCommand(run, command, toolCallId, signal),
      persist: (run) => this.#persist(run),
    });
    this.#acpAgents = options.acpAgents ?? [];
    this.#acpRunner = new AcpRunner({
      ...options.acpOptions,
      sandbox: this.#sandbox,
      runCommand: (run, command, toolCallId, signal, opts) => this.#runCommand(run, command, toolCallId, signal, opts),
      persist: (run) => this.#persist(run),
    });
  }

  /** Runs a previous process left working are marked interrupted (their changesets stay reviewable). */
  async recoverInterrupted(projectId?: string): Promise<number> {
    const where = { status: { in: ['running', 'waiting_permission'] }, ...(projectId === undefined ? {} : { projectId }) };
    const endedAt = new Date();
    // An external agent's process ended with the server that ran it, and with it the agent's session.
    const external = await this.#prisma.agentRun.updateMany({
      where: { ...where, provider: { startsWith: 'acp:' } },
      data: { status: 'interrupted', endedAt, error: "The server restarted during the run and the external agent's process ended with it; an external agent's run cannot be resumed. Its changeset stays reviewable: start a new run to carry on." },
    });
    const { count } = await this.#prisma.agentRun.updateMany({ where, data: { status: 'interrupted', endedAt } });
    return external.count + count;
  }

  async policy(projectId: string): Promise<{ agent: AgentPolicy; approval: ApprovalPolicy; checkCommand: string | null; runCommand: string | null; acpAgents: string[] }> {
    const p = await this.#prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { agentPolicy: true, approvalPolicy: true, approvalsRequired: true, checkCommand: true, runCommand: true, acpAgents: true } });
    const approval = approvalPolicyOf(p, (error) => this.#logError(`project ${projectId} has an invalid approval policy; using any_editor`, error));
    return { agent: parseAgentPolicy(p.agentPolicy), approval, checkCommand: p.checkCommand, runCommand: p.runCommand, acpAgents: p.acpAgents };
  }

  /** The deployment's external agents and whether this project enabled each (no commands or keys). */
  async externalAgents(projectId: string): Promise<Array<{ id: string; label: string; enabled: boolean }>> {
    const { acpAgents } = await this.policy(projectId);
    return this.#acpAgents.map((a) => ({ id: a.id, label: a.label, enabled: acpAgents.includes(a.id) }));
  }

  /** The owner's choice of external agents for the project (the caller checked ownership). */
  async setExternalAgents(projectId: string, ids: readonly string[]): Promise<void> {
    const unknown = ids.filter((id) => !this.#acpAgents.some((a) => a.id === id));
    if (unknown.length > 0) throw new AppError('BAD_INPUT', `No external agent "${unknown[0]}" on this server.`);
    await this.#prisma.project.update({ where: { id: projectId }, data: { acpAgents: [...new Set(ids)] } });
  }

  // ── Start, steer, stop ──────────────────────────────────────────────────────────────────

  /** `engine` may still be resolving (the project's AI provider): it is awaited together with the policy. */
  async start(who: AgentReviewer, projectId: string, task: string, pending: AgentEngine | Promise<AgentEngine>): Promise<AgentRunView> {
    if (this.#closed) throw new AppError('UNAVAILABLE', 'The server is shutting down.');
    const [{ agent, acpAgents }, engine] = await Promise.all([this.policy(projectId), pending]);
    if (!mayStartOrSteer(agent, who.role)) throw new AppError('FORBIDDEN', agent.starters === 'owner' ? 'Only the owner may start agent runs in this project.' : 'Viewers cannot start agent runs.');
    const driver = this.#driver(engine, acpAgents);
    const live = [...this.#runs.values()].filter((r) => r.view.projectId === projectId && r.live).length;
    if (live >= this.#maxLive) throw new AppError('RATE_LIMITED', `At most ${this.#maxLive} agent runs may work at once in a project.`);
    const controller = new AbortController();
    // The model starts on the first turn while the run is stored (the write is not on its path).
    const first = driver.sendFirstTurn?.(task, controller.signal);
    const row = await this.#prisma.agentRun.create({
      data: { projectId, userId: who.userId, task, provider: driver.provider, model: driver.model, status: 'running' },
    }).catch((error: unknown) => {
      first?.cancel();
      throw error;
    });
    const author: AgentUserRef = { id: who.userId, name: who.name };
    const run = new LiveAgentRun(this.#hub, {
      id: row.id, projectId, task, status: 'running', startedBy: author, provider: driver.label, model: driver.model,
      createdAt: row.createdAt.toISOString(), endedAt: null, steps: 0, tokens: 0, error: null, lastCheck: null, pendingPermission: null,
    }, new AgentWorkspace(this.#workspaceDeps, projectId, agent.forbiddenPaths));
    this.#runs.set(run.id, run);
    run.publishRun();
    run.add({ kind: 'user_message', text: task, author, steering: false });
    void run.workspace.warm().catch((error: unknown) => this.#logError(`warming run ${run.id}'s files failed`, error));
    run.controller = controller;
    run.loop = driver.run(run, agent, controller.signal, first).then(
      () => {
        if (run.live) run.setStatus('ready', { pendingPermission: null });
      },
      (error: unknown) => {
        const message = error instanceof AppError ? error.message : error instanceof Error && 'kind' in error ? error.message : 'The run failed unexpectedly.';
        if (!(error instanceof AppError) && !(error instanceof Error && 'kind' in error)) this.#logError(`run ${run.id} failed`, error);
        if (run.live) {
          run.notice(message, null, 'error');
          run.setStatus('failed', { error: message, pendingPermission: null });
        }
      },
    ).finally(() => {
      run.controller = null;
      run.workspace.openReview();
      run.publish(AGENT_EVENTS.changeset, { runId: run.id });
      void this.#persist(run);
      void this.#sandbox?.removeWorkingCopy(workingCopyId(run.id)).catch(() => undefined);
    });
    return run.view;
  }

  #driver(engine: AgentEngine, enabled: readonly string[]): AgentDriver {
    if ('acpAgent' in engine) {
      const config = this.#acpAgents.find((a) => a.id === engine.acpAgent);
      if (!config) throw new AppError('BAD_INPUT', `No external agent "${engine.acpAgent}" on this server.`);
      if (!enabled.includes(config.id)) throw new AppError('FORBIDDEN', `${config.label} is not enabled in this project; the owner can enable it in the agent settings.`);
      return { provider: `acp:${config.id}`, label: config.label, model: 'ACP', run: (run, policy, signal) => this.#acpRunner.run(run, config, policy, signal) };
    }
    const provider = engine;
    if (!provider.info.tools) throw new AppError('BAD_INPUT', `The AI provider "${provider.label}" cannot call tools, which agent runs need. Choose another provider in the project settings.`);
    return {
      provider: provider.id, label: provider.label, model: provider.model,
      run: (run, policy, signal, first) => this.#runner.run(run, provider, policy, signal, first),
      sendFirstTurn: (task, signal) => this.#runner.sendFirstTurn(provider, task, signal),
    };
  }

  /** Stop: aborts the upstream request and any command at once; everyone sees `stopped` now. */
  async stop(who: AgentReviewer, projectId: string, runId: string): Promise<AgentRunView> {
    const run = await this.#get(projectId, runId);
    await this.#requireSteer(who, projectId);
    if (!run.live) return run.view;
    run.setStatus('stopped', { pendingPermission: null });
    run.notice(`Stopped by ${who.name}.`, { id: who.userId, name: who.name });
    run.controller?.abort();
    void this.#persist(run);
    return run.view;
  }

  /** A follow-up message the agent reads at its next turn. */
  async steer(who: AgentReviewer, projectId: string, runId: string, text: string): Promise<void> {
    const run = await this.#get(projectId, runId);
    await this.#requireSteer(who, projectId);
    if (!run.live) throw new AppError('CONFLICT', 'The run is not working any more.');
    const message = text.slice(0, MAX_STEERING_CHARS);
    const author = { id: who.userId, name: who.name };
    run.steering.push({ text: message, author });
    run.add({ kind: 'user_message', text: message, author, steering: true });
  }

  async answerPermission(who: AgentReviewer, projectId: string, runId: string, requestId: string, optionId: 'allow' | 'deny'): Promise<void> {
    const run = await this.#get(projectId, runId);
    await this.#requireSteer(who, projectId);
    if (!run.permission || run.permission.requestId !== requestId) throw new AppError('CONFLICT', 'This question was already answered.');
    run.permission.resolve({ allow: optionId === 'allow', by: { id: who.userId, name: who.name } });
  }

  // ── Reading ─────────────────────────────────────────────────────────────────────────────

  async list(projectId: string): Promise<AgentRunView[]> {
    const rows = await this.#prisma.agentRun.findMany({ where: { projectId }, orderBy: { createdAt: 'desc' }, take: LIST_LIMIT });
    const names = await this.#names(rows.map((r) => r.userId));
    return rows.map((r) => this.#runs.get(r.id)?.view ?? this.#viewOf(r, names));
  }

  async get(projectId: string, runId: string): Promise<{ run: AgentRunView; items: AgentItem[]; turns: AgentTurnMetrics[]; changeset: AgentChangesetView }> {
    const run = await this.#get(projectId, runId);
    return { run: run.view, items: run.items, turns: run.turns, changeset: run.changesetView(await this.#review.files(run)) };
  }

  async changeset(projectId: string, runId: string): Promise<AgentChangesetView> {
    const run = await this.#get(projectId, runId);
    return run.changesetView(await this.#review.files(run));
  }

  // ── Review ──────────────────────────────────────────────────────────────────────────────

  async decide(who: AgentReviewer, projectId: string, runId: string, decision: ChangesetDecision): Promise<{ applied: number; skipped: string[] }> {
    return this.#queue.run(runId, async () => {
      const run = await this.#get(projectId, runId);
      const { approval } = await this.policy(projectId);
      const result = await this.#review.decide(run, who, approval, decision);
      run.publish(AGENT_EVENTS.changeset, { runId });
      await this.#persist(run);
      return result;
    });
  }

  async undo(who: AgentReviewer, projectId: string, runId: string): Promise<void> {
    return this.#queue.run(runId, async () => {
      const run = await this.#get(projectId, runId);
      await this.#review.undo(run, who, (await this.policy(projectId)).approval);
      run.publish(AGENT_EVENTS.changeset, { runId });
      await this.#persist(run);
    });
  }

  /** Run checks: the project's check command on documents + changeset; the result is attached for everyone. */
  async runChecks(who: AgentReviewer, projectId: string, runId: string): Promise<AgentCommandResult> {
    const run = await this.#get(projectId, runId);
    const policies = await this.policy(projectId);
    if (!mayReview(policies.approval, who.role)) throw new AppError('FORBIDDEN', 'Only reviewers can run checks.');
    if (run.live) throw new AppError('CONFLICT', 'The run is still working.');
    let command = policies.checkCommand?.trim() || policies.runCommand?.trim() || null;
    if (!command) command = resolveRunCommand(await run.workspace.snapshot())?.command ?? null;
    if (!command) throw new AppError('BAD_INPUT', 'This project has no check command. The owner can set one in the agent settings.');
    const result = await this.#runCommand(run, command, `check-${Date.now()}`, new AbortController().signal);
    run.view = { ...run.view, lastCheck: { ...result, by: { id: who.userId, name: who.name } } };
    run.publishRun();
    run.notice(`${who.name} ran checks: ${command} → exit ${result.exitCode ?? '–'}${result.reason ? ` (${result.reason})` : ''}.`, { id: who.userId, name: who.name });
    await this.#persist(run);
    return result;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const run of this.#runs.values()) run.controller?.abort();
    await Promise.all([...this.#runs.values()].map((r) => r.loop?.catch(() => undefined)));
    await Promise.all([...this.#runs.values()].map((r) => this.#records.get(r)?.settled()));
  }

  /** A project moved away from this node or was deleted: forget its runs here. */
  forgetProject(projectId: string): void {
    for (const [id, run] of this.#runs) {
      if (run.view.projectId !== projectId) continue;
      run.controller?.abort();
      this.#runs.delete(id);
    }
  }

  // ── Internals ───────────────────────────────────────────────────────────────────────────

  async #requireSteer(who: AgentReviewer, projectId: string): Promise<void> {
    const { agent } = await this.policy(projectId);
    if (!mayStartOrSteer(agent, who.role)) throw new AppError('FORBIDDEN', who.role === 'viewer' ? 'Viewers can watch runs but not steer them.' : 'Only the owner may steer runs in this project.');
  }

  /** The run in memory, or loaded from the record (after a restart: interrupted, still reviewable). */
  async #get(projectId: string, runId: string): Promise<LiveAgentRun> {
    const inMemory = this.#runs.get(runId);
    if (inMemory) {
      if (inMemory.view.projectId !== projectId) throw new AppError('NOT_FOUND', 'No such agent run.');
      return inMemory;
    }
    const row = await this.#prisma.agentRun.findFirst({ where: { id: runId, projectId } });
    if (!row) throw new AppError('NOT_FOUND', 'No such agent run.');
    const names = await this.#names([row.userId]);
    const { agent } = await this.policy(projectId);
    const workspace = new AgentWorkspace(this.#workspaceDeps, projectId, agent.forbiddenPaths, AgentWorkspace.entriesFromJSON(row.changeset));
    const run = new LiveAgentRun(this.#hub, this.#viewOf(row, names), workspace, (row.transcript ?? []) as unknown as AgentItem[], (row.turns ?? []) as unknown as AgentTurnMetrics[]);
    workspace.openReview();
    this.#runs.set(run.id, run);
    return run;
  }

  async #names(ids: string[]): Promise<Map<string, string>> {
    const users = await this.#prisma.user.findMany({ where: { id: { in: [...new Set(ids)] } }, select: { id: true, name: true } });
    return new Map(users.map((u) => [u.id, u.name]));
  }

  #viewOf(r: { id: string; projectId: string; userId: string; task: string; provider: string; model: string; status: string; createdAt: Date; endedAt: Date | null; error: string | null; turns: unknown; lastCheck: unknown }, names: Map<string, string>): AgentRunView {
    const turns = Array.isArray(r.turns) ? (r.turns as AgentTurnMetrics[]) : [];
    return {
      id: r.id, projectId: r.projectId, task: r.task, status: r.status as AgentRunStatus,
      startedBy: { id: r.userId, name: names.get(r.userId) ?? 'Former member' }, provider: this.#providerLabel(r.provider), model: r.model,
      createdAt: r.createdAt.toISOString(), endedAt: r.endedAt?.toISOString() ?? null, steps: turns.reduce((n, t) => n + (t.steps ?? 1), 0),
      tokens: turns.reduce((n, t) => n + (t.completionTokens ?? 0) + (t.promptTokens ?? 0), 0), error: r.error,
      lastCheck: (r.lastCheck ?? null) as AgentRunView['lastCheck'], pendingPermission: null,
    };
  }

  /** An external agent's label for a stored run (`acp:<id>`); built-in runs keep the provider id. */
  #providerLabel(provider: string): string {
    const id = provider.startsWith('acp:') ? provider.slice(4) : null;
    return id === null ? provider : (this.#acpAgents.find((a) => a.id === id)?.label ?? id);
  }

  /**
   * Stores the run's record as it is now. Writes are coalesced (one at a time; asks meanwhile
   * share the next) and, while the run works, at least LIVE_RECORD_GAP_MS apart: a fast run never
   * waits on the database (nor shares the event loop with a write per step), and the record
   * trails it by at most one write. Review actions after the run are written at once.
   */
  #persist(run: LiveAgentRun): Promise<void> {
    let record = this.#records.get(run);
    if (!record) this.#records.set(run, (record = new CoalescedWrite(() => this.#write(run), () => (run.live ? LIVE_RECORD_GAP_MS : 0))));
    return record.request();
  }

  async #write(run: LiveAgentRun): Promise<void> {
    try {
      await this.#prisma.agentRun.updateMany({
        where: { id: run.id },
        data: {
          status: run.view.status, transcript: run.items as object[], turns: run.turns as object[],
          changeset: run.workspace.toJSON() as object[], lastCheck: (run.view.lastCheck ?? undefined) as object | undefined,
          error: run.view.error, endedAt: run.view.endedAt ? new Date(run.view.endedAt) : null,
        },
      });
    } catch (error) {
      this.#logError(`recording run ${run.id} failed`, error);
    }
  }

  async #runCommand(run: LiveAgentRun, command: string, toolCallId: string, signal: AbortSignal, options: CommandOptions = {}): Promise<AgentCommandResult> {
    const host = this.#sandbox;
    if (!host) throw new AppError('UNAVAILABLE', 'Commands cannot run on this server (no sandbox).');
    const report = await host.checkIsolation();
    if (!report.canRun) throw new AppError('UNAVAILABLE', `The sandbox is not available: ${report.missing.join('; ')}.`);
    const id = workingCopyId(run.id);
    if (options.sync) await options.sync();
    else await host.syncWorkingCopy(id, await run.workspace.snapshot());
    let output = '';
    const sandboxRun = await host.run(id, command, {
      signal,
      ...(this.#commandTimeoutMs ? { limits: { runTimeoutMs: this.#commandTimeoutMs } } : {}),
      onOutput: (chunk) => {
        output = (output + chunk.text).slice(-ITEM_TEXT_LIMIT);
        options.onOutput?.(chunk.text);
        run.publish(AGENT_EVENTS.output, { runId: run.id, toolCallId, stream: chunk.stream === 'stderr' ? 'stderr' : 'stdout', text: chunk.text });
      },
    });
    const result = await sandboxRun.done;
    const reason = result.reason === 'exit' ? null : result.reason === 'killed-timeout' ? 'timed out' : result.reason;
    return { command, exitCode: result.exitCode, durationMs: Math.round(result.durationMs), tail: commandTail(output), reason };
  }
}
