import { z } from 'zod';
import { AppError, type Role } from '@tandem/protocol';
import { MAX_REQUIRED_APPROVALS } from '@tandem/review';
import { router, projectHomeProcedure, requireRole, type Context } from '../trpc.ts';
import { id } from '../inputs.ts';
import { EDIT_LIMITS } from '../suggestions/editPrompt.ts';
import { projectAiSettings } from '../ai/projectAiSettings.ts';
import type { ReviewActor, SuggestionService, TargetRange } from '../suggestions/SuggestionService.ts';

type SignedIn = Context & { user: NonNullable<Context['user']> };

/** An encoded Yjs relative position (a few dozen bytes), base64. */
const relativePosition = z.string().min(1).max(400).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'Invalid position');
const offset = z.number().int().min(0).max(10_000_000);

const target = z.union([
  z.object({ kind: z.literal('offsets'), start: offset, end: offset }),
  z.object({ kind: z.literal('anchor'), start: relativePosition, end: relativePosition }),
]);

const suggestionRef = z.object({ projectId: id, suggestionId: z.uuid() });
const hunkRef = suggestionRef.extend({ hunk: z.number().int().min(0).max(100_000) });

const policyInput = z.union([
  z.object({ kind: z.literal('any_editor') }),
  z.object({ kind: z.literal('owner_only') }),
  z.object({ kind: z.literal('n_approvals'), n: z.number().int().min(1).max(MAX_REQUIRED_APPROVALS) }),
]);

function service(ctx: Context): SuggestionService {
  if (!ctx.services.suggestions) throw new AppError('UNAVAILABLE', 'Shared AI edits are not enabled on this server.');
  return ctx.services.suggestions;
}

async function actor(ctx: SignedIn, projectId: string, min: Role): Promise<ReviewActor> {
  const role = await requireRole(ctx, projectId, min);
  return { userId: ctx.user.id, name: ctx.user.name, role };
}

/** The project's provider (the owner's choice or the server default) and forbidden paths, after the shared AI rate limits. */
async function aiFor(ctx: SignedIn, projectId: string) {
  const { providerId, forbiddenPaths } = await projectAiSettings(ctx, projectId);
  const provider = ctx.services.ai.resolveProvider(providerId);
  await ctx.services.ai.admitRequest(ctx.user.id, projectId);
  return { provider, forbiddenPaths };
}

/** A decision on one hunk. Viewers pass the membership check so the review rules (P1) refuse them with a clear reason. */
function hunkDecision(type: 'acceptHunk' | 'rejectHunk' | 'approve') {
  return projectHomeProcedure.input(hunkRef).mutation(async ({ ctx, input }) => {
    const who = await actor(ctx, input.projectId, 'viewer');
    return service(ctx).decide(who, input.projectId, input.suggestionId, { type, hunk: input.hunk });
  });
}

/** A decision on every pending hunk. */
function wholeDecision(type: 'acceptAll' | 'rejectAll') {
  return projectHomeProcedure.input(suggestionRef).mutation(async ({ ctx, input }) => {
    const who = await actor(ctx, input.projectId, 'viewer');
    return service(ctx).decide(who, input.projectId, input.suggestionId, { type });
  });
}

/**
 * Shared AI edits (see src/suggestions/README.md). Who may do what — enforced here and in the
 * review state machine, never only in the UI:
 * - request, regenerate: editors and owners;
 * - cancel: the requester, or anyone the approval policy lets decide;
 * - acceptHunk, rejectHunk, acceptAll, rejectAll, approve, undo: as the project's approval policy
 *   says (viewers never);
 * - list, activity, policy: any member; setPolicy: the owner.
 * Everything streams to members as `suggestion` / `suggestion.frame` events on `stream.events`.
 */
export const suggestionsRouter = router({
  request: projectHomeProcedure
    .input(z.object({ projectId: id, fileId: id, instruction: z.string().trim().min(1, 'Say what to change.').max(EDIT_LIMITS.maxInstructionChars), range: target }))
    .mutation(async ({ ctx, input }) => {
      const who = await actor(ctx, input.projectId, 'editor');
      const range: TargetRange = input.range.kind === 'offsets'
        ? input.range
        : { kind: 'anchor', start: Buffer.from(input.range.start, 'base64'), end: Buffer.from(input.range.end, 'base64') };
      const { provider, forbiddenPaths } = await aiFor(ctx, input.projectId);
      return service(ctx).request(who, { projectId: input.projectId, fileId: input.fileId, instruction: input.instruction, range, provider, forbiddenPaths });
    }),

  cancel: projectHomeProcedure.input(suggestionRef).mutation(async ({ ctx, input }) => {
    return service(ctx).cancel(await actor(ctx, input.projectId, 'viewer'), input.projectId, input.suggestionId);
  }),

  acceptHunk: hunkDecision('acceptHunk'),
  rejectHunk: hunkDecision('rejectHunk'),
  approve: hunkDecision('approve'),
  acceptAll: wholeDecision('acceptAll'),
  rejectAll: wholeDecision('rejectAll'),

  regenerate: projectHomeProcedure.input(suggestionRef).mutation(async ({ ctx, input }) => {
    const who = await actor(ctx, input.projectId, 'editor');
    const { provider } = await aiFor(ctx, input.projectId);
    return service(ctx).regenerate(who, input.projectId, input.suggestionId, provider);
  }),

  undo: projectHomeProcedure.input(suggestionRef).mutation(async ({ ctx, input }) => {
    return service(ctx).undo(await actor(ctx, input.projectId, 'viewer'), input.projectId, input.suggestionId);
  }),

  list: projectHomeProcedure.input(z.object({ projectId: id, fileId: id.optional() })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'viewer');
    return service(ctx).list(input.projectId, input.fileId);
  }),

  activity: projectHomeProcedure
    .input(z.object({ projectId: id, limit: z.number().int().min(1).max(200).default(50), before: z.iso.datetime().nullish() }))
    .query(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      const entries = await service(ctx).activity(input.projectId, input.limit, input.before ? new Date(input.before) : null);
      const labels = new Map(ctx.services.ai.providers().map((p) => [p.id, p.label]));
      return entries.map((e) => ({ ...e, providerLabel: labels.get(e.providerId) ?? e.providerId }));
    }),

  policy: projectHomeProcedure.input(z.object({ projectId: id })).query(async ({ ctx, input }) => {
    const role = await requireRole(ctx, input.projectId, 'viewer');
    const p = await ctx.prisma.project.findUniqueOrThrow({ where: { id: input.projectId }, select: { approvalPolicy: true, approvalsRequired: true } });
    const policy = p.approvalPolicy === 'n_approvals' ? { kind: 'n_approvals' as const, n: p.approvalsRequired } : { kind: p.approvalPolicy as 'any_editor' | 'owner_only' };
    return { policy, canChange: role === 'owner' };
  }),

  setPolicy: projectHomeProcedure.input(z.object({ projectId: id, policy: policyInput })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'owner');
    const { policy } = input;
    await ctx.prisma.project.update({
      where: { id: input.projectId },
      data: { approvalPolicy: policy.kind, approvalsRequired: policy.kind === 'n_approvals' ? policy.n : 1 },
    });
    await ctx.services.suggestions?.policyChanged(input.projectId);
    return { policy };
  }),
});
