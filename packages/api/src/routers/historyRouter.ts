import { z } from 'zod';
import { AppError } from '@tandem/protocol';
import { router, protectedProcedure, requireRole, type Context } from '../trpc.ts';
import { id } from '../inputs.ts';
import type { HistoryService } from '../history/HistoryService.ts';
import { CHECKPOINT_LIMITS, type CheckpointService } from '../history/CheckpointService.ts';
import type { TimeTravel } from '../history/TimeTravel.ts';

const time = z.number().int().min(0).max(8.64e15);

function history(ctx: Context): HistoryService {
  if (!ctx.services.history) throw new AppError('UNAVAILABLE', 'History is not available on this server.');
  return ctx.services.history;
}

function timeTravel(ctx: Context): TimeTravel {
  const service = history(ctx).timeTravel;
  if (!service) throw new AppError('UNAVAILABLE', 'Time travel is not available on this server.');
  return service;
}

function checkpoints(ctx: Context): CheckpointService {
  const service = history(ctx).checkpoints;
  if (!service) throw new AppError('UNAVAILABLE', 'Checkpoints are not available on this server.');
  return service;
}

/** Project history: who wrote what. Members only (viewers included: they read the code anyway). */
export const historyRouter = router({
  blame: protectedProcedure.input(z.object({ projectId: id, fileId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return history(ctx).blame(input.projectId, input.fileId);
  }),

  /** Time travel: a file's edits as steps grouped into sessions (the newest TIME_TRAVEL_LIMITS.steps). */
  timeline: protectedProcedure.input(z.object({ projectId: id, fileId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return timeTravel(ctx).timeline(input.projectId, input.fileId);
  }),

  /** A file as it was at `at` (ms), diffed against `compareTo` or now. Read-only. */
  version: protectedProcedure
    .input(z.object({ projectId: id, fileId: id, at: time, compareTo: time.nullable().default(null) }))
    .query(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      return timeTravel(ctx).version(input.projectId, input.fileId, input.at, input.compareTo);
    }),

  /** The project's editing sessions: when, which files, who. */
  projectSessions: protectedProcedure.input(z.object({ projectId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return timeTravel(ctx).projectSessions(input.projectId, ctx.user.id);
  }),

  /** The project's changes between two times (a session) as steps across files, with their authors. Read-only. */
  projectTimeline: protectedProcedure
    .input(z.object({ projectId: id, from: time, to: time }).refine((i) => i.from <= i.to, 'The range ends before it starts.'))
    .query(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      return timeTravel(ctx).projectTimeline(input.projectId, input.from, input.to, ctx.user.id);
    }),

  checkpoints: protectedProcedure.input(z.object({ projectId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return checkpoints(ctx).list(input.projectId);
  }),

  /** One file at a checkpoint, diffed against now. */
  compare: protectedProcedure.input(z.object({ projectId: id, checkpointId: id, fileId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return checkpoints(ctx).compare(input.projectId, input.checkpointId, input.fileId);
  }),

  createCheckpoint: protectedProcedure
    .input(z.object({ projectId: id, name: z.string().trim().min(1, 'Name the checkpoint.').max(CHECKPOINT_LIMITS.nameChars) }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      return checkpoints(ctx).create(input.projectId, input.name, 'manual', { id: ctx.user.id, name: ctx.user.name });
    }),

  /** The project as a git bundle (base64): checkpoints as commits, AI ranges as notes. */
  exportGit: protectedProcedure.input(z.object({ projectId: id })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    const git = history(ctx).git;
    if (!git) throw new AppError('UNAVAILABLE', 'Git export is not available on this server.');
    const { bundle, commits } = await git.bundle(input.projectId, { id: ctx.user.id, name: ctx.user.name });
    return { bundle: bundle.toString('base64'), commits };
  }),

  /** Restores the whole project, or one file, as a new change (undo: restore the checkpoint it takes first). */
  restore: protectedProcedure
    .input(z.object({ projectId: id, checkpointId: id, fileId: id.optional() }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      return checkpoints(ctx).restore(input.projectId, input.checkpointId, { id: ctx.user.id, name: ctx.user.name }, input.fileId);
    }),
});
