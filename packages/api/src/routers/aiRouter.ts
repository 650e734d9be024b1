import { z } from 'zod';
import { AppError } from '@tandem/protocol';
import { router, protectedProcedure, requireRole } from '../trpc.ts';
import { id, projectId } from '../inputs.ts';
import { isForbiddenPath } from '../agent/agentPolicy.ts';
import { projectAiSettings } from '../ai/projectAiSettings.ts';

const text = (max: number) => z.string().max(max);

/** Limits well above the completion budget (the server trims to it); they only stop abuse. */
const completionInput = z.object({
  projectId: id,
  /** The caller's tab (its `stream.events` subscription receives the deltas). */
  tabId: id,
  /** Chosen by the client so it can match events that arrive before this call returns. */
  requestId: id,
  path: text(1024),
  language: text(64),
  prefix: text(64_000),
  suffix: text(32_000),
  related: z.array(z.object({ path: text(1024), text: text(8_000) })).max(8).default([]),
});

/**
 * AI for a project. Inline completions are private to the typist: deltas go to the caller's own
 * tab channel only. Who may do what:
 * - status: any member (viewers see which provider is used and why AI is unavailable);
 * - complete / cancel: editors and owners (viewers cannot edit, and requests cost money);
 * - setProvider: the owner only (it decides where the project's code is sent).
 */
export const aiRouter = router({
  status: protectedProcedure.input(projectId).query(async ({ ctx, input }) => {
    const role = await requireRole(ctx, input.projectId, 'viewer');
    const project = await ctx.prisma.project.findUniqueOrThrow({ where: { id: input.projectId }, select: { aiProvider: true } });
    return { ...ctx.services.ai.status(project.aiProvider), canComplete: role !== 'viewer', canChoose: role === 'owner' };
  }),

  setProvider: protectedProcedure
    .input(z.object({ projectId: id, providerId: z.string().max(64).nullable() }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'owner');
      if (input.providerId !== null && !ctx.services.ai.isConfigured(input.providerId)) {
        throw new AppError('BAD_INPUT', 'That AI provider is not configured on this server.');
      }
      await ctx.prisma.project.update({ where: { id: input.projectId }, data: { aiProvider: input.providerId } });
      ctx.services.ai.settingsChanged(input.projectId);
      return ctx.services.ai.status(input.providerId);
    }),

  /** Starts an inline completion and returns at once; the text streams as `completion` events. */
  complete: protectedProcedure.input(completionInput).mutation(async ({ ctx, input }) => {
    // Cached (membership, settings): no database round trip before the upstream request.
    await requireRole(ctx, input.projectId, 'editor');
    const { providerId, forbiddenPaths: forbidden } = await projectAiSettings(ctx, input.projectId);
    const provider = ctx.services.ai.resolveProvider(providerId);
    // The project's forbidden paths (agent policy) never reach a model: not the file being
    // completed, not as context from other open files.
    if (isForbiddenPath(forbidden, input.path)) throw new AppError('FORBIDDEN', 'This file is off limits to the AI by the project\'s policy.');
    await ctx.services.ai.admitRequest(ctx.user.id, input.projectId);
    const { projectId: project_, tabId, requestId, ...rest } = input;
    const context = { ...rest, related: rest.related.filter((r) => !isForbiddenPath(forbidden, r.path)) };
    ctx.services.ai.startCompletion({ userId: ctx.user.id, projectId: project_, tabId, requestId, provider, context });
    return { requestId, provider: provider.info };
  }),

  /** Aborts one of the caller's own requests, closing the upstream request too. */
  cancel: protectedProcedure.input(z.object({ requestId: id })).mutation(({ ctx, input }) => {
    return { cancelled: ctx.services.ai.cancel(ctx.user.id, input.requestId) };
  }),
});
