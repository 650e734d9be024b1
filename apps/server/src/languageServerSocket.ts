import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LanguageServers, LspConnection, LspSocket } from '@tandem/api';
import { hasScope, type AuthService } from '@tandem/auth';
import { APP_ERROR_CODES, AppError, LSP_PYTHON_PATH_PREFIX, isAppError } from '@tandem/protocol';

const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const PING_INTERVAL_MS = 30_000;

/**
 * `/lsp/python/<projectId>`: the WebSocket adapter of LanguageServers. Authenticated like
 * `/sync` (session cookie, or a token with `sync:read`); a non-member is refused before the
 * upgrade (404, like the API); later refusals (capacity, sandbox unavailable) close the socket
 * with the error's close code and message.
 */
export class LanguageServerSocket {
  private readonly wss: WebSocketServer;
  private readonly ping: NodeJS.Timeout;

  constructor(private readonly deps: { auth: AuthService; servers: LanguageServers }) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.servers.limits.maxClientMessageBytes });
    // Keep-alive through proxies, and sockets of vanished clients get closed.
    this.ping = setInterval(() => {
      for (const ws of this.wss.clients) {
        if ((ws as WebSocket & { alive?: boolean }).alive === false) ws.terminate();
        else {
          (ws as WebSocket & { alive?: boolean }).alive = false;
          ws.ping();
        }
      }
    }, PING_INTERVAL_MS);
    this.ping.unref();
  }

  static matches(url: string | undefined): boolean {
    return url?.startsWith(LSP_PYTHON_PATH_PREFIX) ?? false;
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const projectId = new URL(req.url ?? '/', 'http://x').pathname.slice(LSP_PYTHON_PATH_PREFIX.length);
    let user: { id: string; credentialId: string; expiresAt: number | null };
    try {
      if (!PROJECT_ID.test(projectId)) throw new AppError('NOT_FOUND', 'Project not found.');
      const caller = await this.deps.auth.authenticateCaller({ cookie: req.headers.cookie, authorization: req.headers.authorization, url: req.url });
      if (!caller) throw new AppError('UNAUTHENTICATED', 'Sign in first.');
      if (!hasScope(caller.credential, 'sync:read')) throw new AppError('FORBIDDEN', 'This access token lacks the "sync:read" scope.');
      await this.deps.servers.authorize(projectId, caller.user.id);
      user = { id: caller.user.id, credentialId: caller.credential.id, expiresAt: caller.credential.expiresAt?.getTime() ?? null };
    } catch (e) {
      const status = isAppError(e) ? { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404 }[e.code as string] ?? 500 : 500;
      socket.end(`HTTP/1.1 ${status} ${status === 500 ? 'Internal Server Error' : 'Refused'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.accept(ws, projectId, user));
  }

  close(): void {
    clearInterval(this.ping);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private async accept(ws: WebSocket, projectId: string, user: { id: string; credentialId: string; expiresAt: number | null }): Promise<void> {
    (ws as WebSocket & { alive?: boolean }).alive = true;
    ws.on('pong', () => ((ws as WebSocket & { alive?: boolean }).alive = true));
    // Frames that arrive while the server starts wait for it (a tab asks as soon as it opens).
    const early: string[] = [];
    let connection: LspConnection | null = null;
    let closed = false;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(APP_ERROR_CODES.BAD_INPUT.close, 'Text frames only.');
      const text = data.toString();
      if (connection) connection.receive(text);
      else if (early.length < 16) early.push(text);
    });
    // Like /sync: the socket ends with the credential it was opened with.
    const expiry = user.expiresAt === null ? null
      : setTimeout(() => ws.close(APP_ERROR_CODES.UNAUTHENTICATED.close, 'Your session ended.'), Math.min(Math.max(0, user.expiresAt - Date.now()), 2 ** 31 - 1));
    ws.on('close', () => {
      if (expiry) clearTimeout(expiry);
      closed = true;
      connection?.close();
    });
    ws.on('error', () => ws.terminate());
    const lspSocket: LspSocket = {
      send: (text) => {
        if (ws.readyState === ws.OPEN) ws.send(text);
      },
      close: (code, reason) => ws.close(code, reason.slice(0, 120)),
    };
    try {
      connection = await this.deps.servers.connect(projectId, user, lspSocket);
    } catch (e) {
      const err = isAppError(e) ? e : new AppError('INTERNAL', 'The language server failed.');
      if (!isAppError(e)) console.error('[lsp] connect failed:', e);
      ws.close(APP_ERROR_CODES[err.code].close, err.message.slice(0, 120));
      return;
    }
    if (closed) return connection.close();
    for (const text of early.splice(0)) connection.receive(text);
  }
}
