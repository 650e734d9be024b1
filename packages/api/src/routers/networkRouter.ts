import { z } from 'zod';
import { AppError } from '@tandem/protocol';
import { router, protectedProcedure, projectHomeProcedure, requireRole, type Context } from '../trpc.ts';
import { id, projectId } from '../inputs.ts';
import type { NetworkService } from '../network/NetworkService.ts';

function network(ctx: Context): NetworkService {
  if (!ctx.services.network) throw new AppError('UNAVAILABLE', 'Sandbox networking is not available on this server.');
  return ctx.services.network;
}

const port = z.number().int().min(1).max(65535);

/**
 * Sandbox network: which hosts the project's sandboxes may reach (members read; owners change,
 * within the deployment ceiling) and previews of programs listening in the sandbox (members).
 */
export const networkRouter = router({
  settings: protectedProcedure.input(projectId).query(async ({ ctx, input }) => {
    const role = await requireRole(ctx, input.projectId, 'viewer');
    return { ...(await network(ctx).settings(input.projectId)), canEdit: role === 'owner' };
  }),

  setHosts: protectedProcedure
    .input(z.object({ projectId: id, hosts: z.array(z.string().max(260)).max(100) }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'owner');
      return { hosts: await network(ctx).setHosts(input.projectId, input.hosts) };
    }),

  /** The current list (then PREVIEWS_EVENT on the stream): on the home node, where the sandboxes run. */
  previews: projectHomeProcedure.input(projectId).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return { previews: await network(ctx).previews(input.projectId) };
  }),

  /** A short-lived URL that signs the caller in at the preview origin and opens the app. */
  previewTicket: protectedProcedure.input(z.object({ projectId: id, port })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return network(ctx).ticket(ctx.user.id, input.projectId, input.port);
  }),

  /** A signed, expiring link for people outside the project (editors and owners). */
  shareLink: protectedProcedure
    .input(z.object({ projectId: id, port, hours: z.number().min(1 / 60).max(168) }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      return network(ctx).shareLink(input.projectId, input.port, input.hours * 3600_000);
    }),
});
