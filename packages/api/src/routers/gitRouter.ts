import { z } from 'zod';
import { AppError } from '@tandem/protocol';
import { router, protectedProcedure, requireRole, type Context } from '../trpc.ts';
import { id } from '../inputs.ts';
import { GIT_BRANCH } from '../history/GitPush.ts';

function services(ctx: Context) {
  const { gitImport, gitPush } = ctx.services;
  if (!gitImport || !gitPush) throw new AppError('UNAVAILABLE', 'Git is not available on this server.');
  return { gitImport, gitPush };
}

const url = z.string().trim().min(1, 'Enter the repository\'s URL.').max(2000);

/**
 * Git import (an https URL; bundles are uploaded over HTTP) and push to the project's remote.
 * The owner imports, sets the remote and pushes; members see where it pushes, never the token.
 */
export const gitRouter = router({
  /** Imports a repository's HEAD into a new or empty project. */
  importUrl: protectedProcedure.input(z.object({ projectId: id, url })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'owner');
    return services(ctx).gitImport.importInto(input.projectId, { url: input.url });
  }),

  remote: protectedProcedure.input(z.object({ projectId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return services(ctx).gitPush.remote(input.projectId);
  }),

  /** `token`: a new one; `null` removes it; omitted keeps the stored one. */
  setRemote: protectedProcedure
    .input(z.object({ projectId: id, url, branch: z.string().trim().max(200).regex(GIT_BRANCH, 'Not a valid branch name.'), token: z.string().max(1000).nullable().optional() }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'owner');
      return services(ctx).gitPush.setRemote(input.projectId, input, ctx.user.id);
    }),

  removeRemote: protectedProcedure.input(z.object({ projectId: id })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'owner');
    await services(ctx).gitPush.removeRemote(input.projectId);
    return { ok: true };
  }),

  push: protectedProcedure.input(z.object({ projectId: id })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'owner');
    return services(ctx).gitPush.push(input.projectId, { id: ctx.user.id, name: ctx.user.name });
  }),
});
