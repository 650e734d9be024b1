import type { PrismaClient } from '@tandem/db';
import type { Services } from '../trpc.ts';
import { parseAgentPolicy } from '../agent/agentPolicy.ts';
import type { ProjectAiSettings } from './AiService.ts';

/** The project's AI settings from the AI service's cache, read from its row (one query) on a miss. */
export function projectAiSettings(ctx: { prisma: PrismaClient; services: Pick<Services, 'ai'> }, projectId: string): Promise<ProjectAiSettings> {
  return ctx.services.ai.projectSettings(projectId, async () => {
    const p = await ctx.prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { aiProvider: true, agentPolicy: true } });
    return { providerId: p.aiProvider, forbiddenPaths: parseAgentPolicy(p.agentPolicy).forbiddenPaths };
  });
}
