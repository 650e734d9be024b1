import type { SyncExtension } from '@tandem/collab';
import type { PrismaClient } from '@tandem/db';
import { AppError, parseDocName, type Role } from '@tandem/protocol';
import type { MembershipCache } from '../MembershipCache.ts';
import { DEFAULT_LSP_LIMITS, type LspLimits } from './lspLimits.ts';
import { PythonLanguageServer, type LspPeer, type ProcessHost, type ProjectFiles, type WorkingCopySync } from './PythonLanguageServer.ts';

/** What a tab may ask: questions about a file, never edits (the server feeds the documents). */
const PEER_METHODS = new Set(['textDocument/hover', 'textDocument/completion', 'textDocument/definition', 'textDocument/signatureHelp']);

export interface LanguageServersOptions {
  host: ProcessHost;
  /** The live files (the app's one LiveProjectFiles): read when pyright opens the project's Python files. */
  files: ProjectFiles;
  workingCopy: WorkingCopySync;
  prisma: PrismaClient;
  memberships: MembershipCache;
  limits?: Partial<LspLimits>;
  log?: (message: string) => void;
  now?: () => number;
}

/** A tab's connection, as the app's WebSocket adapter sees it. */
export interface LspConnection {
  /** A text frame from the tab. */
  receive(text: string): void;
  /** The socket closed. */
  close(): void;
}

/** The app's WebSocket: how to talk to a tab and hang up on it. */
export interface LspSocket extends LspPeer {
  close(code: number, reason: string): void;
}

interface Peer {
  socket: LspSocket;
  projectId: string;
  userId: string;
  credentialId: string | null;
  tokens: number;
  refilledAt: number;
}

/**
 * Python language servers, one per project with an open tab, each in the project's sandbox
 * (PythonLanguageServer). Members only; a server lives while tabs are attached and `idleMs`
 * after the last one leaves. Capped per host, per project (tabs), per tab (message size, rate,
 * unanswered requests).
 */
export class LanguageServers {
  readonly limits: LspLimits;
  private readonly servers = new Map<string, { server: PythonLanguageServer; idle: NodeJS.Timeout | null }>();
  private readonly peers = new Map<LspSocket, Peer>();
  private readonly now: () => number;
  private closing = false;

  /** Register with the SyncServer: feeds document changes to the running servers. */
  readonly syncExtension: SyncExtension = {
    onChange: ({ documentName, document }) => {
      const ref = parseDocName(documentName);
      const entry = ref && this.servers.get(ref.projectId);
      if (!entry) return;
      if (ref.kind === 'tree') entry.server.treeChanged();
      else entry.server.fileChanged(ref.fileId, document);
    },
  };

  constructor(private readonly opts: LanguageServersOptions) {
    this.limits = { ...DEFAULT_LSP_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
  }

  /** The caller's role in the project; NOT_FOUND for non-members (a project's existence does not leak). */
  async authorize(projectId: string, userId: string): Promise<Role> {
    const role = await this.opts.memberships.role(this.opts.prisma, projectId, userId);
    if (!role) throw new AppError('NOT_FOUND', 'Project not found.');
    return role;
  }

  /**
   * Attaches an authorized tab to the project's server, starting it if needed. Throws
   * RATE_LIMITED when the host or the project is at its cap, UNAVAILABLE when the sandbox is.
   */
  async connect(projectId: string, user: { id: string; credentialId?: string | null }, socket: LspSocket): Promise<LspConnection> {
    if (this.closing) throw new AppError('UNAVAILABLE', 'The server is shutting down.');
    let entry = this.servers.get(projectId);
    if (!entry) {
      if (this.limits.maxServers === 0) throw new AppError('UNAVAILABLE', 'Python language servers are turned off on this server.');
      if (this.servers.size >= this.limits.maxServers) {
        throw new AppError('RATE_LIMITED', 'Too many Python language servers are running on this server; try again later.');
      }
      const server = new PythonLanguageServer(projectId, { host: this.opts.host, files: this.opts.files, workingCopy: this.opts.workingCopy, limits: this.limits, log: this.log });
      entry = { server, idle: null };
      this.servers.set(projectId, entry);
      void server.stopped.then(() => this.stopped(projectId, server));
    } else if (entry.server.peerCount >= this.limits.maxPeersPerProject) {
      throw new AppError('RATE_LIMITED', 'Too many tabs are using this project\'s language server.');
    }
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    const { server } = entry;
    const peer: Peer = { socket, projectId, userId: user.id, credentialId: user.credentialId ?? null, tokens: this.limits.requestBurst, refilledAt: this.now() };
    this.peers.set(socket, peer);
    server.attach(socket);
    try {
      await server.ready;
    } catch (e) {
      this.detach(socket);
      throw new AppError('UNAVAILABLE', 'The Python language server could not start.', (e as Error).message);
    }
    return {
      receive: (text) => this.received(peer, server, text),
      close: () => this.detach(socket),
    };
  }

  /** A member was removed or changed: their tabs are disconnected (they reconnect if still a member). */
  revoke(projectId: string, userId: string): void {
    for (const p of [...this.peers.values()]) if (p.projectId === projectId && p.userId === userId) this.hangUp(p, 4403, 'Your access to this project changed.');
  }

  /** Signed-out sessions and revoked tokens lose their connections. */
  revokeCredentials(ids: readonly string[]): void {
    const set = new Set(ids);
    for (const p of [...this.peers.values()]) if (p.credentialId && set.has(p.credentialId)) this.hangUp(p, 4401, 'Signed out.');
  }

  forgetProject(projectId: string): void {
    for (const p of [...this.peers.values()]) if (p.projectId === projectId) this.hangUp(p, 4404, 'Project not found.');
    this.servers.get(projectId)?.server.stop();
  }

  /** Projects with a running server (for tests and operators). */
  running(): string[] {
    return [...this.servers.keys()];
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const p of [...this.peers.values()]) this.hangUp(p, 4000, 'The server is restarting.');
    const stopping = [...this.servers.values()].map(({ server }) => (server.stop(), server.stopped));
    await Promise.all(stopping);
  }

  private received(peer: Peer, server: PythonLanguageServer, text: string): void {
    let message: { id?: unknown; method?: unknown; params?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return this.hangUp(peer, 4400, 'Not JSON.');
    }
    const { id, method, params } = message ?? {};
    if (method === '$/cancelRequest') {
      const cancelled = (params as { id?: unknown } | undefined)?.id;
      if (typeof cancelled === 'number' || typeof cancelled === 'string') server.cancel(peer.socket, cancelled);
      return;
    }
    if (!(typeof id === 'number' || (typeof id === 'string' && id.length <= 64))) return this.hangUp(peer, 4400, 'Only requests with an id are accepted.');
    const refuse = (code: number, why: string): void => peer.socket.send(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message: why } }));
    if (typeof method !== 'string' || !PEER_METHODS.has(method)) return refuse(-32601, 'Method not allowed.');
    const uri = (params as { textDocument?: { uri?: unknown } } | undefined)?.textDocument?.uri;
    if (typeof uri !== 'string' || !server.isOpen(uri)) return refuse(-32602, 'Not a Python file of this project.');
    if (!this.takeToken(peer)) return refuse(-32800, 'Too many requests; slow down.');
    if (server.pendingOf(peer.socket) >= this.limits.maxPendingPerPeer) return refuse(-32800, 'Too many unanswered requests.');
    server.request(peer.socket, id, method, params);
  }

  private takeToken(peer: Peer): boolean {
    const now = this.now();
    peer.tokens = Math.min(this.limits.requestBurst, peer.tokens + ((now - peer.refilledAt) / 1000) * this.limits.requestsPerSecond);
    peer.refilledAt = now;
    if (peer.tokens < 1) return false;
    peer.tokens -= 1;
    return true;
  }

  private hangUp(peer: Peer, code: number, reason: string): void {
    this.detach(peer.socket);
    peer.socket.close(code, reason);
  }

  private detach(socket: LspSocket): void {
    const peer = this.peers.get(socket);
    if (!peer) return;
    this.peers.delete(socket);
    const entry = this.servers.get(peer.projectId);
    if (!entry) return;
    entry.server.detach(socket);
    if (entry.server.peerCount === 0 && !entry.idle) {
      entry.idle = setTimeout(() => entry.server.stop(), this.limits.idleMs);
      entry.idle.unref();
    }
  }

  private stopped(projectId: string, server: PythonLanguageServer): void {
    const entry = this.servers.get(projectId);
    if (entry?.server !== server) return;
    if (entry.idle) clearTimeout(entry.idle);
    this.servers.delete(projectId);
    for (const p of [...this.peers.values()]) {
      if (p.projectId === projectId) this.hangUp(p, 4503, 'The Python language server stopped.');
    }
  }

  private readonly log = (message: string): void => (this.opts.log ?? ((m: string) => console.warn(`[lsp] ${m}`)))(message);
}
