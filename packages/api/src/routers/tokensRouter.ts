import { z } from 'zod';
import { router, protectedProcedure } from '../trpc.ts';
import { id } from '../inputs.ts';

export const tokensRouter = router({
  list: protectedProcedure.query(({ ctx }) => ctx.auth.listTokens(ctx.user.id)),

  /** Returns the token once; only its hash is kept. */
  create: protectedProcedure
    .input(z.object({ name: z.string().trim().min(1).max(60), expiresInDays: z.number().int().min(1).max(3650).optional() }))
    .mutation(({ ctx, input }) =>
      ctx.auth.createToken(ctx.user.id, input.name, input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : undefined),
    ),

  revoke: protectedProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    await ctx.auth.revokeToken(ctx.user.id, input.id);
    return { ok: true };
  }),
});
