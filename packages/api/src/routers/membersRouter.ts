import { z } from 'zod';
import { AppError } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import { router, protectedProcedure, requireRole } from '../trpc.ts';
import { id, projectId, role } from '../inputs.ts';

const memberInput = z.object({ projectId: projectId.shape.projectId, userId: id });

/** A project always keeps at least one owner. */
async function assertNotLastOwner(prisma: PrismaClient, projectId: string, userId: string): Promise<void> {
  const target = await prisma.membership.findUnique({ where: { projectId_userId: { projectId, userId } } });
  if (!target) throw new AppError('NOT_FOUND', 'Member not found.');
  if (target.role !== 'owner') return;
  const owners = await prisma.membership.count({ where: { projectId, role: 'owner' } });
  if (owners <= 1) throw new AppError('CONFLICT', 'A project needs at least one owner. Make someone else owner first.');
}

export const membersRouter = router({
  list: protectedProcedure.input(projectId).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    const rows = await ctx.prisma.membership.findMany({
      where: { projectId: input.projectId },
      include: { user: { select: { id: true, name: true, email: true } } },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((m) => ({ ...m.user, role: m.role, joinedAt: m.createdAt }));
  }),

  setRole: protectedProcedure.input(memberInput.extend({ role })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'owner');
    if (input.role !== 'owner') await assertNotLastOwner(ctx.prisma, input.projectId, input.userId);
    await ctx.prisma.membership.update({
      where: { projectId_userId: { projectId: input.projectId, userId: input.userId } },
      data: { role: input.role },
    });
    ctx.events.accessChanged(input.projectId, input.userId, input.role);
    return { ok: true };
  }),

  /**
   * Owners remove anyone; anyone may remove themselves (leave). A removal by an owner sticks:
   * invite links created before it no longer let that user back in (a new link does). The
   * project's open links are returned so the owner can revoke them too.
   */
  remove: protectedProcedure.input(memberInput).mutation(async ({ ctx, input }) => {
    const self = input.userId === ctx.user.id;
    await requireRole(ctx, input.projectId, self ? 'viewer' : 'owner');
    await assertNotLastOwner(ctx.prisma, input.projectId, input.userId);
    const key = { projectId: input.projectId, userId: input.userId };
    await ctx.prisma.$transaction([
      ctx.prisma.membership.delete({ where: { projectId_userId: key } }),
      ...(self ? [] : [ctx.prisma.projectRemoval.upsert({ where: { projectId_userId: key }, create: key, update: { removedAt: new Date() } })]),
    ]);
    ctx.events.accessChanged(input.projectId, input.userId, null);
    const openInvites = self ? [] : await ctx.prisma.invite.findMany({
      where: { projectId: input.projectId, revokedAt: null, expiresAt: { gt: new Date() } },
      select: { id: true, role: true, createdAt: true, expiresAt: true, uses: true },
      orderBy: { createdAt: 'desc' },
    });
    return { ok: true, openInvites };
  }),
});
