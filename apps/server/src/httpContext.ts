import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, ProjectEvents, Services } from '@tandem/api';
import { SESSION_COOKIE, readCookie, type AuthService } from '@tandem/auth';
import type { PrismaClient } from '@tandem/db';
import type { PublicOrigin } from './PublicOrigin.ts';

export interface HttpContextDeps {
  prisma: PrismaClient;
  auth: AuthService;
  events: ProjectEvents;
  services: Services;
  secureCookies: boolean;
  origin: PublicOrigin;
}

export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** Builds the tRPC context of one HTTP request: the caller, and cookie control for sign-in/out. */
export async function createHttpContext(deps: HttpContextDeps, req: IncomingMessage, res: ServerResponse): Promise<Context> {
  deps.origin.observe(req);
  const caller = await deps.auth.authenticateCaller({ cookie: req.headers.cookie, authorization: req.headers.authorization });
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  const attrs = `Path=/; HttpOnly; SameSite=Lax${deps.secureCookies ? '; Secure' : ''}`;
  return {
    prisma: deps.prisma,
    auth: deps.auth,
    events: deps.events,
    services: deps.services,
    user: caller?.user ?? null,
    credential: caller?.credential ?? null,
    ip: clientIp(req),
    origin: deps.origin.value,
    session: {
      token,
      set: (value, expiresAt) => res.appendHeader('Set-Cookie', `${SESSION_COOKIE}=${value}; ${attrs}; Expires=${expiresAt.toUTCString()}`),
      clear: () => res.appendHeader('Set-Cookie', `${SESSION_COOKIE}=; ${attrs}; Max-Age=0`),
    },
  };
}
