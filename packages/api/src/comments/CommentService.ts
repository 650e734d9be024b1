import * as Y from 'yjs';
import { AppError } from '@tandem/protocol';
import type { PrismaClient } from '@tandem/db';
import { MemoryRateStore, RateLimiter, type RateStore } from '@tandem/auth';
import { projectChannel, type EventHub } from '../EventHub.ts';

/** A thread as every participant sees it (COMMENT_EVENT carries one whenever it changes). */
export interface CommentThreadView {
  id: string;
  fileId: string;
  /** Yjs relative positions, base64: the client resolves them against the live document. */
  anchorStart: string;
  anchorEnd: string;
  excerpt: string;
  /** The AI change a thread on one of its hunks belongs to: a suggestion, or an agent run. */
  suggestionId: string | null;
  resolved: boolean;
  resolvedBy: { id: string; name: string } | null;
  createdAt: string;
  comments: { id: string; author: { id: string; name: string }; body: string; createdAt: string }[];
}

export const COMMENT_EVENT = 'comments.thread' as const;

export const COMMENT_LIMITS = {
  bodyChars: 5000,
  threadsPerProject: 2000,
  commentsPerThread: 200,
  /** Comments (new threads and replies) per user per minute. */
  perUserPerMinute: 30,
  anchorBytes: 256,
} as const;

const include = { comments: { orderBy: { createdAt: 'asc' as const } } };

/**
 * Comment threads on code lines (and on AI hunks), live for everyone: every change is stored,
 * then published on the project channel as the thread's full view. Anchors are Yjs relative
 * positions computed by the client, so a thread follows its code as people edit; the server only
 * checks that they decode.
 */
export class CommentService {
  readonly #limiter: RateLimiter;

  /** `rateStore`: where the per-user comment budget is counted (several nodes share Redis). */
  constructor(private readonly prisma: PrismaClient, private readonly hub: EventHub, rateStore: RateStore = new MemoryRateStore()) {
    this.#limiter = new RateLimiter('comment-user', COMMENT_LIMITS.perUserPerMinute, 60_000, rateStore);
  }

  async list(projectId: string): Promise<CommentThreadView[]> {
    const threads = await this.prisma.commentThread.findMany({ where: { projectId }, include, orderBy: { createdAt: 'asc' }, take: COMMENT_LIMITS.threadsPerProject });
    return this.#views(threads);
  }

  async create(projectId: string, userId: string, input: { fileId: string; anchorStart: string; anchorEnd: string; excerpt: string; body: string; suggestionId?: string | null }): Promise<CommentThreadView> {
    await this.#admit(userId);
    const anchorStart = decodeAnchor(input.anchorStart);
    const anchorEnd = decodeAnchor(input.anchorEnd);
    if (input.suggestionId) await this.#checkAiChange(projectId, input.fileId, input.suggestionId);
    if (await this.prisma.commentThread.count({ where: { projectId } }) >= COMMENT_LIMITS.threadsPerProject) {
      throw new AppError('TOO_LARGE', `This project has ${COMMENT_LIMITS.threadsPerProject} comment threads, the most it may have: delete resolved ones first.`);
    }
    const thread = await this.prisma.commentThread.create({
      data: {
        projectId, fileId: input.fileId, anchorStart, anchorEnd, excerpt: input.excerpt.slice(0, 500), suggestionId: input.suggestionId ?? null, createdById: userId,
        comments: { create: { authorId: userId, body: input.body } },
      },
      include,
    });
    return this.#publish(projectId, thread);
  }

  async reply(projectId: string, userId: string, threadId: string, body: string): Promise<CommentThreadView> {
    await this.#admit(userId);
    await this.#thread(projectId, threadId);
    if (await this.prisma.comment.count({ where: { threadId } }) >= COMMENT_LIMITS.commentsPerThread) {
      throw new AppError('TOO_LARGE', `This thread has ${COMMENT_LIMITS.commentsPerThread} comments, the most it may have: start a new one.`);
    }
    await this.prisma.comment.create({ data: { threadId, authorId: userId, body } });
    return this.#publish(projectId, await this.#thread(projectId, threadId));
  }

  /** Resolving / reopening: editors and owners, or whoever started the thread (the router checks roles). */
  async setResolved(projectId: string, actor: { id: string; canModerate: boolean }, threadId: string, resolved: boolean): Promise<CommentThreadView> {
    const thread = await this.#thread(projectId, threadId);
    if (!actor.canModerate && thread.createdById !== actor.id) throw new AppError('FORBIDDEN', 'Only editors, owners and whoever started the thread can resolve it.');
    const updated = await this.prisma.commentThread.update({ where: { id: threadId }, data: { resolved, resolvedById: resolved ? actor.id : null }, include });
    return this.#publish(projectId, updated);
  }

  /** A thread on an AI hunk names a suggestion of this project's same file, or one of its agent runs: nothing else. */
  async #checkAiChange(projectId: string, fileId: string, id: string): Promise<void> {
    const [suggestion, run] = await Promise.all([
      this.prisma.suggestion.findFirst({ where: { id, projectId, fileId }, select: { id: true } }),
      this.prisma.agentRun.findFirst({ where: { id, projectId }, select: { id: true } }),
    ]);
    if (!suggestion && !run) throw new AppError('NOT_FOUND', 'That AI change is not in this file.');
  }

  async #admit(userId: string): Promise<void> {
    const wait = await this.#limiter.take(userId);
    if (wait > 0) throw new AppError('RATE_LIMITED', `Too many comments: try again in ${Math.ceil(wait / 1000)} s.`);
  }

  async #thread(projectId: string, threadId: string) {
    const thread = await this.prisma.commentThread.findFirst({ where: { id: threadId, projectId }, include });
    if (!thread) throw new AppError('NOT_FOUND', 'That comment thread does not exist.');
    return thread;
  }

  async #publish(projectId: string, thread: ThreadRow): Promise<CommentThreadView> {
    const view = (await this.#views([thread]))[0]!;
    this.hub.publish(projectChannel(projectId), COMMENT_EVENT, view);
    return view;
  }

  async #views(threads: ThreadRow[]): Promise<CommentThreadView[]> {
    const ids = new Set<string>();
    for (const t of threads) {
      if (t.resolvedById) ids.add(t.resolvedById);
      for (const c of t.comments) ids.add(c.authorId);
    }
    const users = new Map((await this.prisma.user.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true } })).map((u) => [u.id, u]));
    const who = (id: string) => users.get(id) ?? { id, name: 'Former member' };
    return threads.map((t) => this.#view(t, who));
  }

  #view(t: ThreadRow, who: (id: string) => { id: string; name: string } = (id) => ({ id, name: '' })): CommentThreadView {
    return {
      id: t.id, fileId: t.fileId, excerpt: t.excerpt, suggestionId: t.suggestionId, resolved: t.resolved,
      anchorStart: Buffer.from(t.anchorStart).toString('base64'), anchorEnd: Buffer.from(t.anchorEnd).toString('base64'),
      resolvedBy: t.resolvedById ? who(t.resolvedById) : null, createdAt: t.createdAt.toISOString(),
      comments: t.comments.map((c) => ({ id: c.id, author: who(c.authorId), body: c.body, createdAt: c.createdAt.toISOString() })),
    };
  }
}

type ThreadRow = {
  id: string; fileId: string; anchorStart: Uint8Array; anchorEnd: Uint8Array; excerpt: string; suggestionId: string | null; resolved: boolean;
  resolvedById: string | null; createdById: string; createdAt: Date; comments: { id: string; authorId: string; body: string; createdAt: Date }[];
};

/** A client's encoded relative position: bounded, and it must decode (or other clients would choke on it). */
function decodeAnchor(base64: string): Uint8Array<ArrayBuffer> {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0 || bytes.length > COMMENT_LIMITS.anchorBytes) throw new AppError('BAD_INPUT', 'Not a valid comment anchor.');
  try {
    Y.decodeRelativePosition(bytes);
  } catch {
    throw new AppError('BAD_INPUT', 'Not a valid comment anchor.');
  }
  return new Uint8Array(bytes);
}

declare module '@tandem/protocol' {
  interface ProjectStreamEvents {
    'comments.thread': CommentThreadView;
  }
}
