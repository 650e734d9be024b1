import type { User } from '@tandem/db';

export type PublicUser = Pick<User, 'id' | 'email' | 'name'>;

/**
 * What a personal access token may do. Sessions (a browser sign-in) may do everything, including
 * what no token may: manage tokens and invites, change the password, delete projects.
 */
export const TOKEN_SCOPES = ['api', 'sync:read', 'sync:write'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** How a caller proved who they are. `id` is what revocation names (session id or token id). */
export interface Credential {
  kind: 'session' | 'token';
  id: string;
  expiresAt: Date | null;
  scopes: readonly TokenScope[];
}

export interface Caller {
  user: PublicUser;
  credential: Credential;
}

export function hasScope(credential: Credential, scope: TokenScope): boolean {
  return credential.scopes.includes(scope);
}

export function parseScopes(stored: readonly string[]): TokenScope[] {
  return TOKEN_SCOPES.filter((s) => stored.includes(s));
}
