import type { AuthService } from '@tandem/auth';
import type { AuthenticatePayload, AuthenticatedSession } from '@tandem/collab';
import type { PrismaClient } from '@tandem/db';
import { AppError } from '@tandem/protocol';

/**
 * Who may open a sync connection: a signed-in user (session cookie) or a personal access token
 * (`Authorization: Bearer` or `?token=`), who is a member of the document's project.
 */
export async function authenticateSync(prisma: PrismaClient, auth: AuthService, { request, document }: AuthenticatePayload): Promise<AuthenticatedSession> {
  const user = await auth.authenticate({ cookie: request.headers.cookie, authorization: request.headers.authorization, url: request.url });
  if (!user) throw new AppError('UNAUTHENTICATED', 'Sign in to open this document.');
  const membership = await prisma.membership.findUnique({ where: { projectId_userId: { projectId: document.projectId, userId: user.id } } });
  if (!membership) throw new AppError('FORBIDDEN', 'You are not a member of this project.');
  return { user: { id: user.id, name: user.name }, role: membership.role };
}
