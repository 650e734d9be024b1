import { AppError, type Role } from '@tandem/protocol';
import type { AuthenticatePayload, AuthenticatedSession, SyncUser } from '../SyncExtension.ts';

/**
 * A stand-in for the app's auth: `?token=<token>` names a user; project membership decides the
 * role. Same failure modes as the real one (UNAUTHENTICATED, FORBIDDEN).
 */
export class TestMembership {
  private readonly users = new Map<string, SyncUser>();
  private readonly roles = new Map<string, Role>();

  addUser(token: string, user: SyncUser): this {
    this.users.set(token, user);
    return this;
  }

  setRole(projectId: string, userId: string, role: Role | null): this {
    const key = `${projectId}\n${userId}`;
    if (role === null) this.roles.delete(key);
    else this.roles.set(key, role);
    return this;
  }

  readonly authenticate = async ({ request, document }: AuthenticatePayload): Promise<AuthenticatedSession> => {
    const token = new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
    const user = token ? this.users.get(token) : undefined;
    if (!user) throw new AppError('UNAUTHENTICATED', 'Sign in to open this document.');
    const role = this.roles.get(`${document.projectId}\n${user.id}`);
    if (!role) throw new AppError('FORBIDDEN', 'You are not a member of this project.');
    return { user, role };
  };
}
