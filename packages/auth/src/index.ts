export { AuthService, SESSION_COOKIE, TOKEN_PREFIX, publicUser, readCookie, type AuthOptions } from './AuthService.ts';
export { TOKEN_SCOPES, hasScope, type Caller, type Credential, type PublicUser, type TokenScope } from './credentials.ts';
export { MIN_PASSWORD_LENGTH, checkPasswordPolicy } from './passwordPolicy.ts';
export { RateLimiter } from './RateLimiter.ts';
export { MemoryRateStore, type RateStore } from './RateStore.ts';
export type { SignInThrottleOptions } from './SignInThrottle.ts';
export { hashSecret, newSecret } from './secrets.ts';
