import type { IncomingMessage } from 'node:http';

/**
 * The origin invite links point to: TANDEM_PUBLIC_URL, or else the first origin a browser used
 * for a same-origin API call (its `Origin` header names the Host it was sent to), kept for the
 * process's life. Never the Host header of the request at hand: `Host: evil.example` must not
 * turn an owner's invite into a link to another site. Until a browser has been seen, links use
 * the address the server listens on.
 */
export class PublicOrigin {
  private firstSeen: string | null = null;

  constructor(
    private readonly configured: string | undefined,
    private readonly fallback: () => string,
    private readonly log: (message: string) => void = (m) => console.log(m),
  ) {}

  /** Call for each API request: remembers the first browser origin seen. */
  observe(req: IncomingMessage): void {
    if (this.configured || this.firstSeen) return;
    const origin = req.headers.origin;
    const host = req.headers.host;
    if (!origin || !host || (req.headers['sec-fetch-site'] !== undefined && req.headers['sec-fetch-site'] !== 'same-origin')) return;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return;
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.host !== host) return;
    this.firstSeen = url.origin;
    this.log(`[tandem] invite links will point to ${this.firstSeen} (the first browser origin seen); set TANDEM_PUBLIC_URL to choose it`);
  }

  get value(): string {
    return (this.configured ?? this.firstSeen ?? this.fallback()).replace(/\/$/, '');
  }
}
