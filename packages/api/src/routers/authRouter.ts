import { z } from 'zod';
import { router, publicProcedure, protectedProcedure } from '../trpc.ts';
import { email, password, displayName } from '../inputs.ts';

export const authRouter = router({
  me: publicProcedure.query(({ ctx }) => ctx.user),

  signUp: publicProcedure
    .input(z.object({ email, password, name: displayName }))
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.auth.signUp(input);
      const s = await ctx.auth.createSession(user.id);
      ctx.session?.set(s.token, s.expiresAt);
      return user;
    }),

  signIn: publicProcedure
    .input(z.object({ email, password: z.string().min(1).max(256) }))
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.auth.signIn({ ...input, ip: ctx.ip });
      const s = await ctx.auth.createSession(user.id);
      ctx.session?.set(s.token, s.expiresAt);
      return user;
    }),

  signOut: protectedProcedure.mutation(async ({ ctx }) => {
    if (ctx.session?.token) await ctx.auth.endSession(ctx.session.token);
    ctx.session?.clear();
    return { ok: true };
  }),
});
