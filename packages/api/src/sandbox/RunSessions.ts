import { AppError } from '@tandem/protocol';
import type { Prisma, PrismaClient } from '@tandem/db';
import { resolveRunCommand, type ProjectFile, type RunResult, type SandboxHost, type SandboxLimits, type SandboxRun } from '@tandem/sandbox';
import type { LiveProjectFiles } from './LiveProjectFiles.ts';
import { RunOutputLog } from './RunOutputLog.ts';
import {
  RUN_EVENT, RUN_OUTPUT_EVENT,
  type ProjectPublisher, type RunOutput, type RunOutputSnapshot, type RunStatus, type RunView, type UserRef,
} from './sandboxEvents.ts';
import type { SessionGate } from './SessionGate.ts';
import type { SlotGrant } from './SlotQueue.ts';
import type { WorkingCopySync } from './WorkingCopySync.ts';

/** Where a project's run command comes from, for the UI. */
export type RunCommandSource = 'settings' | NonNullable<ReturnType<typeof resolveRunCommand>>['source'];

export interface RunSessionsOptions {
  host: SandboxHost;
  files: LiveProjectFiles;
  prisma: PrismaClient;
  sync: WorkingCopySync;
  gate: SessionGate;
  publish: ProjectPublisher;
  /** Output of a run kept for participants who attach later (its tail). */
  keepChars: number;
  /** Tail of a run's output stored in the database, so it survives a restart. */
  storeChars: number;
  logError: (message: string, error: unknown) => void;
}

interface LiveRun {
  view: RunView;
  log: RunOutputLog;
  run: SandboxRun | null;
  stoppedBy: UserRef | null;
}

interface ProjectRuns {
  /** At most one run per project: the Run button is a toggle for everyone. */
  run: LiveRun | null;
  /** The project's last finished run (its output for participants who attach later). */
  lastRun: LiveRun | null;
  starting: boolean;
}

const RECENT_RUNS = 20;

/**
 * The projects' runs (split from SandboxService): started from the live documents, output fanned
 * out to participants and kept for reattaching, recorded in the database with why they ended.
 */
export class RunSessions {
  private readonly projects = new Map<string, ProjectRuns>();
  /** Database writes of finished runs still in flight (settled() waits for them). */
  private readonly recording = new Set<Promise<void>>();

  constructor(private readonly o: RunSessionsOptions) {}

  /**
   * Runs left `running` in the database by a server that stopped mid-run are marked
   * `interrupted`; all of them, or one project's.
   */
  async recoverInterrupted(projectId?: string): Promise<number> {
    const where = { status: 'running', ...(projectId === undefined ? {} : { projectId }) };
    const { count } = await this.o.prisma.run.updateMany({ where, data: { status: 'interrupted', endedAt: new Date() } });
    return count;
  }

  /** The project's own setting wins; otherwise tandem.json / package.json / well-known files. */
  async command(projectId: string, configuredCommand: string | null, files?: ProjectFile[]): Promise<{ command: string; source: RunCommandSource } | null> {
    if (configuredCommand?.trim()) return { command: configuredCommand.trim(), source: 'settings' };
    const resolved = resolveRunCommand(files ?? (await this.o.files.read(projectId)));
    return resolved ? { command: resolved.command, source: resolved.source } : null;
  }

  /** Starts the project's run command in a fresh sandbox built from the current documents. */
  async start(projectId: string, user: UserRef, configuredCommand: string | null): Promise<RunView> {
    const state = this.state(projectId);
    if (state.run || state.starting) throw new AppError('CONFLICT', 'The project is already running; stop it first.');
    const release = this.o.gate.reserve(user);
    state.starting = true;
    let slot: SlotGrant | null = null;
    try {
      slot = await this.o.gate.admit(projectId, 'run', user);
      const { files, notice } = await this.o.sync.sync(projectId);
      const resolved = await this.command(projectId, configuredCommand, files);
      if (!resolved) {
        throw new AppError('BAD_INPUT', 'This project has no run command. Add a tandem.json with {"run": "…"}, a package.json "start" script, or set one in the project settings.');
      }
      const row = await this.o.prisma.run.create({ data: { projectId, userId: user.id, command: resolved.command, status: 'running' } });
      const live: LiveRun = {
        view: {
          id: row.id, projectId, command: row.command, status: 'running', exitCode: null, durationMs: null,
          startedAt: row.startedAt.toISOString(), endedAt: null, startedBy: user, detail: null,
        },
        log: new RunOutputLog(row.id, this.o.keepChars),
        run: null,
        stoppedBy: null,
      };
      state.run = live;
      this.o.publish(projectId, RUN_EVENT, live.view);
      if (notice) {
        const end = live.log.append({ stream: 'stderr', text: notice });
        this.o.publish(projectId, RUN_OUTPUT_EVENT, { runId: row.id, stream: 'stderr', text: notice, end } satisfies RunOutput);
      }
      try {
        live.run = await this.o.host.run(projectId, resolved.command, {
          onOutput: (chunk) => {
            const end = live.log.append(chunk);
            const event: RunOutput = { runId: row.id, stream: chunk.stream === 'stderr' ? 'stderr' : 'stdout', text: chunk.text, end };
            this.o.publish(projectId, RUN_OUTPUT_EVENT, event);
          },
        });
      } catch (error) {
        this.track(this.finish(projectId, live, null, error instanceof AppError ? error.message : null));
        throw error;
      }
      this.track(live.run.done.then((result) => this.finish(projectId, live, result)));
      return live.view;
    } finally {
      state.starting = false;
      slot?.();
      release();
    }
  }

  /** Kills the run's whole process tree; resolves once it is gone. False if nothing was running. */
  async stop(projectId: string, runId: string, user: UserRef): Promise<boolean> {
    const live = this.projects.get(projectId)?.run;
    if (!live || live.view.id !== runId || !live.run) return false;
    live.stoppedBy ??= user;
    live.run.stop();
    await live.run.done;
    return true;
  }

  /** Recent runs, newest first; the live one (if any) as it is right now. */
  async list(projectId: string): Promise<RunView[]> {
    const rows = await this.o.prisma.run.findMany({ where: { projectId }, orderBy: { startedAt: 'desc' }, take: RECENT_RUNS });
    const users = await this.o.prisma.user.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.userId))] } }, select: { id: true, name: true } });
    const names = new Map(users.map((u) => [u.id, u.name]));
    const state = this.projects.get(projectId);
    const inMemory = new Map([state?.run, state?.lastRun].filter((r) => !!r).map((r) => [r.view.id, r.view]));
    return rows.map((r) => inMemory.get(r.id) ?? ({
      id: r.id, projectId, command: r.command, status: r.status as RunStatus, exitCode: r.exitCode, durationMs: r.durationMs,
      startedAt: r.startedAt.toISOString(), endedAt: r.endedAt?.toISOString() ?? null,
      startedBy: { id: r.userId, name: names.get(r.userId) ?? 'Former member' },
      detail: r.detail ?? describeEnd(r.status as RunStatus, r.exitCode, this.o.host.limits, null),
    } satisfies RunView));
  }

  /**
   * The kept output of the live run or the last finished one (in memory), else the tail stored
   * with the run in the database (earlier runs, and every run after a restart).
   */
  async output(projectId: string, runId: string): Promise<RunOutputSnapshot> {
    const state = this.projects.get(projectId);
    const live = [state?.run, state?.lastRun].find((r) => r?.view.id === runId);
    if (live) return live.log.snapshot();
    const row = await this.o.prisma.run.findFirst({ where: { id: runId, projectId }, select: { output: true } });
    const stored = parseStoredOutput(runId, row?.output);
    if (!stored) throw new AppError('NOT_FOUND', 'The output of this run is no longer kept.');
    return stored;
  }

  /** Live runs the user started. */
  heldBy(userId: string): number {
    let n = 0;
    for (const state of this.projects.values()) if (state.run?.view.startedBy.id === userId) n++;
    return n;
  }

  /** Resolves once every finished run is recorded. */
  async settled(): Promise<void> {
    await Promise.all([...this.recording]);
  }

  forget(projectId: string): void {
    this.projects.delete(projectId);
  }

  private async finish(projectId: string, live: LiveRun, result: RunResult | null, failure: string | null = null): Promise<void> {
    const status: RunStatus = result?.reason ?? 'error';
    const endedAt = new Date();
    live.view = {
      ...live.view,
      status,
      exitCode: result?.exitCode ?? null,
      durationMs: result?.durationMs ?? null,
      endedAt: endedAt.toISOString(),
      detail: failure ?? describeEnd(status, result?.exitCode ?? null, this.o.host.limits, live.stoppedBy, result?.pidsLimitHit ?? false),
    };
    const state = this.state(projectId);
    if (state.run === live) state.run = null;
    state.lastRun = live;
    try {
      // updateMany: the project may have been deleted meanwhile (its runs cascade away).
      await this.o.prisma.run.updateMany({
        where: { id: live.view.id },
        data: {
          status, exitCode: live.view.exitCode, durationMs: live.view.durationMs, endedAt, detail: live.view.detail,
          output: live.log.snapshot(this.o.storeChars) as unknown as Prisma.InputJsonValue,
        },
      });
    } catch (error) {
      this.o.logError(`recording the end of run ${live.view.id} failed`, error);
    }
    this.o.publish(projectId, RUN_EVENT, live.view);
  }

  private track(work: Promise<void>): void {
    const p = work.catch((error: unknown) => this.o.logError('finishing a run failed', error));
    this.recording.add(p);
    void p.finally(() => this.recording.delete(p));
  }

  private state(projectId: string): ProjectRuns {
    let state = this.projects.get(projectId);
    if (!state) this.projects.set(projectId, (state = { run: null, lastRun: null, starting: false }));
    return state;
  }
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** A stored output tail, checked (the column is JSON), as a snapshot; null when absent. */
function parseStoredOutput(runId: string, value: unknown): RunOutputSnapshot | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Partial<RunOutputSnapshot>;
  if (!Array.isArray(v.chunks) || typeof v.end !== 'number' || typeof v.omitted !== 'number') return null;
  const chunks = v.chunks
    .filter((c) => c && typeof c.text === 'string')
    .map((c) => ({ stream: c.stream === 'stderr' ? 'stderr' as const : 'stdout' as const, text: c.text }));
  return { runId, chunks, end: v.end, omitted: v.omitted };
}

/** Why a run ended, in words, when it was not simply the program finishing by itself. */
function describeEnd(status: RunStatus, exitCode: number | null, limits: SandboxLimits, stoppedBy: UserRef | null, pidsLimitHit = false): string | null {
  switch (status) {
    case 'running':
      return null;
    case 'exit':
      return pidsLimitHit ? `It hit the process limit (${limits.pidsMax} processes and threads): some forks failed.` : null;
    case 'stopped':
      return stoppedBy ? `Stopped by ${stoppedBy.name}.` : 'Stopped.';
    case 'killed-timeout':
      return `Stopped: it ran longer than the time limit (${Math.round(limits.runTimeoutMs / 1000)} s).`;
    case 'killed-memory':
      return `Killed: it used more than the memory limit (${mib(limits.memoryBytes)}).`;
    case 'output-capped':
      return `Stopped: it printed more than the output limit (${mib(limits.outputCapBytes)}).`;
    case 'interrupted':
      return 'The server stopped during this run.';
    case 'error':
      return exitCode === null ? 'The program could not be started.' : null;
  }
}
