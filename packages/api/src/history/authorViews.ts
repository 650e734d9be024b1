import type { PrismaClient } from '@tandem/db';
import type { Author } from '@tandem/history';
import type { UserRef } from '../suggestions/suggestionEvents.ts';

export type AuthorView =
  | { kind: 'person'; user: UserRef }
  | { kind: 'ai'; model: string; provider: string; requestedBy: UserRef | null; approvedBy: UserRef | null; suggestionId: string | null; agentRunId: string | null }
  /** `source`: where the text came from, e.g. "imported from <repo>@<commit>". */
  | { kind: 'system'; source: string | null };

/** Turns authors into views with people's names (one query for all of them). */
export async function authorViews(prisma: PrismaClient, authors: Iterable<Author | null>): Promise<(author: Author) => AuthorView> {
  const ids = new Set<string>();
  for (const author of authors) {
    if (author?.kind === 'person') ids.add(author.userId);
    if (author?.kind === 'ai') for (const id of [author.requestedBy, author.approvedBy]) if (id) ids.add(id);
  }
  const users = await prisma.user.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true } });
  const names = new Map(users.map((u) => [u.id, u.name]));
  const ref = (id: string | null): UserRef | null => (id === null ? null : { id, name: names.get(id) ?? 'Former member' });
  return (a) => a.kind === 'person' ? { kind: 'person', user: ref(a.userId)! }
    : a.kind === 'ai' ? {
      kind: 'ai', model: a.model, provider: a.provider, requestedBy: ref(a.requestedBy), approvedBy: ref(a.approvedBy),
      suggestionId: a.suggestionId ?? null, agentRunId: a.agentRunId ?? null,
    }
    : { kind: 'system', source: a.source ?? null };
}
