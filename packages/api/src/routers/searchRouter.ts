import { z } from 'zod';
import { AppError } from '@tandem/protocol';
import { router, protectedProcedure, projectHomeProcedure, requireRole, type Context } from '../trpc.ts';
import { id } from '../inputs.ts';
import type { ProjectSearch } from '../search/ProjectSearch.ts';

const query = {
  projectId: id,
  pattern: z.string().min(1, 'Enter something to search for.').max(500),
  regex: z.boolean().default(false),
  caseSensitive: z.boolean().default(false),
  wholeWord: z.boolean().default(false),
  include: z.string().max(500).default(''),
  exclude: z.string().max(500).default(''),
};

function search(ctx: Context): ProjectSearch {
  if (!ctx.services.search) throw new AppError('UNAVAILABLE', 'Search is not available on this server.');
  return ctx.services.search;
}

/**
 * Search and replace across a project's files. find: any member; replace and undo: editors and
 * owners. replace and undo run on the project's home node (projectHomeProcedure), where the undo
 * records live; reads run wherever the call lands.
 */
export const searchRouter = router({
  find: protectedProcedure.input(z.object(query)).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    const { projectId, ...q } = input;
    const outcome = await search(ctx).search(projectId, q, ctx.user);
    if (outcome.invalid) throw new AppError('BAD_INPUT', `Not a valid search: ${outcome.invalid}`);
    return outcome;
  }),

  replace: projectHomeProcedure
    .input(z.object({ ...query, replacement: z.string().max(10_000), only: z.object({ path: z.string().min(1).max(1024), start: z.number().int().min(0) }).optional() }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      const { projectId, replacement, only, ...q } = input;
      return search(ctx).replace(projectId, q, replacement, ctx.user, only);
    }),

  /** Sources for the editor's cross-file code intelligence (any member). */
  sources: protectedProcedure.input(z.object({ projectId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return search(ctx).sources(input.projectId);
  }),

  /** Edits from code intelligence (rename across files) to a file the editor had not open: editors and owners. */
  applyEdits: protectedProcedure
    .input(z.object({
      projectId: id,
      path: z.string().min(1).max(1024),
      baseSha256: z.string().length(64).regex(/^[0-9a-f]+$/),
      edits: z.array(z.object({ offset: z.number().int().min(0), length: z.number().int().min(0), text: z.string().max(100_000) })).min(1).max(1000),
    }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      await search(ctx).applyEdits(input.projectId, input.path, input.baseSha256, input.edits, ctx.user);
      return { applied: input.edits.length };
    }),

  undo: projectHomeProcedure.input(z.object({ projectId: id, replaceId: z.string().max(64).uuid() })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'editor');
    return search(ctx).undo(input.projectId, input.replaceId, ctx.user);
  }),
});
