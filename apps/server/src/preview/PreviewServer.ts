import { Agent, createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { NetworkService } from '@tandem/api';
import type { SandboxNetwork } from '@tandem/sandbox';
import type { PreviewForwarder } from './PreviewForwarder.ts';

export const PREVIEW_COOKIE = 'tandem_preview';
const AUTH_PATH = '/__tandem/auth';
/** `<projectId>-<port>` as the first label of the Host header: one origin per project and port. */
const HOST_ID = /^([a-z0-9_-]{1,64})-(\d{1,5})\./;
/** Open upstream connections per project (each is a socket pair through the sandbox's helper). */
const MAX_CONNECTIONS_PER_PROJECT = 256;
/**
 * Idle pooled upstream connections are closed after this long: below the keep-alive timeouts of
 * common dev servers (Node's 5 s), so a request is rarely sent on a connection the app is closing.
 */
const IDLE_UPSTREAM_MS = 2000;
const NO_UPSTREAM = 'TANDEM_NO_UPSTREAM';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization']);

export interface PreviewServerOptions {
  port: number;
  host: string;
  networkService: NetworkService;
  network: SandboxNetwork;
  secureCookies: boolean;
  /** Several nodes: passes requests for projects whose sandboxes run on another node to it. */
  forwarder?: PreviewForwarder;
}

/**
 * The preview origin: a separate HTTP server (own port; in production its own host name) that
 * proxies HTTP and WebSocket to programs listening inside a project's sandbox. Each project+port
 * is its own origin (`<projectId>-<port>.<preview host>`), so a page served from a sandbox
 * never shares an origin — or a cookie — with the IDE or another project. Access: the preview
 * cookie this origin sets from a member's ticket (membership re-checked on every request) or a
 * share link; the IDE's session cookie is never involved.
 */
export class PreviewServer {
  readonly server: Server;
  private readonly open = new Map<string, number>();
  /** Per project+port: kept-alive HTTP connections into the sandbox, reused across requests. */
  private readonly pools = new Map<string, Agent>();

  constructor(private readonly options: PreviewServerOptions) {
    this.server = createServer((req, res) => void this.onRequest(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    }));
    this.server.on('upgrade', (req, socket, head) => void this.onUpgrade(req, socket, head).catch(() => socket.destroy()));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.options.forwarder?.close();
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Opens a stream to the app, within the per-project cap; null when over it or nothing listens. */
  private async connect(t: { projectId: string; port: number }): Promise<Socket | null> {
    const n = this.open.get(t.projectId) ?? 0;
    if (n >= MAX_CONNECTIONS_PER_PROJECT) return null;
    this.open.set(t.projectId, n + 1);
    const release = (): void => {
      const left = (this.open.get(t.projectId) ?? 1) - 1;
      if (left <= 0) this.open.delete(t.projectId);
      else this.open.set(t.projectId, left);
    };
    try {
      const socket = await this.options.network.openPort(t.projectId, t.port);
      socket.once('close', release);
      return socket;
    } catch {
      release();
      return null;
    }
  }

  private target(req: IncomingMessage): { projectId: string; port: number } | null {
    const m = HOST_ID.exec((req.headers.host ?? '').toLowerCase());
    if (!m) return null;
    const port = Number(m[2]);
    return port >= 1 && port <= 65535 ? { projectId: m[1]!, port } : null;
  }

  /** The home node to pass the request to: the project's sandboxes run there, not here. */
  private async elsewhere(req: IncomingMessage, t: { projectId: string }): Promise<URL | null> {
    const forwarder = this.options.forwarder;
    if (!forwarder || this.options.network.sessionsOf(t.projectId).length > 0) return null;
    return forwarder.target(req, t.projectId);
  }

  private async allowed(req: IncomingMessage, t: { projectId: string; port: number }): Promise<boolean> {
    return this.options.networkService.canView(readCookie(req.headers.cookie, PREVIEW_COOKIE), t.projectId, t.port);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t = this.target(req);
    if (!t) return void page(res, 404, 'Unknown preview', 'This address does not name a preview.');
    // Parsed only when it may be the sign-in path (every other request goes to the app as it is).
    const url = req.url?.startsWith(AUTH_PATH) ? new URL(req.url, 'http://x') : null;
    if (url?.pathname === AUTH_PATH) {
      const ex = this.options.networkService.exchange(url.searchParams.get('t'), t.projectId, t.port);
      if (!ex) return void page(res, 403, 'Link expired', 'This preview link is invalid or has expired. Open the preview again from the project.');
      const maxAge = Math.max(1, Math.floor((ex.claims.exp - Date.now()) / 1000));
      // The IDE's Preview pane is an iframe on another site (x.localhost and localhost are distinct
      // sites too): a partitioned (CHIPS) cookie works there even where third-party cookies are
      // blocked. It needs Secure, which browsers accept on https and on *.localhost over http.
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const attrs = this.options.secureCookies || host.endsWith('.localhost') ? 'SameSite=None; Secure; Partitioned' : 'SameSite=Lax';
      res.writeHead(302, {
        'Set-Cookie': `${PREVIEW_COOKIE}=${ex.cookie}; Path=/; HttpOnly; ${attrs}; Max-Age=${maxAge}`,
        Location: '/', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff',
      }).end();
      return;
    }
    if (!(await this.allowed(req, t))) {
      return void page(res, 401, 'Preview', 'Only members of this project can open its preview: open it from the project in Tandem, or ask for a share link.');
    }
    const home = await this.elsewhere(req, t);
    if (home) return this.options.forwarder!.request(req, res, home);
    this.forward(req, res, t, true);
  }

  /**
   * Sends the request to the app over a pooled connection (opening a stream into the sandbox
   * costs a round trip through its helper, ~1 ms: paid once per connection, not per request, as
   * a reverse proxy's upstream keep-alive). A GET/HEAD that fails on a reused connection before
   * any answer (the app closed it meanwhile) is sent once more on a new one.
   */
  private forward(req: IncomingMessage, res: ServerResponse, t: { projectId: string; port: number }, retry: boolean): void {
    let answer: IncomingMessage | null = null;
    const up: ClientRequest = httpRequest({
      method: req.method, path: req.url, headers: upstreamHeaders(req, t.port), agent: this.pool(t),
    }, (r) => {
      answer = r;
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      // In the one headers object (none set before): Node then takes it as it is, without a setHeader per header.
      headers['x-content-type-options'] = 'nosniff';
      res.writeHead(r.statusCode ?? 502, headers);
      r.pipe(res);
    });
    // The browser went away before the whole answer: this upstream connection cannot be reused.
    res.once('close', () => !answer?.complete && up.destroy());
    up.on('error', (e: Error & { code?: string }) => {
      if (res.headersSent) return void res.destroy();
      if (retry && up.reusedSocket && (req.method === 'GET' || req.method === 'HEAD')) return this.forward(req, res, t, false);
      if (e.code === NO_UPSTREAM) {
        return void page(res, 502, 'Nothing is running', `No program in this project's sandbox is listening on port ${t.port}. Start it in a terminal or with Run, then reload.`);
      }
      page(res, 502, 'Preview', 'The program closed the connection.');
    });
    // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 6.3): no pipe to set up.
    if (retry && (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined)) req.pipe(up);
    else up.end();
  }

  /** The keep-alive pool for a project+port; its connections are streams into the sandbox. */
  private pool(t: { projectId: string; port: number }): Agent {
    const key = `${t.projectId}:${t.port}`;
    let pool = this.pools.get(key);
    if (pool) return pool;
    pool = new Agent({ keepAlive: true, timeout: IDLE_UPSTREAM_MS, maxSockets: MAX_CONNECTIONS_PER_PROJECT });
    const agent = pool;
    agent.createConnection = ((_options: unknown, done: (err: Error | null, socket?: Socket) => void) => {
      void this.connect(t).then((socket) => {
        if (!socket) return done(Object.assign(new Error('nothing listens'), { code: NO_UPSTREAM }));
        // Forget the pool once its last connection is gone (a stopped app, an idle preview).
        socket.once('close', () => setImmediate(() => {
          const idle = Object.keys(agent.sockets).length === 0 && Object.keys(agent.freeSockets).length === 0;
          if (idle && this.pools.get(key) === agent) this.pools.delete(key);
        }));
        done(null, socket);
      });
      return undefined;
    }) as unknown as Agent['createConnection'];
    this.pools.set(key, pool);
    return pool;
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const t = this.target(req);
    if (!t || !(await this.allowed(req, t))) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const home = await this.elsewhere(req, t);
    if (home) return this.options.forwarder!.upgrade(req, socket, head, home);
    const upstream = await this.connect(t);
    if (!upstream) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const headers = upstreamHeaders(req, t.port, true);
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) text += `${k}: ${one}\r\n`;
    upstream.write(`${text}\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    const end = (): void => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('error', end);
    socket.on('error', end);
    upstream.on('close', end);
    socket.on('close', end);
  }
}

/** Request headers for the app: its own view of the Host, no preview credential. */
function upstreamHeaders(req: IncomingMessage, port: number, upgrade = false): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    if (HOP_BY_HOP.has(k) && !(upgrade && (k === 'connection' || k === 'upgrade'))) continue;
    out[k] = v;
  }
  const cookie = stripCookie(req.headers.cookie, PREVIEW_COOKIE);
  if (cookie) out.cookie = cookie;
  else delete out.cookie;
  // Dev servers refuse unknown Host/Origin values (DNS-rebinding protection): they see localhost.
  out.host = `localhost:${port}`;
  if (typeof out.origin === 'string' && out.origin.includes(`-${port}.`)) out.origin = `http://localhost:${port}`;
  out['x-forwarded-host'] = req.headers.host ?? '';
  if (upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = req.headers.upgrade ?? 'websocket';
  }
  return out;
}

export function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

function stripCookie(header: string | undefined, name: string): string {
  return (header ?? '').split(';').filter((p) => p.split('=')[0]!.trim() !== name && p.trim()).map((p) => p.trim()).join('; ');
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    .end(`<!doctype html><meta charset="utf-8"><title>${esc(title)}</title><body style="font:15px system-ui;margin:3em;color:#333"><h1 style="font-size:18px">${esc(title)}</h1><p>${esc(text)}</p></body>`);
}
