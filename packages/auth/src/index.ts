export { AuthService, SESSION_COOKIE, TOKEN_PREFIX, publicUser, readCookie, type AuthOptions, type PublicUser } from './AuthService.ts';
export { RateLimiter } from './RateLimiter.ts';
export { hashSecret, newSecret } from './secrets.ts';
