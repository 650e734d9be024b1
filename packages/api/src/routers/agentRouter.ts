import { z } from 'zod';
import { AppError, type Role } from '@tandem/protocol';
import { router, projectHomeProcedure, requireRole, type Context } from '../trpc.ts';
import { id } from '../inputs.ts';
import { AGENT_POLICY_LIMITS, parseAgentPolicy } from '../agent/agentPolicy.ts';
import { projectAiSettings } from '../ai/projectAiSettings.ts';
import type { AgentService } from '../agent/AgentService.ts';
import type { AgentReviewer } from '../agent/AgentReview.ts';

type SignedIn = Context & { user: NonNullable<Context['user']> };

const runRef = z.object({ projectId: id, runId: z.uuid() });
const path = z.string().min(1).max(512);
const hunkRef = runRef.extend({ path, hunk: z.number().int().min(0).max(100_000) });
const pattern = z.string().trim().min(1).max(AGENT_POLICY_LIMITS.patternChars);

const policyInput = z.object({
  starters: z.enum(['editors', 'owner']),
  maxSteps: z.number().int().min(1).max(AGENT_POLICY_LIMITS.maxSteps),
  maxTokens: z.number().int().min(1).max(AGENT_POLICY_LIMITS.maxTokens),
  allowedCommands: z.array(pattern).max(AGENT_POLICY_LIMITS.patterns),
  forbiddenPaths: z.array(pattern).max(AGENT_POLICY_LIMITS.patterns),
});

function service(ctx: Context): AgentService {
  if (!ctx.services.agent) throw new AppError('UNAVAILABLE', 'Agent runs are not enabled on this server.');
  return ctx.services.agent;
}

/** Every agent call starts here: membership (non-members get NOT_FOUND), then the service applies the project's policies. */
async function member(ctx: SignedIn, projectId: string, min: Role = 'viewer'): Promise<AgentReviewer> {
  const role = await requireRole(ctx, projectId, min);
  return { userId: ctx.user.id, name: ctx.user.name, role };
}

function hunkDecision(type: 'acceptHunk' | 'rejectHunk' | 'approve') {
  return projectHomeProcedure.input(hunkRef).mutation(async ({ ctx, input }) => {
    const who = await member(ctx, input.projectId);
    return service(ctx).decide(who, input.projectId, input.runId, { type, path: input.path, hunk: input.hunk });
  });
}

function wholeDecision(type: 'acceptAll' | 'rejectAll') {
  return projectHomeProcedure.input(runRef.extend({ path: path.optional() })).mutation(async ({ ctx, input }) => {
    const who = await member(ctx, input.projectId);
    return service(ctx).decide(who, input.projectId, input.runId, { type, ...(input.path ? { path: input.path } : {}) });
  });
}

/**
 * Agent runs (see src/agent/README.md). Any member watches (list, get, changeset, policy); the
 * agent policy says who starts, steers, stops and answers permission prompts (editors or the
 * owner only); the approval policy says who reviews, undoes and runs checks; only the owner sets
 * the policy. Everything streams to members as `agent.*` events on `stream.events`.
 */
export const agentRouter = router({
  start: projectHomeProcedure
    .input(z.object({
      projectId: id, task: z.string().trim().min(1, 'Say what the agent should do.').max(8000),
      /** An external agent's id (see `externalAgents`); omitted: the built-in agent on the project's AI provider. */
      agent: z.string().max(64).optional(),
    }))
    .mutation(async ({ ctx, input }) => {
      const who = await member(ctx, input.projectId);
      if (who.role === 'viewer') throw new AppError('FORBIDDEN', 'Viewers cannot start agent runs.');
      await ctx.services.ai.admitRequest(ctx.user.id, input.projectId);
      if (input.agent) return service(ctx).start(who, input.projectId, input.task, { acpAgent: input.agent });
      // Resolved while the service reads the agent policy (two reads of the project, not one after the other).
      const provider = projectAiSettings(ctx, input.projectId).then((s) => ctx.services.ai.resolveProvider(s.providerId));
      return service(ctx).start(who, input.projectId, input.task, provider);
    }),

  /** The deployment's external (ACP) agents and which this project enabled; the owner may change it. */
  externalAgents: projectHomeProcedure.input(z.object({ projectId: id })).query(async ({ ctx, input }) => {
    const role = await requireRole(ctx, input.projectId, 'viewer');
    return { agents: await service(ctx).externalAgents(input.projectId), canChange: role === 'owner' };
  }),

  setExternalAgents: projectHomeProcedure
    .input(z.object({ projectId: id, enabled: z.array(z.string().max(64)).max(20) }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'owner');
      await service(ctx).setExternalAgents(input.projectId, input.enabled);
      return { agents: await service(ctx).externalAgents(input.projectId) };
    }),

  stop: projectHomeProcedure.input(runRef).mutation(async ({ ctx, input }) => {
    return service(ctx).stop(await member(ctx, input.projectId), input.projectId, input.runId);
  }),

  steer: projectHomeProcedure.input(runRef.extend({ text: z.string().trim().min(1).max(4000) })).mutation(async ({ ctx, input }) => {
    await service(ctx).steer(await member(ctx, input.projectId), input.projectId, input.runId, input.text);
    return { ok: true };
  }),

  answerPermission: projectHomeProcedure
    .input(runRef.extend({ requestId: z.uuid(), optionId: z.enum(['allow', 'deny']) }))
    .mutation(async ({ ctx, input }) => {
      await service(ctx).answerPermission(await member(ctx, input.projectId), input.projectId, input.runId, input.requestId, input.optionId);
      return { ok: true };
    }),

  list: projectHomeProcedure.input(z.object({ projectId: id })).query(async ({ ctx, input }) => {
    await member(ctx, input.projectId);
    return service(ctx).list(input.projectId);
  }),

  get: projectHomeProcedure.input(runRef).query(async ({ ctx, input }) => {
    await member(ctx, input.projectId);
    return service(ctx).get(input.projectId, input.runId);
  }),

  changeset: projectHomeProcedure.input(runRef).query(async ({ ctx, input }) => {
    await member(ctx, input.projectId);
    return service(ctx).changeset(input.projectId, input.runId);
  }),

  acceptHunk: hunkDecision('acceptHunk'),
  rejectHunk: hunkDecision('rejectHunk'),
  approve: hunkDecision('approve'),
  acceptAll: wholeDecision('acceptAll'),
  rejectAll: wholeDecision('rejectAll'),

  undo: projectHomeProcedure.input(runRef).mutation(async ({ ctx, input }) => {
    await service(ctx).undo(await member(ctx, input.projectId), input.projectId, input.runId);
    return { ok: true };
  }),

  runChecks: projectHomeProcedure.input(runRef).mutation(async ({ ctx, input }) => {
    return service(ctx).runChecks(await member(ctx, input.projectId), input.projectId, input.runId);
  }),

  policy: projectHomeProcedure.input(z.object({ projectId: id })).query(async ({ ctx, input }) => {
    const role = await requireRole(ctx, input.projectId, 'viewer');
    const p = await ctx.prisma.project.findUniqueOrThrow({ where: { id: input.projectId }, select: { agentPolicy: true, checkCommand: true } });
    return { policy: parseAgentPolicy(p.agentPolicy), checkCommand: p.checkCommand, canChange: role === 'owner' };
  }),

  setPolicy: projectHomeProcedure
    .input(z.object({ projectId: id, policy: policyInput, checkCommand: z.string().trim().max(2000).nullable() }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'owner');
      const policy = parseAgentPolicy(input.policy);
      await ctx.prisma.project.update({
        where: { id: input.projectId },
        data: { agentPolicy: policy as object, checkCommand: input.checkCommand || null },
      });
      ctx.services.ai.settingsChanged(input.projectId); // completions and AI edits read the forbidden paths
      return { policy, checkCommand: input.checkCommand || null };
    }),
});
