import { createHmac, timingSafeEqual } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';

const FORWARDED_HEADER = 'x-tandem-preview-forwarded';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface PreviewForwarderOptions {
  nodeId: string;
  /** Shared by every node (TANDEM_SECRET): a client cannot pose as a node to stop the forwarding. */
  secret: string;
  /** The preview origin of the project's home node when that is another node; null otherwise. */
  remoteHome(projectId: string): Promise<string | null>;
}

/**
 * With several nodes, a project's sandboxes (and so the programs a preview shows) run on its home
 * node, while a load balancer may send a preview request to any node. Such a request is passed
 * to the home node's preview origin as it came (Host and preview cookie included: the home
 * checks access again) with a signed header, so the home serves it itself and never passes it on.
 */
export class PreviewForwarder {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });

  constructor(private readonly options: PreviewForwarderOptions) {}

  /** Where to send this request instead of serving it here (null: serve it here). */
  async target(req: IncomingMessage, projectId: string): Promise<URL | null> {
    if (this.isForwardedByNode(req)) return null;
    const home = await this.options.remoteHome(projectId);
    return home ? new URL(home) : null;
  }

  request(req: IncomingMessage, res: ServerResponse, home: URL): void {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && k !== FORWARDED_HEADER) headers[k] = v;
    headers[FORWARDED_HEADER] = this.sign(req);
    const up = httpRequest({ host: home.hostname, port: home.port, method: req.method, path: req.url, headers, agent: this.agent }, (r) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(r.statusCode ?? 502, out);
      r.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }).end('The server running this project did not answer; reload in a moment.\n');
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  /** A WebSocket (or other upgrade): the request head is written to the home anew, then bytes flow both ways. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, home: URL): void {
    const up = connect({ host: home.hostname, port: Number(home.port) || 80 });
    let connected = false;
    up.once('connect', () => (connected = true));
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() !== FORWARDED_HEADER) text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    up.write(`${text}${FORWARDED_HEADER}: ${this.sign(req)}\r\n\r\n`);
    if (head.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
    const end = (): void => {
      up.destroy();
      socket.destroy();
    };
    up.on('error', () => {
      if (!connected && socket.writable) socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      end();
    });
    socket.on('error', end);
    up.on('close', end);
    socket.on('close', end);
  }

  close(): void {
    this.agent.destroy();
  }

  private mac(node: string, req: IncomingMessage): string {
    return createHmac('sha256', this.options.secret).update(`preview\n${node}\n${req.method ?? 'GET'}\n${req.headers.host ?? ''}\n${req.url ?? '/'}`).digest('base64url');
  }

  private sign(req: IncomingMessage): string {
    return `${this.options.nodeId}.${this.mac(this.options.nodeId, req)}`;
  }

  private isForwardedByNode(req: IncomingMessage): boolean {
    const header = req.headers[FORWARDED_HEADER];
    if (typeof header !== 'string' || !header.includes('.')) return false;
    const dot = header.lastIndexOf('.');
    const expected = Buffer.from(this.mac(header.slice(0, dot), req));
    const given = Buffer.from(header.slice(dot + 1));
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
