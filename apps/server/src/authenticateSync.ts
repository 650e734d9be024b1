import { hasScope, type AuthService } from '@tandem/auth';
import type { AuthenticatePayload, AuthenticatedSession } from '@tandem/collab';
import type { PrismaClient } from '@tandem/db';
import type { MembershipCache } from '@tandem/api';
import { AppError } from '@tandem/protocol';

/**
 * Who may open a sync connection: a signed-in user (session cookie) or a personal access token
 * (`Authorization: Bearer` or `?token=`) with the `sync:read` scope, who is a member of the
 * document's project. A token without `sync:write` connects read-only (as a viewer). The
 * credential's id and expiry go with the connection: revoking or outliving it closes it.
 */
export async function authenticateSync(prisma: PrismaClient, auth: AuthService, memberships: MembershipCache, { request, document }: AuthenticatePayload): Promise<AuthenticatedSession> {
  const caller = await auth.authenticateCaller({ cookie: request.headers.cookie, authorization: request.headers.authorization, url: request.url });
  if (!caller) throw new AppError('UNAUTHENTICATED', 'Sign in to open this document.');
  if (!hasScope(caller.credential, 'sync:read')) throw new AppError('FORBIDDEN', 'This access token may not open documents (it lacks the "sync:read" scope).');
  const role = await memberships.role(prisma, document.projectId, caller.user.id);
  if (!role) throw new AppError('FORBIDDEN', 'You are not a member of this project.');
  return {
    user: { id: caller.user.id, name: caller.user.name },
    role: hasScope(caller.credential, 'sync:write') ? role : 'viewer',
    credentialId: caller.credential.id,
    expiresAt: caller.credential.expiresAt?.getTime() ?? null,
  };
}
