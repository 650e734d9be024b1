import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type * as Y from 'yjs';
import {
  APP_ERROR_CODES, AppError, CLOSE_CODES, SYNC_PATH_PREFIX, canWrite, isAppError, parseDocName,
  type Role,
} from '@tandem/protocol';
import type { DocumentBus } from './DocumentBus.ts';
import type { DocumentStore } from './DocumentStore.ts';
import { LiveDocument, type LiveDocumentContext } from './LiveDocument.ts';
import { SyncConnection } from './SyncConnection.ts';
import type { AuthenticateHook, SyncExtension, SyncLogger, SyncUser, ValidateUpdateHook } from './SyncExtension.ts';
import { DEFAULT_LIMITS, DEFAULT_TUNING, MIN_UPDATE_COST, type SyncLimits, type SyncTuning } from './SyncSettings.ts';
import { systemTimers, type TimerHandle, type Timers } from './Timers.ts';
import { TokenBucket } from './TokenBucket.ts';
import { LogThrottle } from './LogThrottle.ts';
import { decodeClientMessage } from './wireProtocol.ts';
import { claimAwareness } from './awarenessIdentity.ts';

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
 * else sees them.
 */
export class SyncServer {
  private readonly wss: WebSocketServer;
  private readonly limits: SyncLimits;
  private readonly tuning: SyncTuning;
  private readonly timers: Timers;
  private readonly logger: SyncLogger;
  private readonly clock: () => number;
  private readonly protocolWarnings: LogThrottle;
  private readonly documentContext: LiveDocumentContext;
  private readonly documents = new Map<string, LiveDocument>();
  private readonly unloads = new Map<LiveDocument, Promise<void>>();
  private readonly idleTimers = new Map<LiveDocument, TimerHandle>();
  private readonly connections = new Set<SyncConnection>();
  private readonly connectionsByUser = new Map<string, Set<SyncConnection>>();
  /** Document update bytes each user may still send, shared by all their connections. */
  private readonly updateBudgets = new Map<string, TokenBucket>();
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
    this.documentContext = {
      store: options.store,
      bus: options.bus ?? null,
      extensions: options.extensions ?? [],
      timers: this.timers,
      logger: this.logger,
      settings: this.tuning,
      failed: (document, error) => this.documentFailed(document, error),
    };
    this.schedulePing();
    this.stopResync = options.bus?.onResync(() => this.resyncDocuments()) ?? null;
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
    const document = await this.acquire(documentName);
    document.holds++;
    this.cancelIdleUnload(document);
    try {
      await document.ready;
      await document.edit(edit, options.user ?? null, options.origin);
    } catch (error) {
      throw isAppError(error) ? error : new AppError('UNAVAILABLE', 'The document could not be saved.', describe(error));
    } finally {
      document.holds--;
      this.scheduleIdleUnload(document);
    }
  }

  /**
   * Reads a document's current state (loading it if needed) without a transaction: nothing is
   * written, stored or broadcast. Use it instead of an empty `editDocument` for reads.
   */
  async readDocument<T>(documentName: string, read: (doc: Y.Doc) => T): Promise<T> {
    if (this.closing) throw new AppError('UNAVAILABLE', 'The sync server is shutting down.');
    if (!parseDocName(documentName)) throw new AppError('NOT_FOUND', 'Unknown document.', documentName);
    const document = await this.acquire(documentName);
    document.holds++;
    this.cancelIdleUnload(document);
    try {
      await document.ready;
      return read(document.ydoc);
    } catch (error) {
      throw isAppError(error) ? error : new AppError('UNAVAILABLE', 'The document could not be read.', describe(error));
    } finally {
      document.holds--;
      this.scheduleIdleUnload(document);
    }
  }

  /**
   * Restarts the idle time of a document in memory (no-op otherwise): for a reader that serves
   * the document's text from a cache it keeps current, so the document is not unloaded (and then
   * loaded again) while it is still being read.
   */
  touch(documentName: string): void {
    const document = this.documents.get(documentName);
    if (!document || !this.idleTimers.has(document)) return;
    this.cancelIdleUnload(document);
    this.scheduleIdleUnload(document);
  }

  stats(): SyncServerStats {
    return { connections: this.connections.size, documents: [...this.documents.keys()] };
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
    await Promise.all([...this.documents.values()].map((document) => this.shutDownDocument(document)));
    await Promise.all(this.unloads.values());
    const sockets = [...this.wss.clients].map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) resolve();
      else ws.once('close', () => resolve());
    }));
    await Promise.race([Promise.all(sockets), delay(CLOSE_HANDSHAKE_TIMEOUT_MS)]);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private async shutDownDocument(document: LiveDocument): Promise<void> {
    this.cancelIdleUnload(document);
    const unloading = this.unloads.get(document);
    if (unloading) return unloading;
    try {
      await document.ready;
      await document.flush();
    } catch {
      // Load or append failed: documentFailed already closed its clients and dropped it.
      return;
    }
    for (const peer of [...document.peers]) {
      if (peer instanceof SyncConnection) this.closeConnection(peer, CLOSE_CODES.RECONNECT, 'Server restarting.');
    }
    await this.unload(document, true);
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
      const refusal = this.userLimitRefusal(session.user.id, documentName);
      if (refusal) return this.closeConnection(connection, CLOSE_CODES.TOO_MANY_CONNECTIONS, refusal);
      if (session.credentialId !== undefined && connection.revokedCredentials.has(session.credentialId)) throw new AppError('UNAUTHENTICATED', 'Signed out.');
      if (session.expiresAt != null && session.expiresAt <= Date.now()) throw new AppError('UNAUTHENTICATED', 'Your session expired.');
      connection.authenticate({ ...session, role });
      this.indexByUser(connection);
      const document = await this.acquire(documentName);
      if (connection.isClosed) return this.scheduleIdleUnload(document);
      connection.document = document;
      document.addPeer(connection);
      this.cancelIdleUnload(document);
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
        this.handleMessage(connection, document, message);
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
    this.handleMessage(connection, connection.document!, message);
  }

  private handleMessage(connection: SyncConnection, document: LiveDocument, bytes: Uint8Array): void {
    try {
      const message = decodeClientMessage(bytes);
      switch (message.kind) {
        case 'sync-step1':
          if (!connection.controlBudget.take(1)) return this.rateLimited(connection);
          return document.answerSyncStep1(connection, message.stateVector);
        case 'sync-step2':
        case 'update':
          // Viewers stay in sync but their document changes go nowhere.
          if (canWrite(connection.role) && this.admitUpdate(connection, document, message.update)) document.applyClientUpdate(connection, message.update);
          return;
        case 'awareness':
          if (!connection.controlBudget.take(this.applyAwareness(connection, document, message.update))) this.rateLimited(connection);
          return;
        case 'query-awareness':
          if (!connection.controlBudget.take(1)) return this.rateLimited(connection);
          return document.sendAwarenessTo(connection);
      }
    } catch (error) {
      this.protocolWarnings.warn(`malformed message from ${connection.user.id} on ${document.name}: ${describe(error)}`);
      this.closeConnection(connection, CLOSE_CODES.BAD_MESSAGE, 'Malformed message.');
    }
  }

  /**
   * Applies an awareness update and returns how many awareness states it changed. Only those
   * count against the client's budget: y-websocket echoes every awareness update it receives back
   * to the server (unchanged clock), so a busy document makes honest clients send many stale ones,
   * which change nothing and are relayed to no one.
   */
  private applyAwareness(connection: SyncConnection, document: LiveDocument, update: Uint8Array): number {
    let changed = 0;
    const count = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) => {
      changed += added.length + updated.length + removed.length;
    };
    // Only its own client ids, under its authenticated identity (README: Authorization).
    const claimed = claimAwareness(update, {
      owns: (id) => connection.awarenessClientIds.has(id),
      takenByOther: (id) => document.awareness.getStates().has(id),
      ownedCount: connection.awarenessClientIds.size,
      user: connection.user,
    });
    if (!claimed) return 0;
    document.awareness.on('update', count);
    try {
      document.applyAwareness(connection, claimed);
    } finally {
      document.awareness.off('update', count);
    }
    return changed;
  }

  /**
   * Whether a writer's update may be applied: within the user's byte budget, the document's size
   * limit and the app's validateUpdate. Otherwise the connection is closed (nothing is applied;
   * the client keeps its edit) and false returned.
   */
  private admitUpdate(connection: SyncConnection, document: LiveDocument, update: Uint8Array): boolean {
    const budget = this.updateBudgets.get(connection.user.id);
    if (budget && !budget.take(Math.max(MIN_UPDATE_COST, update.byteLength))) {
      this.closeConnection(connection, CLOSE_CODES.RATE_LIMITED, 'Too many changes at once: slow down.');
      return false;
    }
    const { maxDocumentBytes } = this.limits;
    if (document.byteSize + update.byteLength > maxDocumentBytes) {
      const limit = `${Math.round((maxDocumentBytes / 1024 / 1024) * 10) / 10} MiB`;
      this.closeConnection(connection, CLOSE_CODES.TOO_LARGE, `This file would exceed the ${limit} limit: the change was not saved.`);
      return false;
    }
    try {
      this.options.validateUpdate?.({ documentName: document.name, document: connection.documentRef!, ydoc: document.ydoc, update, user: connection.user });
    } catch (error) {
      if (!isAppError(error)) this.logger.error(`validateUpdate failed for ${document.name}`, error);
      this.closeConnection(connection, closeCodeFor(error), isAppError(error) ? error.message : 'Internal error.');
      return false;
    }
    return true;
  }

  private rateLimited(connection: SyncConnection): void {
    this.closeConnection(connection, CLOSE_CODES.RATE_LIMITED, 'Too many awareness or state messages.');
  }

  /** Ends a connection (idempotent): close handshake, detach from user index and document. */
  private closeConnection(connection: SyncConnection, code: number, reason: string): void {
    if (!connection.markClosed(code, reason)) return;
    this.connections.delete(connection);
    if (!connection.isAuthenticated) return;
    const { user, role } = connection;
    const byUser = this.connectionsByUser.get(user.id);
    byUser?.delete(connection);
    if (byUser?.size === 0) this.connectionsByUser.delete(user.id);
    // Kept for a user with no connections left only while it is spent (so reconnecting does not refill it).
    if (byUser?.size === 0 && this.updateBudgets.get(user.id)?.full) this.updateBudgets.delete(user.id);
    const document = connection.document;
    if (!document) return;
    document.removePeer(connection);
    const remainingConnections = document.peers.size;
    this.scheduleIdleUnload(document);
    void this.runDisconnectHooks({ documentName: document.name, user, role, code, remainingConnections });
  }

  private async runDisconnectHooks(payload: Parameters<NonNullable<SyncExtension['onDisconnect']>>[0]): Promise<void> {
    try {
      for (const extension of this.options.extensions ?? []) await extension.onDisconnect?.(payload);
    } catch (error) {
      this.logger.error(`onDisconnect failed for ${payload.documentName}`, error);
    }
  }

  private userLimitRefusal(userId: string, documentName: string): string | null {
    const open = this.connectionsByUser.get(userId);
    if (!open) return null;
    if (open.size >= this.limits.maxConnectionsPerUser) return 'Too many open connections.';
    const documents = new Set([...open].map((c) => c.documentName));
    if (!documents.has(documentName) && documents.size >= this.limits.maxDocumentsPerUser) return 'Too many open documents.';
    return null;
  }

  private indexByUser(connection: SyncConnection): void {
    const id = connection.user.id;
    let set = this.connectionsByUser.get(id);
    if (!set) this.connectionsByUser.set(id, (set = new Set()));
    set.add(connection);
    if (!this.updateBudgets.has(id)) {
      this.updateBudgets.set(id, new TokenBucket(this.limits.userUpdateBytesPerSecond, this.limits.userUpdateBurstBytes, this.clock));
    }
  }

  /** The in-memory document for `name`, loading it if needed; waits out an unload in progress. */
  private async acquire(name: string): Promise<LiveDocument> {
    for (;;) {
      const existing = this.documents.get(name);
      if (!existing) break;
      const unloading = this.unloads.get(existing);
      if (!unloading) return existing;
      await unloading;
    }
    const document = new LiveDocument(name, this.documentContext);
    this.documents.set(name, document);
    document.ready.then(() => this.scheduleIdleUnload(document), () => {});
    return document;
  }

  private scheduleIdleUnload(document: LiveDocument): void {
    if (document.peers.size > 0 || document.holds > 0 || document.phase !== 'ready') return;
    if (this.idleTimers.has(document) || this.closing) return;
    const timer = this.timers.setTimeout(() => {
      this.idleTimers.delete(document);
      void this.unload(document, false);
    }, this.tuning.unloadAfterIdleMs);
    this.idleTimers.set(document, timer);
  }

  private cancelIdleUnload(document: LiveDocument): void {
    const timer = this.idleTimers.get(document);
    if (!timer) return;
    this.timers.clearTimeout(timer);
    this.idleTimers.delete(document);
  }

  /** Flushes, stores and drops a document. The map entry stays until the unload finished, so
   * a connection arriving meanwhile waits and then loads the stored state afresh. */
  private unload(document: LiveDocument, force: boolean): Promise<void> {
    const running = this.unloads.get(document);
    if (running) return running;
    if (document.phase !== 'ready') return Promise.resolve();
    if (!force && (document.peers.size > 0 || document.holds > 0)) return Promise.resolve();
    const unloading = document
      .unload()
      .catch((error: unknown) => this.logger.error(`unloading ${document.name} failed`, error))
      .finally(() => {
        if (this.documents.get(document.name) === document) this.documents.delete(document.name);
        this.unloads.delete(document);
      });
    this.unloads.set(document, unloading);
    return unloading;
  }

  /** Load or append failed for good: close its clients (they keep their edits and resend them on
   * reconnect) and forget the in-memory state without storing anything. */
  private documentFailed(document: LiveDocument, error: unknown): void {
    this.logger.error(`document ${document.name} failed`, error);
    this.cancelIdleUnload(document);
    if (this.documents.get(document.name) === document) this.documents.delete(document.name);
    for (const peer of [...document.peers]) {
      if (peer instanceof SyncConnection) {
        this.closeConnection(peer, closeCodeFor(error), isAppError(error) ? error.message : 'Document unavailable.');
      }
    }
    document.destroy('failed');
  }

  /** The bus may have lost messages: every loaded document merges the store in again. */
  private resyncDocuments(): void {
    for (const document of this.documents.values()) {
      document.resync().catch((error: unknown) => this.logger.warn(`resyncing ${document.name} after a bus reconnect failed`, error));
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

function closeCodeFor(error: unknown): number {
  return isAppError(error) ? APP_ERROR_CODES[error.code].close : CLOSE_CODES.INTERNAL;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

const consoleLogger: SyncLogger = {
  warn: (message, error) => console.warn(`[sync] ${message}`, error ?? ''),
  error: (message, error) => console.error(`[sync] ${message}`, error ?? ''),
};
