import { lookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { allowEntryMatches, formatAllowEntry, type AllowEntry } from './EgressAllowlist.ts';
import { DEFAULT_EGRESS_BUDGET, EgressBudget, type EgressBudgetLimits } from './EgressBudget.ts';
import { isPublicAddress } from './publicAddress.ts';

export type ResolveHost = (host: string) => Promise<{ address: string; family: number }[]>;

export interface EgressRefusal {
  projectId: string;
  sessionId: string;
  host: string;
  port: number;
  /** One line for the terminal: names the host and how to allow it. */
  message: string;
}

export interface EgressProxyOptions {
  /** Hosts every project may reach: the host's registries plus the deployment's list. */
  allow: readonly AllowEntry[];
  /** Ports never connected to on any address: database, Redis, Tandem's own and the preview port. */
  deniedPorts: readonly number[];
  /** Name resolution (default: the system resolver, all addresses). Every address is checked. */
  resolve?: ResolveHost;
  /**
   * TEST ONLY: exact (host, address, port) triples that may reach a non-public address, so a test
   * registry on loopback can be used. There is deliberately no environment variable for this.
   */
  testOnlyPrivateEndpoints?: readonly { host: string; address: string; port: number }[];
  connectTimeoutMs?: number;
  /** Tunnels/requests idle this long are closed. */
  idleTimeoutMs?: number;
  maxConnectionsPerProject?: number;
  maxConnections?: number;
  /** Bytes a project may move per minute and a session in all (default 512 MiB/min, 4 GiB). */
  budget?: EgressBudgetLimits;
  /** Extra hosts a project's owner allowed (already within the deployment ceiling); may be cached by the caller. */
  projectAllowList?: (projectId: string) => Promise<readonly AllowEntry[]>;
  onRefused?: (refusal: EgressRefusal) => void;
  onError?: (message: string) => void;
}

interface ConnectionContext {
  projectId: string;
  sessionId: string;
  /** Hosts this session alone may also reach (an external agent's API). */
  allow?: readonly AllowEntry[];
}

type Decision = { ok: true; address: string } | { ok: false; status: number; message: string };

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * Tandem's egress proxy for sandboxes (HTTP CONNECT and plain absolute-URI HTTP). It is fed
 * connections from a sandbox's private channel (never a TCP port on the host) and lets through
 * only allowlisted host names; the name is resolved here and the connection goes to the checked
 * address, so DNS cannot point an allowed name at loopback, private or metadata addresses.
 */
export class EgressProxy {
  private readonly server: Server;
  private readonly contexts = new WeakMap<Socket, ConnectionContext>();
  private readonly perProject = new Map<string, number>();
  private readonly deniedPorts: Set<number>;
  private readonly resolveHost: ResolveHost;
  private readonly budget: EgressBudget;
  private total = 0;

  constructor(private readonly options: EgressProxyOptions) {
    this.deniedPorts = new Set(options.deniedPorts);
    this.budget = new EgressBudget(options.budget ?? DEFAULT_EGRESS_BUDGET);
    this.resolveHost = options.resolve ?? ((host) => lookup(host, { all: true, verbatim: true }));
    this.server = createServer({ requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 30_000 });
    this.server.on('request', (req, res) => void this.onRequest(req, res));
    this.server.on('connect', (req, socket, head) => void this.onConnect(req, socket as Socket, head));
    this.server.on('clientError', (_e, socket) => socket.destroy());
  }

  /** Adds a port that is never connected to (e.g. the server's own, known once it listens). */
  denyPort(port: number): void {
    this.deniedPorts.add(port);
  }

  get allow(): readonly AllowEntry[] {
    return this.options.allow;
  }

  /** The session ended (its bytes no longer count). */
  endSession(sessionId: string): void {
    this.budget.endSession(sessionId);
  }

  /** Serves one proxy client connection from a project's sandbox. */
  handle(socket: Socket, context: ConnectionContext): void {
    const over = this.budget.refusal(context.projectId, context.sessionId);
    if (over) {
      this.options.onRefused?.({ ...context, host: '', port: 0, message: over });
      const body = `${over}\n`;
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nX-Tandem-Egress: refused\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    const max = this.options.maxConnectionsPerProject ?? 64;
    const count = this.perProject.get(context.projectId) ?? 0;
    if (count >= max || this.total >= (this.options.maxConnections ?? 1024)) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.perProject.set(context.projectId, count + 1);
    this.total++;
    socket.once('close', () => {
      this.total--;
      const n = (this.perProject.get(context.projectId) ?? 1) - 1;
      if (n <= 0) this.perProject.delete(context.projectId);
      else this.perProject.set(context.projectId, n);
    });
    this.contexts.set(socket, context);
    socket.setTimeout(this.options.idleTimeoutMs ?? 120_000, () => socket.destroy());
    this.server.emit('connection', socket);
  }

  /** Whether (and where) the project may connect to host:port. Exposed for tests and the settings UI. */
  async decide(projectId: string, host: string, port: number, sessionAllow: readonly AllowEntry[] = []): Promise<Decision> {
    const name = host.replace(/^\[|\]$/g, '').toLowerCase();
    const where = `${name}:${port}`;
    if (!Number.isInteger(port) || port < 1 || port > 65535) return this.refuse(400, `Tandem blocked network access to ${where}: invalid port.`);
    let allowed = [...this.options.allow, ...sessionAllow].some((e) => allowEntryMatches(e, name, port));
    if (!allowed && this.options.projectAllowList) {
      const extra = await this.options.projectAllowList(projectId).catch(() => []);
      allowed = extra.some((e) => allowEntryMatches(e, name, port));
    }
    if (!allowed) {
      return this.refuse(403, `Tandem blocked network access to ${where}: it is not on this project's allowlist. A project owner can add "${suggestEntry(name, port)}" in Project settings → Network (within the hosts this server permits); the operator can allow it for every project with TANDEM_EGRESS_ALLOW_HOSTS.`);
    }
    if (this.deniedPorts.has(port)) return this.refuse(403, `Tandem blocked network access to ${where}: port ${port} is reserved for the server's own services.`);
    let addresses: { address: string }[];
    if (isIP(name)) addresses = [{ address: name }];
    else {
      try {
        addresses = await this.resolveHost(name);
      } catch {
        return this.refuse(502, `Tandem could not resolve ${name}.`);
      }
    }
    if (addresses.length === 0) return this.refuse(502, `Tandem could not resolve ${name}.`);
    const test = this.options.testOnlyPrivateEndpoints ?? [];
    // Every address must pass (not just the first): a name with one public and one private record is refused.
    for (const { address } of addresses) {
      const excepted = test.some((t) => t.host === name && t.address === address && t.port === port);
      if (!isPublicAddress(address) && !excepted) {
        return this.refuse(403, `Tandem blocked network access to ${where}: it resolves to ${address}, a loopback, private or link-local address that sandboxes may never reach.`);
      }
    }
    return { ok: true, address: addresses[0]!.address };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
  }

  private refuse(status: number, message: string): Decision {
    return { ok: false, status, message };
  }

  private report(socket: Socket, host: string, port: number, message: string): void {
    const ctx = this.contexts.get(socket);
    if (ctx) this.options.onRefused?.({ projectId: ctx.projectId, sessionId: ctx.sessionId, host, port, message });
  }

  /** Counts bytes against the project's and session's budget; past it, says why and cuts the transfer. */
  private meter(socket: Socket, ctx: ConnectionContext, target: { host: string; port: number }, cut: () => void): (chunk: Buffer) => void {
    return (chunk) => {
      const over = this.budget.spend(ctx.projectId, ctx.sessionId, chunk.length);
      if (!over) return;
      this.report(socket, target.host, target.port, over);
      cut();
    };
  }

  private async onConnect(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const ctx = this.contexts.get(socket);
    const target = parseAuthority(req.url ?? '');
    if (!ctx || !target) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const d = await this.decide(ctx.projectId, target.host, target.port, ctx.allow);
    if (!d.ok) {
      this.report(socket, target.host, target.port, d.message);
      const body = `${d.message}\n`;
      socket.end(`HTTP/1.1 ${d.status} ${d.status === 403 ? 'Forbidden' : 'Bad Gateway'}\r\nContent-Type: text/plain\r\nX-Tandem-Egress: refused\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    const upstream = netConnect({ host: d.address, port: target.port });
    let connected = false;
    const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), this.options.connectTimeoutMs ?? 15_000);
    upstream.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
      const cut = (): void => {
        upstream.destroy();
        socket.destroy();
      };
      upstream.on('data', this.meter(socket, ctx, target, cut));
      socket.on('data', this.meter(socket, ctx, target, cut));
    });
    upstream.on('error', () => {
      clearTimeout(timer);
      if (!connected && !socket.destroyed) socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => { if (connected) socket.destroy(); });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket;
    const ctx = this.contexts.get(socket);
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return void res.writeHead(400, { 'content-type': 'text/plain' }).end('This is Tandem\'s egress proxy: send absolute http:// URLs or use CONNECT.\n');
    }
    if (!ctx || url.protocol !== 'http:') return void res.writeHead(400, { 'content-type': 'text/plain' }).end('Only http:// URLs can be proxied; use CONNECT for https.\n');
    const port = url.port ? Number(url.port) : 80;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const over = this.budget.refusal(ctx.projectId, ctx.sessionId);
    if (over) {
      this.report(socket, host, port, over);
      return void res.writeHead(429, { 'content-type': 'text/plain', 'x-tandem-egress': 'refused' }).end(`${over}\n`);
    }
    const d = await this.decide(ctx.projectId, host, port, ctx.allow);
    if (!d.ok) {
      this.report(socket, host, port, d.message);
      return void res.writeHead(d.status, { 'content-type': 'text/plain', 'x-tandem-egress': 'refused' }).end(`${d.message}\n`);
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) headers[k] = v;
    headers.host = url.host;
    const upstream = httpRequest({
      host: d.address, port, method: req.method, path: `${url.pathname}${url.search}`, headers, setHost: false, agent: false,
      timeout: this.options.connectTimeoutMs ?? 15_000,
    }, (up) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
      res.writeHead(up.statusCode ?? 502, out);
      up.on('data', meter);
      up.pipe(res);
    });
    const meter = this.meter(socket, ctx, { host, port }, () => {
      upstream.destroy();
      res.destroy();
    });
    req.on('data', meter);
    upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`Tandem's proxy could not reach ${host}:${port}.\n`);
      else res.destroy();
    });
    req.pipe(upstream);
  }
}

function parseAuthority(authority: string): { host: string; port: number } | null {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(authority) ?? /^([^:[\]/\s]+):(\d{1,5})$/.exec(authority);
  if (!m) return null;
  return { host: m[1]!, port: Number(m[2]) };
}

function suggestEntry(host: string, port: number): string {
  return port === 80 || port === 443 ? host : `${host}:${port}`;
}

export { formatAllowEntry };
