import { z } from 'zod';
import { AppError } from '@tandem/protocol';
import { router, protectedProcedure, requireRole, type Context } from '../trpc.ts';
import { id } from '../inputs.ts';
import type { HistoryService } from '../history/HistoryService.ts';

function history(ctx: Context): HistoryService {
  if (!ctx.services.history) throw new AppError('UNAVAILABLE', 'History is not available on this server.');
  return ctx.services.history;
}

/** Project history: who wrote what. Members only (viewers included: they read the code anyway). */
export const historyRouter = router({
  blame: protectedProcedure.input(z.object({ projectId: id, fileId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return history(ctx).blame(input.projectId, input.fileId);
  }),
});
