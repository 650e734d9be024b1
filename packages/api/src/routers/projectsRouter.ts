import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { fileDocName, normalizeProjectPath, treeDocName, type TreeEntry } from '@tandem/protocol';
import { encodeTextDocument, encodeTreeDocument } from '@tandem/collab';
import { asBytes } from '@tandem/db';
import { router, protectedProcedure, sessionProcedure, requireRole } from '../trpc.ts';
import { projectId, projectName } from '../inputs.ts';
import { TEMPLATES, TEMPLATE_IDS } from '../templates.ts';

export const projectsRouter = router({
  list: protectedProcedure.query(async ({ ctx }) => {
    const rows = await ctx.prisma.membership.findMany({
      where: { userId: ctx.user.id },
      include: { project: { include: { _count: { select: { memberships: true } } } } },
      orderBy: { project: { updatedAt: 'desc' } },
    });
    return rows.map((m) => ({
      id: m.project.id,
      name: m.project.name,
      role: m.role,
      members: m.project._count.memberships,
      updatedAt: m.project.updatedAt,
    }));
  }),

  templates: protectedProcedure.query(() => TEMPLATE_IDS.map((id) => ({ id, label: TEMPLATES[id].label }))),

  create: protectedProcedure
    .input(z.object({ name: projectName, template: z.enum(TEMPLATE_IDS).default('empty') }))
    .mutation(async ({ ctx, input }) => {
      const project = await ctx.prisma.project.create({
        data: { name: input.name, memberships: { create: { userId: ctx.user.id, role: 'owner' } } },
      });
      const entries: Record<string, TreeEntry> = {};
      const files = Object.entries(TEMPLATES[input.template].files).map(([path, content]) => {
        const fileId = randomUUID();
        entries[fileId] = { path: normalizeProjectPath(path)!, kind: 'file' };
        return { name: fileDocName(project.id, fileId), projectId: project.id, snapshot: asBytes(encodeTextDocument(content)) };
      });
      const documents = [{ name: treeDocName(project.id), projectId: project.id, snapshot: asBytes(encodeTreeDocument(entries)) }, ...files];
      await ctx.prisma.document.createMany({ data: documents });
      await ctx.services.history?.recordCreated(documents, { kind: 'person', userId: ctx.user.id });
      return { id: project.id, name: project.name };
    }),

  get: protectedProcedure.input(projectId).query(async ({ ctx, input }) => {
    const role = await requireRole(ctx, input.projectId, 'viewer');
    const p = await ctx.prisma.project.findUniqueOrThrow({ where: { id: input.projectId } });
    return {
      id: p.id,
      name: p.name,
      role,
      createdAt: p.createdAt,
      approvalPolicy: p.approvalPolicy,
      approvalsRequired: p.approvalsRequired,
      aiProvider: p.aiProvider,
      runCommand: p.runCommand,
    };
  }),

  rename: protectedProcedure.input(z.object({ projectId: projectId.shape.projectId, name: projectName })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'editor');
    await ctx.prisma.project.update({ where: { id: input.projectId }, data: { name: input.name } });
    return { ok: true };
  }),

  /** Deleting a project needs a signed-in session (never an access token). */
  delete: sessionProcedure.input(projectId).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'owner');
    const members = await ctx.prisma.membership.findMany({ where: { projectId: input.projectId }, select: { userId: true } });
    await ctx.prisma.project.delete({ where: { id: input.projectId } });
    // Deleting a project revokes everyone's access: open documents and streams close at once.
    for (const m of members) ctx.events.accessChanged(input.projectId, m.userId, null);
    ctx.events.projectDeleted(input.projectId);
    return { ok: true };
  }),
});
