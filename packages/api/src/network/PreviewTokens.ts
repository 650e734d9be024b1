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

export class PreviewTokens {
  private readonly key: Buffer;

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
    const dot = token.indexOf('.');
    if (dot < 0) return null;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const want = Buffer.from(this.mac(body), 'base64url');
    if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
    try {
      const [kind, projectId, port, userId, exp] = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as [PreviewClaims['kind'], string, number, string | null, number];
      if (!kinds.includes(kind) || typeof exp !== 'number' || exp <= this.now()) return null;
      return { kind, projectId, port, userId, exp };
    } catch {
      return null;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
