import { hash, verify, type Options } from '@node-rs/argon2';
import { AppError } from '@tandem/protocol';
import type { PrismaClient, User } from '@tandem/db';
import { CallerCache } from './CallerCache.ts';
import { TOKEN_SCOPES, parseScopes, type Caller, type PublicUser, type TokenScope } from './credentials.ts';
import { checkPasswordPolicy } from './passwordPolicy.ts';
import { RateLimiter } from './RateLimiter.ts';
import { MemoryRateStore, type RateStore } from './RateStore.ts';
import { SignInThrottle, type SignInThrottleOptions } from './SignInThrottle.ts';
import { hashSecret, newSecret } from './secrets.ts';

export const SESSION_COOKIE = 'tandem_session';
export const TOKEN_PREFIX = 'tdm_';

export interface AuthOptions {
  /** Server secret used to key stored hashes of sessions, tokens and invites. */
  secret: string;
  sessionTtlMs?: number;
  now?: () => number;
  /** Progressive delay per (account, IP) and the per-IP failure cap. */
  signIn?: SignInThrottleOptions;
  /** Sign-up attempts per IP per hour (each costs an Argon2 hash). */
  signUpsPerIpPerHour?: number;
  /** Longest a cached session/token is trusted without a database read (bus messages keep it exact). */
  cacheMaxAgeMs?: number;
  /** Where the sign-in and sign-up counters live (default: this process; several nodes share Redis). */
  rateStore?: RateStore;
}

// algorithm 2 = Argon2id (a const enum in the typings, unusable with isolated modules).
const ARGON2: Options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
// Verified against when the account does not exist, so timing does not reveal which emails exist.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$0UYzLTeNs/4bhPyxWWhMpQ$N5kf34sN3JS6pWaKUVbn0rcJjN+LITu4LFigzJrSPPw';
const SESSION_SCOPES = TOKEN_SCOPES;

export function publicUser(u: User): PublicUser {
  return { id: u.id, email: u.email, name: u.name };
}

/** Accounts, sessions and personal access tokens. All secrets are stored hashed. */
export class AuthService {
  readonly sessionTtlMs: number;
  private readonly now: () => number;
  private readonly throttle: SignInThrottle;
  private readonly signUps: RateLimiter;
  private readonly callers: CallerCache;

  constructor(private readonly prisma: PrismaClient, private readonly opts: AuthOptions) {
    this.sessionTtlMs = opts.sessionTtlMs ?? 30 * 24 * 3600_000;
    this.now = opts.now ?? Date.now;
    const store = opts.rateStore ?? new MemoryRateStore(this.now);
    this.throttle = new SignInThrottle(opts.signIn, store);
    this.signUps = new RateLimiter('signup-ip', opts.signUpsPerIpPerHour ?? 20, 3600_000, store);
    this.callers = new CallerCache(opts.cacheMaxAgeMs ?? 60_000, 20_000, this.now);
  }

  /** Keyed hash under which a secret (session, token, invite) is stored. */
  hash(secret: string): string {
    return hashSecret(this.opts.secret, secret);
  }

  /**
   * Creates an account. Limited per IP; the password must pass the policy. An email that already
   * has an account is not announced: with that account's password this signs in (same answer as
   * a new account), otherwise it fails with the message of any unusable sign-up, after the same
   * Argon2 cost.
   */
  async signUp(input: { email: string; password: string; name: string; ip?: string }): Promise<PublicUser> {
    const email = input.email.trim().toLowerCase();
    const ip = input.ip ?? 'local';
    const wait = await this.signUps.take(ip);
    if (wait > 0) throw new AppError('RATE_LIMITED', `Too many sign-ups from your address. Try again in ${Math.ceil(wait / 60_000)} minute(s).`);
    checkPasswordPolicy(input.password, { email, name: input.name });
    const existing = await this.prisma.user.findUnique({ where: { email } });
    if (existing) {
      const attempt = await this.throttle.reserve(email, ip);
      const ok = await verify(existing.passwordHash, input.password).catch(() => false);
      if (ok) {
        await attempt.succeeded();
        return publicUser(existing);
      }
      await attempt.failed();
      throw new AppError('CONFLICT', 'Could not create an account with this email and password. If you already have an account, sign in.');
    }
    const passwordHash = await hash(input.password, ARGON2);
    const user = await this.prisma.user.create({ data: { email, name: input.name.trim(), passwordHash } }).catch((e: unknown) => {
      // A concurrent sign-up took the email between the check and the insert.
      if ((e as { code?: string }).code === 'P2002') throw new AppError('CONFLICT', 'Could not create an account with this email and password. If you already have an account, sign in.');
      throw e;
    });
    return publicUser(user);
  }

  async signIn(input: { email: string; password: string; ip: string }): Promise<PublicUser> {
    const email = input.email.trim().toLowerCase();
    // Reserved before the (slow) check: concurrent guesses cannot outrun the throttle.
    const attempt = await this.throttle.reserve(email, input.ip);
    let user: User | null = null;
    let ok = false;
    try {
      user = await this.prisma.user.findUnique({ where: { email } });
      ok = await verify(user?.passwordHash ?? DUMMY_HASH, input.password).catch(() => false);
    } finally {
      if (user && ok) await attempt.succeeded();
      else await attempt.failed();
    }
    if (!user || !ok) throw new AppError('UNAUTHENTICATED', 'Wrong email or password.');
    return publicUser(user);
  }

  /**
   * Sets a new password after checking the current one; ends every other session of the user.
   * Returns the ended sessions' ids (their connections must be closed on every node).
   */
  async changePassword(input: { userId: string; currentPassword: string; newPassword: string; keepSessionId: string | null; ip: string }): Promise<string[]> {
    const user = await this.prisma.user.findUniqueOrThrow({ where: { id: input.userId } });
    const attempt = await this.throttle.reserve(user.email, input.ip);
    const ok = await verify(user.passwordHash, input.currentPassword).catch(() => false);
    if (!ok) {
      await attempt.failed();
      throw new AppError('FORBIDDEN', 'The current password is wrong.');
    }
    await attempt.succeeded();
    checkPasswordPolicy(input.newPassword, { email: user.email, name: user.name });
    const passwordHash = await hash(input.newPassword, ARGON2);
    const ended = await this.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
      const sessions = await tx.session.findMany({ where: { userId: user.id, ...(input.keepSessionId ? { id: { not: input.keepSessionId } } : {}) }, select: { id: true } });
      await tx.session.deleteMany({ where: { id: { in: sessions.map((s) => s.id) } } });
      return sessions.map((s) => s.id);
    });
    for (const id of ended) this.callers.forget(id);
    return ended;
  }

  /** Starts a session; returns the cookie value (never stored) and its expiry. */
  async createSession(userId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = newSecret();
    const expiresAt = new Date(this.now() + this.sessionTtlMs);
    await this.prisma.session.create({ data: { id: this.hash(token), userId, expiresAt } });
    return { token, expiresAt };
  }

  /** Ends a session; returns its id (to close its connections on every node). */
  async endSession(token: string): Promise<string> {
    const id = this.hash(token);
    await this.prisma.session.deleteMany({ where: { id } });
    this.callers.forget(id);
    return id;
  }

  /** A credential ended elsewhere (another node): drop it from this node's cache. */
  forgetCredential(id: string): void {
    this.callers.forget(id);
  }

  /** Drops every cached caller (e.g. after the node bus lost messages). */
  forgetAllCredentials(): void {
    this.callers.clear();
  }

  async userForSession(token: string): Promise<PublicUser | null> {
    return (await this.callerForSession(token))?.user ?? null;
  }

  async callerForSession(token: string): Promise<Caller | null> {
    const id = this.hash(token);
    const cached = this.callers.get(id);
    if (cached) return cached;
    const readAt = this.callers.begin();
    const now = new Date(this.now());
    // One query: `include: { user }` would be two (Prisma loads the relation separately).
    const row = await this.prisma.session.findFirst({
      where: { id, expiresAt: { gt: now } },
      select: { expiresAt: true, user: { select: { id: true, email: true, name: true } } },
    });
    if (row) {
      const caller: Caller = { user: row.user, credential: { kind: 'session', id, expiresAt: row.expiresAt, scopes: SESSION_SCOPES } };
      this.callers.set(id, caller, readAt);
      return caller;
    }
    await this.prisma.session.deleteMany({ where: { id, expiresAt: { lte: now } } });
    return null;
  }

  /** A token for scripts and tools; `scopes` limit what it may do (never account management). */
  async createToken(userId: string, name: string, expiresAt?: Date, scopes: readonly TokenScope[] = TOKEN_SCOPES): Promise<{ token: string; id: string; scopes: TokenScope[] }> {
    const granted = parseScopes(scopes);
    if (granted.length === 0) throw new AppError('BAD_INPUT', 'Choose at least one scope.');
    const token = newSecret(TOKEN_PREFIX);
    const row = await this.prisma.apiToken.create({
      data: { userId, name, tokenHash: this.hash(token), prefix: token.slice(0, TOKEN_PREFIX.length + 4), expiresAt: expiresAt ?? null, scopes: granted },
    });
    return { token, id: row.id, scopes: granted };
  }

  async listTokens(userId: string) {
    return this.prisma.apiToken.findMany({
      where: { userId, revokedAt: null },
      select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, expiresAt: true, scopes: true },
      orderBy: { createdAt: 'desc' },
    });
  }

  /** Revokes a token; its id names the connections to close on every node. */
  async revokeToken(userId: string, id: string): Promise<void> {
    const { count } = await this.prisma.apiToken.updateMany({ where: { id, userId, revokedAt: null }, data: { revokedAt: new Date(this.now()) } });
    if (count === 0) throw new AppError('NOT_FOUND', 'Token not found.');
    this.callers.forget(id);
  }

  async userForToken(token: string): Promise<PublicUser | null> {
    return (await this.callerForToken(token))?.user ?? null;
  }

  async callerForToken(token: string): Promise<Caller | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const key = this.hash(token);
    const cached = this.callers.get(key);
    if (cached) return cached;
    const readAt = this.callers.begin();
    const t = await this.prisma.apiToken.findUnique({ where: { tokenHash: key }, include: { user: true } });
    if (!t || t.revokedAt || (t.expiresAt && t.expiresAt.getTime() <= this.now())) return null;
    // lastUsedAt is informational: updated at most once a minute per token (and on cache misses).
    if (!t.lastUsedAt || this.now() - t.lastUsedAt.getTime() > 60_000) {
      await this.prisma.apiToken.update({ where: { id: t.id }, data: { lastUsedAt: new Date(this.now()) } });
    }
    const caller: Caller = { user: publicUser(t.user), credential: { kind: 'token', id: t.id, expiresAt: t.expiresAt, scopes: parseScopes(t.scopes) } };
    this.callers.set(key, caller, readAt);
    return caller;
  }

  /**
   * Resolves the caller of an HTTP or WebSocket request: session cookie, then
   * `Authorization: Bearer tdm_…`, then `?token=tdm_…` (for WebSocket clients that can't set headers).
   */
  async authenticate(req: { cookie?: string | undefined; authorization?: string | undefined; url?: string | undefined }): Promise<PublicUser | null> {
    return (await this.authenticateCaller(req))?.user ?? null;
  }

  /** Like `authenticate`, with the credential used (kind, id for revocation, expiry, scopes). */
  async authenticateCaller(req: { cookie?: string | undefined; authorization?: string | undefined; url?: string | undefined }): Promise<Caller | null> {
    const session = readCookie(req.cookie, SESSION_COOKIE);
    if (session) {
      const c = await this.callerForSession(session);
      if (c) return c;
    }
    const bearer = req.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (bearer) return this.callerForToken(bearer);
    const q = req.url ? new URL(req.url, 'http://x').searchParams.get('token') : null;
    return q ? this.callerForToken(q) : null;
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
