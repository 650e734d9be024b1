import { z } from 'zod';
import { AppError, roleAtLeast } from '@tandem/protocol';
import { newSecret, type AuthService } from '@tandem/auth';
import type { PrismaClient } from '@tandem/db';
import { router, sessionProcedure, requireRole } from '../trpc.ts';
import { id, projectId, role } from '../inputs.ts';

const inviteToken = z.object({ token: z.string().min(10).max(100) });

/** Invite links: managed and redeemed from a signed-in session only, never with an access token. */
export const invitesRouter = router({
  create: sessionProcedure
    .input(z.object({ projectId: projectId.shape.projectId, role, expiresInHours: z.number().int().min(1).max(24 * 30).default(72) }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'owner');
      const token = newSecret('', 18);
      const invite = await ctx.prisma.invite.create({
        data: {
          projectId: input.projectId,
          role: input.role,
          tokenHash: ctx.auth.hash(token),
          createdById: ctx.user.id,
          expiresAt: new Date(Date.now() + input.expiresInHours * 3600_000),
        },
      });
      return { id: invite.id, token, url: `${ctx.origin}/invite/${token}`, expiresAt: invite.expiresAt };
    }),

  list: sessionProcedure.input(projectId).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'owner');
    return ctx.prisma.invite.findMany({
      where: { projectId: input.projectId, revokedAt: null, expiresAt: { gt: new Date() } },
      select: { id: true, role: true, createdAt: true, expiresAt: true, uses: true },
      orderBy: { createdAt: 'desc' },
    });
  }),

  revoke: sessionProcedure.input(z.object({ projectId: projectId.shape.projectId, inviteId: id })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'owner');
    const { count } = await ctx.prisma.invite.updateMany({
      where: { id: input.inviteId, projectId: input.projectId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (!count) throw new AppError('NOT_FOUND', 'Invite not found.');
    return { ok: true };
  }),

  /** What an invite link offers (shown before joining). */
  preview: sessionProcedure.input(inviteToken).query(async ({ ctx, input }) => {
    const invite = await usableInvite(ctx.prisma, ctx.auth, input.token);
    return { projectName: invite.project.name, role: invite.role, expiresAt: invite.expiresAt };
  }),

  accept: sessionProcedure.input(inviteToken).mutation(async ({ ctx, input }) => {
    const invite = await usableInvite(ctx.prisma, ctx.auth, input.token);
    // An owner removed this user: links made before that do not bring them back.
    const removal = await ctx.prisma.projectRemoval.findUnique({ where: { projectId_userId: { projectId: invite.projectId, userId: ctx.user.id } } });
    if (removal && invite.createdAt.getTime() <= removal.removedAt.getTime()) {
      throw new AppError('FORBIDDEN', 'You were removed from this project. Ask an owner for a new invite link.');
    }
    const key = { projectId_userId: { projectId: invite.projectId, userId: ctx.user.id } };
    const existing = await ctx.prisma.membership.findUnique({ where: key });
    // Joining never downgrades an existing member.
    if (!existing || !roleAtLeast(existing.role, invite.role)) {
      await ctx.prisma.membership.upsert({ where: key, create: { ...key.projectId_userId, role: invite.role }, update: { role: invite.role } });
      await ctx.prisma.invite.update({ where: { id: invite.id }, data: { uses: { increment: 1 } } });
      if (existing) ctx.events.accessChanged(invite.projectId, ctx.user.id, invite.role);
    }
    return { projectId: invite.projectId };
  }),
});

async function usableInvite(prisma: PrismaClient, auth: AuthService, token: string) {
  const invite = await prisma.invite.findUnique({ where: { tokenHash: auth.hash(token) }, include: { project: true } });
  if (!invite || invite.revokedAt) throw new AppError('NOT_FOUND', 'This invite link is not valid (it may have been revoked).');
  if (invite.expiresAt.getTime() <= Date.now()) throw new AppError('FORBIDDEN', 'This invite link has expired. Ask the project owner for a new one.');
  return invite;
}
