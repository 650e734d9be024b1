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

  /** Owners remove anyone; anyone may remove themselves (leave). */
  remove: protectedProcedure.input(memberInput).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, input.userId === ctx.user.id ? 'viewer' : 'owner');
    await assertNotLastOwner(ctx.prisma, input.projectId, input.userId);
    await ctx.prisma.membership.delete({ where: { projectId_userId: { projectId: input.projectId, userId: input.userId } } });
    ctx.events.accessChanged(input.projectId, input.userId, null);
    return { ok: true };
  }),
});
