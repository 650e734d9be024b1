/**
 * The closed set of application error codes. Every failure the server reports is one of these:
 * mapped to a tRPC error code for procedures and to a WebSocket close code for sync sockets.
 */
export const APP_ERROR_CODES = {
  UNAUTHENTICATED: { trpc: 'UNAUTHORIZED', close: 4401 },
  FORBIDDEN: { trpc: 'FORBIDDEN', close: 4403 },
  NOT_FOUND: { trpc: 'NOT_FOUND', close: 4404 },
  BAD_INPUT: { trpc: 'BAD_REQUEST', close: 4400 },
  CONFLICT: { trpc: 'CONFLICT', close: 4409 },
  TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', close: 4413 },
  RATE_LIMITED: { trpc: 'TOO_MANY_REQUESTS', close: 4429 },
  UNAVAILABLE: { trpc: 'SERVICE_UNAVAILABLE', close: 4503 },
  INTERNAL: { trpc: 'INTERNAL_SERVER_ERROR', close: 4500 },
} as const;

export type AppErrorCode = keyof typeof APP_ERROR_CODES;

/** Carries a user-safe `message` and a log-only `detail` that never reaches a client. */
export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly detail: string | undefined;

  constructor(code: AppErrorCode, message: string, detail?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
