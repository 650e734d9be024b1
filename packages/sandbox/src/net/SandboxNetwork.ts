import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AllowEntry } from './EgressAllowlist.ts';
import type { EgressProxy } from './EgressProxy.ts';

/** Where the helper and the channel appear inside the sandbox. */
const SANDBOX_NET_DIR = '/run/tandem';
const SANDBOX_HELPER = '/run/tandem-netd.mjs';
const HELPER_PATH = fileURLToPath(new URL('./netd.mjs', import.meta.url));
const CONTROL_TIMEOUT_MS = 3000;
const MAX_LINE = 64;
/** Port changes of one project are reported at most this often (a sandbox may flip ports in a loop). */
const PORTS_NOTICE_MS = 250;
const MAX_PORTS = 64;

export interface SandboxNetworkOptions {
  /** Host directory for the per-session channel sockets (kept short: Unix socket paths are ≤ 107 bytes). */
  socketDir: string;
  proxy: EgressProxy;
  /** Port of the proxy inside the sandbox (its own loopback). */
  proxyPort?: number;
  /** Node binary visible inside the sandbox (under /usr). */
  nodePath?: string;
  /** npm/pip settings pointing the sandbox at the same registries as the host (see registryEnv). */
  registryEnv?: Record<string, string>;
  /** uid allowed to connect to the channel socket (the sandbox user); null: the server's own. */
  sandboxUid?: number | null;
  onError?: (message: string) => void;
}

/** What a session needs to get its network door: binds, environment, and the argv wrapper. */
export interface SessionNetworkSpec {
  binds: { src: string; dest: string }[];
  env: Record<string, string>;
  wrap(argv: string[]): string[];
}

/**
 * The host side of each sandbox session's only network door: a Unix socket the host owns (bound
 * read-only into the sandbox) over which the in-sandbox helper (netd.mjs) carries proxy
 * connections out and preview connections in. Connections are typed by their first line.
 */
export class SandboxNetwork {
  readonly proxyPort: number;
  private readonly nodePath: string;
  private readonly sessions = new Map<string, SessionNetwork>();
  private readonly portListeners = new Set<(projectId: string) => void>();
  private readonly portNotices = new Map<string, { timer: NodeJS.Timeout; pending: boolean }>();

  constructor(private readonly options: SandboxNetworkOptions) {
    this.proxyPort = options.proxyPort ?? 3128;
    this.nodePath = options.nodePath ?? '/usr/bin/node';
  }

  /**
   * Calls `listener` when the ports programs listen on in a project's sandboxes may have changed
   * (a port opened or closed, a session ended): at once, then at most every 250 ms per project.
   */
  onPortsChanged(listener: (projectId: string) => void): () => void {
    this.portListeners.add(listener);
    return () => this.portListeners.delete(listener);
  }

  get proxy(): EgressProxy {
    return this.options.proxy;
  }

  /**
   * Opens the channel for a new run/terminal. Call `release(sessionId)` when it ends. `allowHosts`:
   * what this session alone may reach beyond the proxy's list (an external agent's API).
   */
  attach(sessionId: string, projectId: string, allowHosts: readonly AllowEntry[] = []): SessionNetworkSpec {
    mkdirSync(this.options.socketDir, { recursive: true, mode: 0o711 });
    const dir = join(this.options.socketDir, randomBytes(6).toString('hex'));
    if (join(dir, 's.sock').length > 104) {
      throw new Error(`the sandbox directory path is too long for a Unix socket (${this.options.socketDir}); use a shorter TANDEM_SANDBOX_DIR`);
    }
    mkdirSync(dir, { mode: 0o755 });
    const session = new SessionNetwork(sessionId, projectId, dir, this.options, () => this.portsChanged(projectId), allowHosts);
    this.sessions.set(sessionId, session);
    const proxyUrl = `http://127.0.0.1:${this.proxyPort}`;
    return {
      binds: [
        { src: dir, dest: SANDBOX_NET_DIR },
        { src: HELPER_PATH, dest: SANDBOX_HELPER },
        // Public CA certificates, for TLS clients that use the system store (pip, curl, python).
        { src: '/etc/ssl/certs', dest: '/etc/ssl/certs' },
      ],
      env: {
        HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, http_proxy: proxyUrl, https_proxy: proxyUrl,
        NO_PROXY: 'localhost,127.0.0.1,::1', no_proxy: 'localhost,127.0.0.1,::1',
        npm_config_proxy: proxyUrl, npm_config_https_proxy: proxyUrl,
        ...this.options.registryEnv,
      },
      wrap: (argv) => [this.nodePath, SANDBOX_HELPER, String(this.proxyPort), '--', ...argv],
    };
  }

  release(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    session.close();
    this.sessions.delete(sessionId);
    this.options.proxy.endSession(sessionId);
    if (session.ports.length) this.portsChanged(session.projectId);
  }

  sessionsOf(projectId: string): SessionNetwork[] {
    return [...this.sessions.values()].filter((s) => s.projectId === projectId);
  }

  /** TCP ports programs listen on in any of the project's sessions (for Preview), as their helpers last reported. */
  async listeningPorts(projectId: string): Promise<{ port: number; sessionId: string }[]> {
    const out: { port: number; sessionId: string }[] = [];
    for (const s of this.sessionsOf(projectId)) for (const port of s.ports) out.push({ port, sessionId: s.sessionId });
    return out.sort((a, b) => a.port - b.port);
  }

  /**
   * A byte stream to 127.0.0.1:port (or [::1]) inside one of the project's sessions: each session's
   * helper is asked to dial in turn (no port listing per request), newest session first.
   */
  async openPort(projectId: string, port: number): Promise<Socket> {
    const sessions = this.sessionsOf(projectId).reverse();
    for (const s of sessions) {
      try {
        return await s.open(port);
      } catch {
        // not listening in this session
      }
    }
    throw new Error(`nothing listens on port ${port} in this project`);
  }

  /** Writes a notice into the session's terminal/output (e.g. why the proxy refused a host). */
  notice(sessionId: string, text: string): void {
    this.sessions.get(sessionId)?.notice(text);
  }

  close(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
    for (const { timer } of this.portNotices.values()) clearTimeout(timer);
    this.portNotices.clear();
  }

  private portsChanged(projectId: string): void {
    const waiting = this.portNotices.get(projectId);
    if (waiting) {
      waiting.pending = true;
      return;
    }
    for (const listener of this.portListeners) listener(projectId);
    const entry = {
      pending: false,
      timer: setTimeout(() => {
        this.portNotices.delete(projectId);
        if (entry.pending) this.portsChanged(projectId);
      }, PORTS_NOTICE_MS).unref(),
    };
    this.portNotices.set(projectId, entry);
  }
}

export class SessionNetwork {
  private readonly server: Server;
  private control: Socket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { stream: boolean; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly notices = new Map<string, number>();
  private closed = false;
  private reported: number[] = [];

  constructor(
    readonly sessionId: string,
    readonly projectId: string,
    private readonly dir: string,
    private readonly options: SandboxNetworkOptions,
    private readonly onPorts: () => void,
    private readonly allowHosts: readonly AllowEntry[] = [],
  ) {
    const path = join(dir, 's.sock');
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (e) => options.onError?.(`network channel ${sessionId}: ${e.message}`));
    this.server.listen(path);
    // Only the sandbox user can reach the socket; the directory is bound read-only inside.
    chmodSync(path, 0o666);
  }

  /** TCP ports listening in the session, as its helper last reported (it reports every change). */
  get ports(): readonly number[] {
    return this.reported;
  }

  async open(port: number): Promise<Socket> {
    return (await this.request({ op: 'open', port }, true)) as Socket;
  }

  notice(text: string): void {
    const now = Date.now();
    if ((this.notices.get(text) ?? 0) > now - 10_000) return;
    this.notices.set(text, now);
    this.control?.write(`${JSON.stringify({ id: 0, op: 'notice', text })}\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('session ended'));
    }
    this.pending.clear();
    this.control?.destroy();
    this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private request(msg: Record<string, unknown>, expectsStream = false): Promise<unknown> {
    const control = this.control;
    if (!control || this.closed) return Promise.reject(new Error('the session network is not connected'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the sandbox did not answer'));
      }, CONTROL_TIMEOUT_MS);
      this.pending.set(id, { stream: expectsStream, resolve, reject, timer });
      control.write(`${JSON.stringify({ id, ...msg })}\n`);
    });
  }

  private settle(id: number, value: unknown, error?: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(new Error(error));
    else p.resolve(value);
  }

  /**
   * Reads the first line of a connection from the sandbox and routes it by type. Read with
   * 'readable'/read() (not 'data'), so the stream is left neither flowing nor paused and the next
   * consumer (HTTP parser, pipe) starts it.
   */
  private accept(socket: Socket): void {
    if (this.closed) return void socket.destroy();
    let head = Buffer.alloc(0);
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        head = Buffer.concat([head, chunk]);
        const nl = head.indexOf(10);
        if (nl >= 0) {
          socket.off('readable', onReadable);
          const line = head.subarray(0, nl).toString('latin1');
          const rest = head.subarray(nl + 1);
          if (rest.length) socket.unshift(rest);
          this.route(line, rest, socket);
          return;
        }
        if (head.length > MAX_LINE) return void socket.destroy();
      }
    };
    socket.on('readable', onReadable);
    socket.on('error', () => socket.destroy());
  }

  private route(line: string, rest: Buffer, socket: Socket): void {
    if (line === 'E') {
      if (rest.length) return void socket.destroy(); // the helper waits for the ack before sending
      socket.write('+');
      this.options.proxy.handle(socket, { projectId: this.projectId, sessionId: this.sessionId, allow: this.allowHosts });
    } else if (line === 'C' && !this.control) {
      this.control = socket;
      this.readControl(socket);
    } else if (line.startsWith('D ')) {
      const id = Number(line.slice(2));
      if (!this.pending.get(id)?.stream) return void socket.destroy();
      this.settle(id, socket);
    } else socket.destroy();
  }

  private setPorts(value: unknown): void {
    const ports = Array.isArray(value) ? [...new Set(value.filter((p): p is number => Number.isInteger(p) && p > 0 && p < 65536))].sort((a, b) => a - b).slice(0, MAX_PORTS) : [];
    if (ports.join() === this.reported.join()) return;
    this.reported = ports;
    this.onPorts();
  }

  private readControl(socket: Socket): void {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buf += d;
      if (buf.length > 65536) return void socket.destroy();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let msg: { id?: unknown; error?: unknown; op?: unknown; ports?: unknown };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (msg.id === 0 && msg.op === 'ports') {
          this.setPorts(msg.ports);
          continue;
        }
        if (typeof msg.id !== 'number') continue;
        const p = this.pending.get(msg.id);
        if (!p) continue;
        if (typeof msg.error === 'string') this.settle(msg.id, null, `could not connect: ${msg.error.slice(0, 40)}`);
        else if (!p.stream) this.settle(msg.id, msg);
      }
    });
    socket.on('close', () => {
      if (this.control !== socket) return;
      this.control = null;
      // Without its helper nothing can be reached in the session; a new helper reports anew.
      if (!this.closed) this.setPorts([]);
    });
  }
}
