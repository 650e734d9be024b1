import { createHmac, randomBytes } from 'node:crypto';

/** A random secret, URL-safe, with an optional readable prefix (e.g. `tdm_` for tokens). */
export function newSecret(prefix = '', bytes = 32): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/**
 * Secrets are stored as HMAC-SHA256 keyed with the server secret: high-entropy values need no slow
 * hash, lookups stay indexed, and a leaked database alone cannot confirm a stolen token.
 */
export function hashSecret(serverSecret: string, secret: string): string {
  return createHmac('sha256', serverSecret).update(secret).digest('hex');
}
