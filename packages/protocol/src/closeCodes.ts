/** WebSocket close codes used by the sync endpoint. Clients treat 44xx as final (no reconnect). */
export const CLOSE_CODES = {
  /** Server shutting down or moving the document: reconnect (possibly to another node). */
  RECONNECT: 4000,
  /** The member's role changed write permission: reconnect, then refetch the role. */
  ROLE_CHANGED: 4001,
  BAD_MESSAGE: 4400,
  UNAUTHENTICATED: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
  TOO_LARGE: 4413,
  RATE_LIMITED: 4429,
  TOO_MANY_CONNECTIONS: 4430,
  INTERNAL: 4500,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/** Codes after which reconnecting cannot help without a user action. */
export function isFinalCloseCode(code: number): boolean {
  return code >= 4400 && code < 4500 && code !== CLOSE_CODES.RATE_LIMITED;
}
