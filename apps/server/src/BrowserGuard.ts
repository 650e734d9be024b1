import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Cross-origin defences for everything a browser authenticates with the session cookie
 * (SameSite=Lax still sends it from another port of the same site, and from top-level
 * navigations):
 *   - a request whose `Origin` is not ours, or whose `Sec-Fetch-Site` is `cross-site` /
 *     `same-site`, is "foreign": its cookie is ignored (tokens still work: a page that has one
 *     is allowed to use it);
 *   - a foreign POST to the API is refused with 403 (CSRF: e.g. a form posting `auth.signOut`),
 *     and API POST bodies must be JSON (415 otherwise: HTML forms cannot send JSON).
 * "Ours" is `TANDEM_PUBLIC_URL`'s origin when set, else the request's own Host (same-origin).
 * Requests without `Origin` (curl, server-to-server, same-origin GETs) are not foreign.
 */
export class BrowserGuard {
  private readonly publicOrigin: string | null;

  constructor(publicUrl: string | undefined) {
    this.publicOrigin = publicUrl ? new URL(publicUrl).origin : null;
  }

  /** True when a browser sent this request on behalf of a page that is not ours. */
  isForeign(req: IncomingMessage): boolean {
    const site = header(req, 'sec-fetch-site');
    if (site === 'cross-site' || site === 'same-site') return true;
    const origin = header(req, 'origin');
    if (origin === undefined) return false;
    return !this.isOurOrigin(origin, header(req, 'host'));
  }

  /** Drops the session cookie of a foreign request, so it is served as anonymous. */
  stripForeignCookie(req: IncomingMessage): void {
    if (req.headers.cookie !== undefined && this.isForeign(req)) delete req.headers.cookie;
  }

  /**
   * Guards one API request: answers 403/415 and returns false when it must not run; otherwise
   * removes a foreign request's cookie and returns true.
   */
  admitApiRequest(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method === 'POST') {
      if (this.isForeign(req)) {
        refuse(res, 403, 'FORBIDDEN', 'Cross-origin requests are not allowed.');
        return false;
      }
      const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        refuse(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'API requests must send a JSON body (content-type: application/json).');
        return false;
      }
    }
    this.stripForeignCookie(req);
    return true;
  }

  /** Zip download / upload: a foreign upload is refused (403); a foreign download is anonymous. */
  admitArchiveRequest(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method === 'POST' && this.isForeign(req)) {
      refuse(res, 403, 'FORBIDDEN', 'Cross-site uploads are not allowed.');
      return false;
    }
    this.stripForeignCookie(req);
    return true;
  }

  private isOurOrigin(origin: string, host: string | undefined): boolean {
    if (this.publicOrigin !== null) return origin === this.publicOrigin;
    if (host === undefined) return false;
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
    } catch {
      return false; // `null` (sandboxed frames, file://) and garbage
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error: { message, code } }));
}
