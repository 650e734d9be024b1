import { z } from 'zod';
import { TOKEN_SCOPES } from '@tandem/auth';
import { router, sessionProcedure } from '../trpc.ts';
import { id } from '../inputs.ts';

/** Personal access tokens: managed from a signed-in session only, never with a token. */
export const tokensRouter = router({
  list: sessionProcedure.query(({ ctx }) => ctx.auth.listTokens(ctx.user.id)),

  /** Returns the token once; only its hash is kept. `scopes` default to all three. */
  create: sessionProcedure
    .input(z.object({
      name: z.string().trim().min(1).max(60),
      expiresInDays: z.number().int().min(1).max(3650).optional(),
      scopes: z.array(z.enum(TOKEN_SCOPES)).min(1, 'Choose at least one scope.').max(TOKEN_SCOPES.length).optional(),
    }))
    .mutation(({ ctx, input }) =>
      ctx.auth.createToken(ctx.user.id, input.name, input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : undefined, input.scopes),
    ),

  /** Revokes a token: requests with it fail at once and its sync sockets and streams close on every node. */
  revoke: sessionProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    await ctx.auth.revokeToken(ctx.user.id, input.id);
    ctx.events.credentialsRevoked([input.id]);
    return { ok: true };
  }),
});
