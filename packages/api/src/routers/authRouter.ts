import { z } from 'zod';
import { router, publicProcedure, protectedProcedure, sessionProcedure } from '../trpc.ts';
import { email, password, displayName } from '../inputs.ts';

export const authRouter = router({
  me: publicProcedure.query(({ ctx }) => ctx.user),

  signUp: publicProcedure
    .input(z.object({ email, password, name: displayName }))
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.auth.signUp({ ...input, ip: ctx.ip });
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

  /** Ends this session; its other tabs' sync sockets and event streams close on every node. */
  signOut: protectedProcedure.mutation(async ({ ctx }) => {
    if (ctx.session?.token) ctx.events.credentialsRevoked([await ctx.auth.endSession(ctx.session.token)]);
    ctx.session?.clear();
    return { ok: true };
  }),

  /** Sets a new password; every other session of the account ends (its connections close). */
  changePassword: sessionProcedure
    .input(z.object({ currentPassword: z.string().min(1).max(256), newPassword: password }))
    .mutation(async ({ ctx, input }) => {
      const ended = await ctx.auth.changePassword({
        userId: ctx.user.id,
        currentPassword: input.currentPassword,
        newPassword: input.newPassword,
        keepSessionId: ctx.credential?.kind === 'session' ? ctx.credential.id : null,
        ip: ctx.ip,
      });
      if (ended.length) ctx.events.credentialsRevoked(ended);
      return { ok: true, endedSessions: ended.length };
    }),
});
