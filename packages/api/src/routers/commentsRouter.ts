import { z } from 'zod';
import { AppError, roleAtLeast } from '@tandem/protocol';
import { router, protectedProcedure, requireRole, type Context } from '../trpc.ts';
import { id } from '../inputs.ts';
import { COMMENT_LIMITS, type CommentService } from '../comments/CommentService.ts';

const body = z.string().trim().min(1, 'Write something first.').max(COMMENT_LIMITS.bodyChars, `Keep a comment under ${COMMENT_LIMITS.bodyChars} characters.`);
const anchor = z.string().min(1).max(512);

function comments(ctx: Context): CommentService {
  if (!ctx.services.comments) throw new AppError('UNAVAILABLE', 'Comments are not available on this server.');
  return ctx.services.comments;
}

/**
 * Comment threads on code (and AI hunks). Any member may read, start and reply (viewers review
 * too); resolving: editors, owners, or whoever started the thread.
 */
export const commentsRouter = router({
  list: protectedProcedure.input(z.object({ projectId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return comments(ctx).list(input.projectId);
  }),

  create: protectedProcedure
    .input(z.object({ projectId: id, fileId: id, anchorStart: anchor, anchorEnd: anchor, excerpt: z.string().max(2000), body, suggestionId: id.nullish() }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      const { projectId, ...rest } = input;
      return comments(ctx).create(projectId, ctx.user.id, rest);
    }),

  reply: protectedProcedure.input(z.object({ projectId: id, threadId: id, body })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return comments(ctx).reply(input.projectId, ctx.user.id, input.threadId, input.body);
  }),

  resolve: protectedProcedure.input(z.object({ projectId: id, threadId: id, resolved: z.boolean() })).mutation(async ({ ctx, input }) => {
    const role = await requireRole(ctx, input.projectId, 'viewer');
    return comments(ctx).setResolved(input.projectId, { id: ctx.user.id, canModerate: roleAtLeast(role, 'editor') }, input.threadId, input.resolved);
  }),
});
