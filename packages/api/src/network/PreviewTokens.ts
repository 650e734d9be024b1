import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring credentials for the preview origin. `ticket`: a member's one-minute pass that
 * the preview origin exchanges for its own cookie; `session`: that cookie (re-checked against the
 * membership on use); `share`: a link for people outside the project, valid until it expires.
 */
export interface PreviewClaims {
  kind: 'ticket' | 'session' | 'share';
  projectId: string;
  port: number;
  /** The member (ticket/session); null for share links. */
  userId: string | null;
  /** Expiry, ms since the epoch. */
  exp: number;
}

/** Authentic tokens remembered (their claims), so a preview request does not pay an HMAC each time. */
const MAX_REMEMBERED = 4096;

export class PreviewTokens {
  private readonly key: Buffer;
  /** Token → its claims, for tokens whose signature was checked (authenticity never changes). */
  private readonly authentic = new Map<string, PreviewClaims>();

  constructor(secret: string, private readonly now: () => number = Date.now) {
    // A key of its own, so a preview token can never be mistaken for any other signed value.
    this.key = createHmac('sha256', secret).update('tandem-preview-v1').digest();
  }

  sign(claims: PreviewClaims): string {
    const body = Buffer.from(JSON.stringify([claims.kind, claims.projectId, claims.port, claims.userId, claims.exp])).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The claims when the token is authentic, unexpired and of one of `kinds`; otherwise null. */
  verify(token: string | undefined | null, kinds: PreviewClaims['kind'][]): PreviewClaims | null {
    if (!token || token.length > 1024) return null;
    const claims = this.authentic.get(token) ?? this.check(token);
    if (!claims || !kinds.includes(claims.kind) || claims.exp <= this.now()) return null;
    return claims;
  }

  /** The claims of a token with a valid signature (remembered), whatever its kind or expiry. */
  private check(token: string): PreviewClaims | null {
    const dot = token.indexOf('.');
    if (dot < 0) return null;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const want = Buffer.from(this.mac(body), 'base64url');
    if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
    try {
      const [kind, projectId, port, userId, exp] = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as [PreviewClaims['kind'], string, number, string | null, number];
      if (typeof exp !== 'number') return null;
      const claims: PreviewClaims = Object.freeze({ kind, projectId, port, userId, exp });
      if (this.authentic.size >= MAX_REMEMBERED) this.authentic.clear();
      this.authentic.set(token, claims);
      return claims;
    } catch {
      return null;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
