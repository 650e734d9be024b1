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
  /** Peers whose X-Forwarded-For is believed (TANDEM_TRUSTED_PROXIES). */
  trustedProxies?: ReadonlySet<string>;
}

/**
 * The client's address for per-IP limits: the TCP peer, or, when that peer is a trusted proxy,
 * the last X-Forwarded-For entry that is not one (entries further left are the client's to forge).
 */
export function clientIp(req: IncomingMessage, trustedProxies: ReadonlySet<string> = new Set()): string {
  const peer = normalizeIp(req.socket.remoteAddress ?? 'unknown');
  if (!trustedProxies.has(peer)) return peer;
  const forwarded = String(req.headers['x-forwarded-for'] ?? '').split(',').map((s) => normalizeIp(s.trim())).filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) if (!trustedProxies.has(forwarded[i]!)) return forwarded[i]!;
  return peer;
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
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
    ip: clientIp(req, deps.trustedProxies),
    origin: deps.origin.value,
    session: {
      token,
      set: (value, expiresAt) => res.appendHeader('Set-Cookie', `${SESSION_COOKIE}=${value}; ${attrs}; Expires=${expiresAt.toUTCString()}`),
      clear: () => res.appendHeader('Set-Cookie', `${SESSION_COOKIE}=; ${attrs}; Max-Age=0`),
    },
  };
}
