import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type * as Y from 'yjs';
import {
  AppError, CLOSE_CODES, SYNC_PATH_PREFIX, canWrite, isAppError, parseDocName, type Role,
} from '@tandem/protocol';
import type { DocumentBus } from './DocumentBus.ts';
import type { DocumentStore } from './DocumentStore.ts';
import { SyncConnection } from './SyncConnection.ts';
import type { AuthenticateHook, SyncExtension, SyncLogger, SyncUser, ValidateUpdateHook } from './SyncExtension.ts';
import { DEFAULT_LIMITS, DEFAULT_TUNING, type SyncLimits, type SyncTuning } from './SyncSettings.ts';
import { systemTimers, type TimerHandle, type Timers } from './Timers.ts';
import { TokenBucket } from './TokenBucket.ts';
import { LogThrottle } from './LogThrottle.ts';
import { ClientMessages, closeCodeFor, describe } from './ClientMessages.ts';
import { DocumentRegistry } from './DocumentRegistry.ts';
import { UserConnections } from './UserConnections.ts';

/**
 * Close code sent when a connection's write permission changes (viewer ⇄ editor/owner). It is not
 * final: y-websocket reconnects, onAuthenticate runs again and yields the new role; the app should
 * refetch the user's role when it sees this code. (Proposed for CLOSE_CODES.ROLE_CHANGED.)
 */
export const ROLE_CHANGED_CLOSE_CODE = 4001;

export interface SyncServerOptions {
  store: DocumentStore;
  /**
   * Several nodes: durable changes and awareness travel to the other nodes holding the same
   * document (RedisDocumentBus). The store must then be shared and its `compact` must merge
   * (see DocumentStore). Omit for a single node.
   */
  bus?: DocumentBus;
  onAuthenticate: AuthenticateHook;
  /** Vetoes a client's document update before it is applied (e.g. project size caps). */
  validateUpdate?: ValidateUpdateHook;
  extensions?: readonly SyncExtension[];
  limits?: Partial<SyncLimits>;
  tuning?: Partial<SyncTuning>;
  timers?: Timers;
  /** Milliseconds from a monotonic clock, for rate limits. Default `performance.now`. */
  clock?: () => number;
  logger?: SyncLogger;
}

export interface SyncServerStats {
  connections: number;
  /** Names of the documents in memory. */
  documents: string[];
}

/** How long close() waits for clients to finish the close handshake before dropping them. */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 2000;

/**
 * Tandem's y-websocket server. The app owns the HTTP server and hands over upgrade requests for
 * `/sync/<documentName>`; every connection is authenticated, bound by limits, and served from a
 * document that is loaded before anyone is answered and whose changes are durable before anyone
 * else sees them. This class is the orchestrator (connections' lifecycle, access, shutdown); its
 * parts: `DocumentRegistry` (documents in memory), `ClientMessages` (what a message does),
 * `UserConnections` (per-user limits), `LiveDocument` (one document) and the extensions (hooks).
 */
export class SyncServer {
  private readonly wss: WebSocketServer;
  private readonly limits: SyncLimits;
  private readonly tuning: SyncTuning;
  private readonly timers: Timers;
  private readonly logger: SyncLogger;
  private readonly clock: () => number;
  private readonly protocolWarnings: LogThrottle;
  private readonly documents: DocumentRegistry;
  private readonly messages: ClientMessages;
  private readonly users: UserConnections;
  private readonly connections = new Set<SyncConnection>();
  private pingTimer: TimerHandle | null = null;
  private closing: Promise<void> | null = null;
  private readonly stopResync: (() => void) | null;

  constructor(private readonly options: SyncServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.timers = options.timers ?? systemTimers;
    this.logger = options.logger ?? consoleLogger;
    this.clock = options.clock ?? (() => performance.now());
    this.protocolWarnings = new LogThrottle(this.logger, this.clock);
    // ws drops frames beyond this itself (close 1009); between maxMessageBytes and it we answer 4413.
    const transportCap = Math.max(2 * this.limits.maxMessageBytes, this.limits.maxMessageBytes + 1024 * 1024);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: transportCap, perMessageDeflate: false });
    const closeConnection = (connection: SyncConnection, code: number, reason: string) => this.closeConnection(connection, code, reason);
    this.documents = new DocumentRegistry({
      context: { store: options.store, bus: options.bus ?? null, extensions: options.extensions ?? [], timers: this.timers, logger: this.logger, settings: this.tuning },
      timers: this.timers,
      logger: this.logger,
      unloadAfterIdleMs: this.tuning.unloadAfterIdleMs,
      closing: () => this.closing !== null,
      closeConnection,
    });
    this.users = new UserConnections(this.limits, this.clock);
    this.messages = new ClientMessages({
      limits: this.limits, users: this.users, validateUpdate: options.validateUpdate, logger: this.logger, protocolWarnings: this.protocolWarnings, close: closeConnection,
    });
    this.schedulePing();
    this.stopResync = options.bus?.onResync(() => this.documents.resync()) ?? null;
  }

  /** Takes over an HTTP upgrade for `/sync/<url-encoded documentName>`. Never throws. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, socket));
  }

  /**
   * Applies a membership change to open connections of `userId` in `projectId`: `null` closes
   * them (4403); a change of write permission closes them with ROLE_CHANGED_CLOSE_CODE (the client
   * reconnects with its new role); otherwise the role is updated in place. Writes are dropped
   * from the moment this is called if the new role cannot write.
   */
  setAccess(projectId: string, userId: string, role: Role | null): void {
    for (const connection of this.connections) {
      if (connection.documentRef?.projectId !== projectId) continue;
      if (!connection.isAuthenticated) {
        connection.accessChanges.set(userId, role);
        continue;
      }
      if (connection.user.id !== userId) continue;
      if (role === null) {
        this.closeConnection(connection, CLOSE_CODES.FORBIDDEN, 'Access revoked.');
      } else if (canWrite(role) !== canWrite(connection.role)) {
        connection.role = role;
        this.closeConnection(connection, ROLE_CHANGED_CLOSE_CODE, 'Role changed.');
      } else {
        connection.role = role;
      }
    }
  }

  /**
   * Closes (4401, final) every connection opened with one of these credentials: the session was
   * signed out, the password changed, the token revoked. Connections still authenticating are
   * refused when they finish.
   */
  revokeCredentials(credentialIds: readonly string[]): void {
    const ids = new Set(credentialIds);
    for (const connection of this.connections) {
      if (!connection.isAuthenticated) {
        for (const id of ids) connection.revokedCredentials.add(id);
        continue;
      }
      if (connection.credentialId !== undefined && ids.has(connection.credentialId)) {
        this.closeConnection(connection, CLOSE_CODES.UNAUTHENTICATED, 'Signed out.');
      }
    }
  }

  /**
   * Changes a document on the server's behalf (e.g. an accepted AI suggestion) as one
   * transaction. Resolves once the change is durable and broadcast. `edit` must be synchronous.
   * `origin` becomes the Yjs transaction origin (so a Y.UndoManager can track exactly this edit,
   * e.g. an AiEditOrigin); hooks still see the change as `server`, made by `user`.
   */
  async editDocument(documentName: string, edit: (doc: Y.Doc) => void, options: { user?: SyncUser; origin?: object } = {}): Promise<void> {
    if (this.closing) throw new AppError('UNAVAILABLE', 'The sync server is shutting down.');
    if (!parseDocName(documentName)) throw new AppError('NOT_FOUND', 'Unknown document.', documentName);
    try {
      await this.documents.hold(documentName, (document) => document.edit(edit, options.user ?? null, options.origin));
    } catch (error) {
      throw isAppError(error) ? error : new AppError('UNAVAILABLE', 'The document could not be saved.', describe(error));
    }
  }

  /**
   * Reads a document's current state (loading it if needed) without a transaction: nothing is
   * written, stored or broadcast. Use it instead of an empty `editDocument` for reads.
   */
  async readDocument<T>(documentName: string, read: (doc: Y.Doc) => T): Promise<T> {
    if (this.closing) throw new AppError('UNAVAILABLE', 'The sync server is shutting down.');
    if (!parseDocName(documentName)) throw new AppError('NOT_FOUND', 'Unknown document.', documentName);
    try {
      return await this.documents.hold(documentName, (document) => read(document.ydoc));
    } catch (error) {
      throw isAppError(error) ? error : new AppError('UNAVAILABLE', 'The document could not be read.', describe(error));
    }
  }

  /**
   * Restarts the idle time of a document in memory (no-op otherwise): for a reader that serves
   * the document's text from a cache it keeps current, so the document is not unloaded (and then
   * loaded again) while it is still being read.
   */
  touch(documentName: string): void {
    this.documents.touch(documentName);
  }

  stats(): SyncServerStats {
    return { connections: this.connections.size, documents: this.documents.names };
  }

  /**
   * Graceful shutdown: stop reading from clients, make every change durable and broadcast it,
   * close clients with 4000 (reconnect), then unload every document (store hooks, compaction).
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (this.pingTimer) this.timers.clearTimeout(this.pingTimer);
    this.stopResync?.();
    for (const connection of this.connections) {
      if (connection.phase === 'live') connection.phase = 'draining';
      else this.closeConnection(connection, CLOSE_CODES.RECONNECT, 'Server restarting.');
    }
    await this.documents.shutDown();
    const sockets = [...this.wss.clients].map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) resolve();
      else ws.once('close', () => resolve());
    }));
    await Promise.race([Promise.all(sockets), delay(CLOSE_HANDSHAKE_TIMEOUT_MS)]);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, request: IncomingMessage, transport: Duplex): void {
    ws.binaryType = 'nodebuffer';
    const documentName = documentNameFromUrl(request.url);
    const documentRef = documentName === null ? null : parseDocName(documentName);
    const { maxBufferedBytes, controlMessagesPerSecond, controlMessagesBurst } = this.limits;
    const controlBudget = new TokenBucket(controlMessagesPerSecond, controlMessagesBurst, this.clock);
    const connection = new SyncConnection(ws, request, documentName ?? '', documentRef, maxBufferedBytes, (c) => {
      this.closeConnection(c, CLOSE_CODES.RECONNECT, 'Too far behind.');
      // It is not reading, so it would not read the close frame either.
      c.socket.terminate();
    }, controlBudget, transport);
    this.connections.add(connection);
    ws.on('message', (data, isBinary) => this.received(connection, data, isBinary));
    ws.on('close', (code) => this.closeConnection(connection, code, ''));
    ws.on('error', (error) => this.protocolWarnings.warn(`sync socket error: ${describe(error)}`));
    ws.on('pong', () => {
      connection.alive = true;
    });
    if (this.closing) return this.closeConnection(connection, CLOSE_CODES.RECONNECT, 'Server restarting.');
    if (!documentRef) return this.closeConnection(connection, CLOSE_CODES.NOT_FOUND, 'Unknown document.');
    void this.join(connection);
  }

  private async join(connection: SyncConnection): Promise<void> {
    try {
      const { request, documentName } = connection;
      const documentRef = connection.documentRef!;
      const session = await this.options.onAuthenticate({ request, documentName, document: documentRef });
      if (connection.isClosed) return;
      const role = connection.accessChanges.has(session.user.id) ? connection.accessChanges.get(session.user.id)! : session.role;
      if (role === null) throw new AppError('FORBIDDEN', 'Access revoked.');
      const refusal = this.users.refusal(session.user.id, documentName);
      if (refusal) return this.closeConnection(connection, CLOSE_CODES.TOO_MANY_CONNECTIONS, refusal);
      if (session.credentialId !== undefined && connection.revokedCredentials.has(session.credentialId)) throw new AppError('UNAUTHENTICATED', 'Signed out.');
      if (session.expiresAt != null && session.expiresAt <= Date.now()) throw new AppError('UNAUTHENTICATED', 'Your session expired.');
      connection.authenticate({ ...session, role });
      this.users.add(connection);
      const document = await this.documents.acquire(documentName);
      if (connection.isClosed) return this.documents.scheduleIdleUnload(document);
      connection.document = document;
      document.addPeer(connection);
      this.documents.cancelIdleUnload(document);
      try {
        await document.ready;
      } catch (error) {
        // documentFailed logged it and closed the peers attached then; this one may have attached
        // after (a store that fails at once), so close it here too (idempotent).
        this.closeConnection(connection, closeCodeFor(error), isAppError(error) ? error.message : 'Document unavailable.');
        return;
      }
      if (connection.phase !== 'joining') return;
      connection.phase = 'live';
      document.welcome(connection);
      for (const message of connection.takeHeld()) {
        if (connection.phase !== 'live') break;
        this.messages.receive(connection, message);
      }
    } catch (error) {
      if (!isAppError(error)) this.logger.error(`sync connection to ${connection.documentName} failed`, error);
      this.closeConnection(connection, closeCodeFor(error), isAppError(error) ? error.message : 'Internal error.');
    }
  }

  private received(connection: SyncConnection, data: RawData, isBinary: boolean): void {
    connection.alive = true;
    const { phase } = connection;
    if (phase === 'closed' || phase === 'draining') return;
    if (!isBinary) return this.closeConnection(connection, CLOSE_CODES.BAD_MESSAGE, 'Binary messages only.');
    const message = toBytes(data);
    if (message.byteLength > this.limits.maxMessageBytes) {
      return this.closeConnection(connection, CLOSE_CODES.TOO_LARGE, 'Message too large.');
    }
    if (phase !== 'live') {
      if (!connection.hold(message, this.limits.maxHeldMessages)) {
        this.closeConnection(connection, CLOSE_CODES.RATE_LIMITED, 'Too many messages before the document loaded.');
      }
      return;
    }
    this.messages.receive(connection, message);
  }

  /** Ends a connection (idempotent): close handshake, detach from user index and document. */
  private closeConnection(connection: SyncConnection, code: number, reason: string): void {
    if (!connection.markClosed(code, reason)) return;
    this.connections.delete(connection);
    if (!connection.isAuthenticated) return;
    const { user, role } = connection;
    this.users.remove(connection);
    const document = connection.document;
    if (!document) return;
    document.removePeer(connection);
    const remainingConnections = document.peers.size;
    this.documents.scheduleIdleUnload(document);
    void this.runDisconnectHooks({ documentName: document.name, user, role, code, remainingConnections });
  }

  private async runDisconnectHooks(payload: Parameters<NonNullable<SyncExtension['onDisconnect']>>[0]): Promise<void> {
    try {
      for (const extension of this.options.extensions ?? []) await extension.onDisconnect?.(payload);
    } catch (error) {
      this.logger.error(`onDisconnect failed for ${payload.documentName}`, error);
    }
  }

  private schedulePing(): void {
    if (this.tuning.pingIntervalMs <= 0) return;
    this.pingTimer = this.timers.setTimeout(() => {
      this.pingClients();
      this.schedulePing();
    }, this.tuning.pingIntervalMs);
  }

  private pingClients(): void {
    // Credential expiry is wall-clock time (the monotonic `clock` is for rate limits).
    const now = Date.now();
    for (const connection of this.connections) {
      const expiresAt = connection.isAuthenticated ? connection.expiresAt : null;
      if (expiresAt != null && expiresAt <= now) {
        this.closeConnection(connection, CLOSE_CODES.UNAUTHENTICATED, 'Your session expired.');
        continue;
      }
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }
}

function documentNameFromUrl(url: string | undefined): string | null {
  const path = (url ?? '').split('?')[0] ?? '';
  if (!path.startsWith(SYNC_PATH_PREFIX)) return null;
  try {
    return decodeURIComponent(path.slice(SYNC_PATH_PREFIX.length));
  } catch {
    return null;
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

const consoleLogger: SyncLogger = {
  warn: (message, error) => console.warn(`[sync] ${message}`, error ?? ''),
  error: (message, error) => console.error(`[sync] ${message}`, error ?? ''),
};
