import { hash, verify, type Options } from '@node-rs/argon2';
import { AppError } from '@tandem/protocol';
import type { PrismaClient, User } from '@tandem/db';
import { RateLimiter } from './RateLimiter.ts';
import { hashSecret, newSecret } from './secrets.ts';

export const SESSION_COOKIE = 'tandem_session';
export const TOKEN_PREFIX = 'tdm_';

export interface AuthOptions {
  /** Server secret used to key stored hashes of sessions, tokens and invites. */
  secret: string;
  sessionTtlMs?: number;
  now?: () => number;
  /** Failed sign-ins allowed per account and per IP within `rateWindowMs`. */
  maxFailuresPerAccount?: number;
  maxFailuresPerIp?: number;
  rateWindowMs?: number;
}

export type PublicUser = Pick<User, 'id' | 'email' | 'name'>;

// algorithm 2 = Argon2id (a const enum in the typings, unusable with isolated modules).
const ARGON2: Options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
// Verified against when the account does not exist, so timing does not reveal which emails exist.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$0UYzLTeNs/4bhPyxWWhMpQ$N5kf34sN3JS6pWaKUVbn0rcJjN+LITu4LFigzJrSPPw';

export function publicUser(u: User): PublicUser {
  return { id: u.id, email: u.email, name: u.name };
}

/** Accounts, sessions and personal access tokens. All secrets are stored hashed. */
export class AuthService {
  readonly sessionTtlMs: number;
  private readonly now: () => number;
  private readonly accountLimiter: RateLimiter;
  private readonly ipLimiter: RateLimiter;

  constructor(private readonly prisma: PrismaClient, private readonly opts: AuthOptions) {
    this.sessionTtlMs = opts.sessionTtlMs ?? 30 * 24 * 3600_000;
    this.now = opts.now ?? Date.now;
    const windowMs = opts.rateWindowMs ?? 15 * 60_000;
    this.accountLimiter = new RateLimiter(opts.maxFailuresPerAccount ?? 10, windowMs, this.now);
    this.ipLimiter = new RateLimiter(opts.maxFailuresPerIp ?? 50, windowMs, this.now);
  }

  /** Keyed hash under which a secret (session, token, invite) is stored. */
  hash(secret: string): string {
    return hashSecret(this.opts.secret, secret);
  }

  async signUp(input: { email: string; password: string; name: string }): Promise<PublicUser> {
    const email = input.email.trim().toLowerCase();
    if (await this.prisma.user.findUnique({ where: { email } })) {
      throw new AppError('CONFLICT', 'An account with this email already exists.');
    }
    const passwordHash = await hash(input.password, ARGON2);
    const user = await this.prisma.user.create({ data: { email, name: input.name.trim(), passwordHash } });
    return publicUser(user);
  }

  async signIn(input: { email: string; password: string; ip: string }): Promise<PublicUser> {
    const email = input.email.trim().toLowerCase();
    const wait = Math.max(this.accountLimiter.retryAfter(`a:${email}`), this.ipLimiter.retryAfter(`i:${input.ip}`));
    if (wait > 0) {
      throw new AppError('RATE_LIMITED', `Too many failed sign-in attempts. Try again in ${Math.ceil(wait / 60_000)} minute(s).`);
    }
    const user = await this.prisma.user.findUnique({ where: { email } });
    const ok = await verify(user?.passwordHash ?? DUMMY_HASH, input.password).catch(() => false);
    if (!user || !ok) {
      this.accountLimiter.record(`a:${email}`);
      this.ipLimiter.record(`i:${input.ip}`);
      throw new AppError('UNAUTHENTICATED', 'Wrong email or password.');
    }
    this.accountLimiter.reset(`a:${email}`);
    return publicUser(user);
  }

  /** Starts a session; returns the cookie value (never stored) and its expiry. */
  async createSession(userId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = newSecret();
    const expiresAt = new Date(this.now() + this.sessionTtlMs);
    await this.prisma.session.create({ data: { id: this.hash(token), userId, expiresAt } });
    return { token, expiresAt };
  }

  async endSession(token: string): Promise<void> {
    await this.prisma.session.deleteMany({ where: { id: this.hash(token) } });
  }

  async userForSession(token: string): Promise<PublicUser | null> {
    // One query on the hot path (every request of a signed-in tab): `include: { user }` would be
    // two (Prisma loads the relation separately). Expired sessions are deleted on the miss path.
    const id = this.hash(token);
    const now = new Date(this.now());
    const user = await this.prisma.user.findFirst({
      where: { sessions: { some: { id, expiresAt: { gt: now } } } },
      select: { id: true, email: true, name: true },
    });
    if (user) return user;
    await this.prisma.session.deleteMany({ where: { id, expiresAt: { lte: now } } });
    return null;
  }

  async createToken(userId: string, name: string, expiresAt?: Date): Promise<{ token: string; id: string }> {
    const token = newSecret(TOKEN_PREFIX);
    const row = await this.prisma.apiToken.create({
      data: { userId, name, tokenHash: this.hash(token), prefix: token.slice(0, TOKEN_PREFIX.length + 4), expiresAt: expiresAt ?? null },
    });
    return { token, id: row.id };
  }

  async listTokens(userId: string) {
    return this.prisma.apiToken.findMany({
      where: { userId, revokedAt: null },
      select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, expiresAt: true },
      orderBy: { createdAt: 'desc' },
    });
  }

  async revokeToken(userId: string, id: string): Promise<void> {
    const { count } = await this.prisma.apiToken.updateMany({ where: { id, userId, revokedAt: null }, data: { revokedAt: new Date(this.now()) } });
    if (count === 0) throw new AppError('NOT_FOUND', 'Token not found.');
  }

  async userForToken(token: string): Promise<PublicUser | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const t = await this.prisma.apiToken.findUnique({ where: { tokenHash: this.hash(token) }, include: { user: true } });
    if (!t || t.revokedAt || (t.expiresAt && t.expiresAt.getTime() <= this.now())) return null;
    // lastUsedAt is informational: update at most once a minute per token.
    if (!t.lastUsedAt || this.now() - t.lastUsedAt.getTime() > 60_000) {
      await this.prisma.apiToken.update({ where: { id: t.id }, data: { lastUsedAt: new Date(this.now()) } });
    }
    return publicUser(t.user);
  }

  /**
   * Resolves the caller of an HTTP or WebSocket request: session cookie, then
   * `Authorization: Bearer tdm_…`, then `?token=tdm_…` (for WebSocket clients that can't set headers).
   */
  async authenticate(req: { cookie?: string | undefined; authorization?: string | undefined; url?: string | undefined }): Promise<PublicUser | null> {
    const session = readCookie(req.cookie, SESSION_COOKIE);
    if (session) {
      const u = await this.userForSession(session);
      if (u) return u;
    }
    const bearer = req.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (bearer) return this.userForToken(bearer);
    const q = req.url ? new URL(req.url, 'http://x').searchParams.get('token') : null;
    return q ? this.userForToken(q) : null;
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}
