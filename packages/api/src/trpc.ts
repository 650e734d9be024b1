/**
 * 1. CONTEXT — what every procedure receives. Built per request by the server app.
 * 2. INIT — tRPC with an error formatter that never leaks internals.
 * 3. PROCEDURES — public, protected (signed in), and project-scoped helpers.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import { APP_ERROR_CODES, AppError, roleAtLeast, type Role } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import { hasScope, type AuthService, type Credential, type PublicUser } from '@tandem/auth';
import type { EventHub } from './EventHub.ts';
import type { AiService } from './ai/AiService.ts';
import type { SuggestionService } from './suggestions/SuggestionService.ts';
import type { SandboxService } from './sandbox/SandboxService.ts';
import type { ProjectSearch } from './search/ProjectSearch.ts';
import type { CommentService } from './comments/CommentService.ts';
import type { HistoryService } from './history/HistoryService.ts';
import type { GitImport } from './history/GitImport.ts';
import type { GitPush } from './history/GitPush.ts';
import type { MembershipCache } from './MembershipCache.ts';
import type { NetworkService } from './network/NetworkService.ts';
import type { AgentService } from './agent/AgentService.ts';

// 1. CONTEXT
/** Things that happen outside the request that the server app must know about. */
export interface ProjectEvents {
  /** A member's role changed (`null`: removed). Open sync connections must follow at once. */
  accessChanged(projectId: string, userId: string, role: Role | null): void;
  /** A project was deleted (members were already told their access ended): drop cached state. */
  projectDeleted(projectId: string): void;
  /**
   * Sessions or tokens ended (sign-out, password change, token revocation): close the sync
   * sockets and event streams opened with them, and drop them from caches, on every node.
   */
  credentialsRevoked(credentialIds: string[]): void;
}

/** Long-lived services the server app creates once and hands to every request. */
export interface Services {
  hub: EventHub;
  /** Providers, per-project selection, rate limits and the completion relay. */
  ai: AiService;
  /** Shared AI edits (suggestions): absent where the server has no live documents (some tests). */
  suggestions?: SuggestionService;
  /** Runs and shared terminals: absent where the server has no sandbox host (some tests). */
  sandboxes?: SandboxService;
  /** Search and replace across a project's live documents: absent where there are none (some tests). */
  search?: ProjectSearch;
  /** Comment threads on code: absent in tests that do not need them. */
  comments?: CommentService;
  /** Members' roles, invalidated on every membership change (absent: read the database each time). */
  memberships?: MembershipCache;
  /** Sandbox egress allowlist and previews: absent where sandboxes have no network. */
  network?: NetworkService;
  /** Agent runs: absent where the server has no live documents (some tests). */
  agent?: AgentService;
  /** Who wrote every character (blame): absent where the server has no live documents (some tests). */
  history?: HistoryService;
  /** Git import (URL or bundle) and push to the project's remote: absent in some tests. */
  gitImport?: GitImport;
  gitPush?: GitPush;
}

export interface Context {
  prisma: PrismaClient;
  auth: AuthService;
  events: ProjectEvents;
  services: Services;
  user: PublicUser | null;
  /** How the user signed in (absent for calls without HTTP: they act as a session). */
  credential?: Credential | null;
  ip: string;
  /** Public origin used to build invite links, e.g. http://localhost:3000 */
  origin: string;
  /** Session cookie control; undefined for callers without HTTP (tests, scripts). */
  session?: { token: string | null; set(token: string, expiresAt: Date): void; clear(): void };
}

// 2. INIT
/** What a procedure declares about itself. */
export interface ProcedureMeta {
  /**
   * 'projectHome': its state lives in memory on the project's home node (AI edits under review,
   * runs and terminals, replace undo records): with several nodes, calls go to that node.
   */
  runsOn?: 'projectHome';
}

const t = initTRPC.context<Context>().meta<ProcedureMeta>().create({
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 } },
  errorFormatter({ shape, error }) {
    // Internal errors get a generic message; the detail goes to the server log only.
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    // The HTTP adapter refuses an oversized body (413) with the bare code as its message; an
    // AppError('TOO_LARGE') carries its own precise message (which file, which quota): keep it.
    const bareAdapter413 = error.code === 'PAYLOAD_TOO_LARGE' && !(error.cause instanceof AppError);
    const message = internal ? 'Something went wrong on the server.' : bareAdapter413 ? 'The request is too large.' : shape.message;
    return { ...shape, message, data: { ...shape.data, stack: undefined } };
  },
});

/** Maps AppError (the closed set of application errors) to tRPC errors; logs unexpected ones. */
const appErrors = t.middleware(async ({ next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof AppError) {
      throw new TRPCError({ code: APP_ERROR_CODES[cause.code].trpc, message: cause.message, cause });
    }
    if (result.error.code === 'INTERNAL_SERVER_ERROR') console.error(`[trpc] ${path}:`, cause ?? result.error);
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

// 3. PROCEDURES
export const publicProcedure = t.procedure.use(appErrors);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new AppError('UNAUTHENTICATED', 'Please sign in.');
  if (ctx.credential && !hasScope(ctx.credential, 'api')) throw new AppError('FORBIDDEN', 'This access token may not call the API (it lacks the "api" scope).');
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/**
 * What only a signed-in browser session may do, never a personal access token: manage tokens and
 * invites, accept invites, change the password, delete projects. A leaked token then cannot
 * create credentials that outlive its revocation.
 */
export const sessionProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.credential && ctx.credential.kind !== 'session') {
    throw new AppError('FORBIDDEN', 'Access tokens cannot manage tokens, invites, passwords or projects. Sign in to do this.');
  }
  return next();
});

/**
 * Returns the caller's role in a project, requiring at least `min`. Non-members get NOT_FOUND,
 * so a project's existence is not revealed to outsiders.
 */
/** A signed-in procedure about one project whose state lives on the project's home node (see ProcedureMeta). */
export const projectHomeProcedure = protectedProcedure.meta({ runsOn: 'projectHome' });

export async function requireRole(ctx: { prisma: PrismaClient; user: PublicUser; services?: Pick<Services, 'memberships'> }, projectId: string, min: Role): Promise<Role> {
  const cache = ctx.services?.memberships;
  const role = cache
    ? await cache.role(ctx.prisma, projectId, ctx.user.id)
    : (await ctx.prisma.membership.findUnique({ where: { projectId_userId: { projectId, userId: ctx.user.id } }, select: { role: true } }))?.role ?? null;
  if (!role) throw new AppError('NOT_FOUND', 'Project not found.');
  if (!roleAtLeast(role, min)) throw new AppError('FORBIDDEN', `This needs the ${min} role; you are ${role === 'viewer' ? 'a viewer' : `an ${role}`}.`);
  return role;
}
