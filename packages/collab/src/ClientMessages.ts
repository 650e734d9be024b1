import { APP_ERROR_CODES, CLOSE_CODES, canWrite, isAppError } from '@tandem/protocol';
import type { LiveDocument } from './LiveDocument.ts';
import type { SyncConnection } from './SyncConnection.ts';
import type { SyncLogger, ValidateUpdateHook } from './SyncExtension.ts';
import { MIN_UPDATE_COST, type SyncLimits } from './SyncSettings.ts';
import type { LogThrottle } from './LogThrottle.ts';
import type { UserConnections } from './UserConnections.ts';
import { claimAwareness } from './awarenessIdentity.ts';
import { ClientUpdate } from './clientUpdate.ts';
import { decodeClientMessage } from './wireProtocol.ts';

/** Message bytes one connection may have handled in a turn of the event loop before the rest wait for the next (`receive`). */
const SLICE_BYTES = 64 * 1024;
/**
 * …or milliseconds spent on them: a few bytes can cost much more to judge and apply than to
 * receive (a tree update of a thousand small entries is ~50 KB but thousands of structs).
 */
const SLICE_MS = 8;
/** After a slice that took SLICE_MS or more, the connection rests about as long (at most this) before its next. */
const MAX_REST_MS = 100;
/**
 * Bytes a live connection may have waiting for its next slice. Its socket is paused then, so what
 * still arrives is what ws had already read: bounded by bytes, never by count (a fast client's
 * one socket read can hold thousands of small updates, and refusing them stalled it).
 */
const MAX_WAITING_BYTES = 16 * 1024 * 1024;

export interface ClientMessagesOptions {
  limits: SyncLimits;
  users: UserConnections;
  validateUpdate: ValidateUpdateHook | undefined;
  logger: SyncLogger;
  protocolWarnings: LogThrottle;
  close(connection: SyncConnection, code: number, reason: string): void;
}

/**
 * What a live connection's messages do: sync step 1 is answered, awareness is claimed for the
 * connection and applied, and a writer's update is admitted (budget, document size, then read
 * once and vetted by `validateUpdate`) before its document applies it. Anything malformed or over
 * a limit closes that connection only.
 */
export class ClientMessages {
  constructor(private readonly o: ClientMessagesOptions) {}

  /**
   * Handles a live connection's message, in slices: once its messages in this turn of the event
   * loop add up to SLICE_BYTES or took SLICE_MS, its socket is paused and the rest wait for a later
   * turn (`nextSlice`), so a burst of large or costly updates from one client (the socket delivers up to
   * megabytes at once) cannot hold the event loop from everyone else. Order is kept; typing never
   * fills a slice.
   */
  receive(connection: SyncConnection, message: Uint8Array): void {
    if (connection.waiting.length > 0 || connection.sliceBytes >= SLICE_BYTES) {
      connection.waitingBytes += message.byteLength;
      if (connection.waitingBytes > MAX_WAITING_BYTES) {
        return this.o.close(connection, CLOSE_CODES.RATE_LIMITED, 'Too many messages at once.');
      }
      connection.waiting.push(message);
      return;
    }
    if (connection.sliceBytes === 0) {
      setImmediate(() => this.nextSlice(connection));
      connection.sliceStartedAt = performance.now();
    }
    connection.sliceBytes += Math.max(1, message.byteLength);
    this.handle(connection, connection.document!, message);
    // Time spent counts as a full slice: the next message waits (see nextSlice).
    const spent = performance.now() - connection.sliceStartedAt;
    if (spent >= SLICE_MS) {
      connection.sliceBytes = Math.max(connection.sliceBytes, SLICE_BYTES);
      connection.sliceSpentMs = spent;
    }
    if (connection.sliceBytes >= SLICE_BYTES && connection.phase === 'live') connection.socket.pause();
  }

  /**
   * Starts the connection's next slice. After a costly one it first rests about as long: the event
   * loop then turns freely in between, so work that needs several turns (a health check or a page
   * is accepted, read and answered in different turns) is not held up by one costly message per turn.
   */
  private nextSlice(connection: SyncConnection): void {
    const spent = connection.sliceSpentMs;
    if (spent > 0) {
      connection.sliceSpentMs = 0;
      setTimeout(() => this.nextSlice(connection), Math.min(spent, MAX_REST_MS)).unref();
      return;
    }
    connection.sliceBytes = 0;
    // A closed or draining connection is no longer read (as in `received`).
    if (connection.phase !== 'live') return;
    connection.waitingBytes = 0;
    for (const message of connection.waiting.splice(0)) {
      if (connection.phase !== 'live') return;
      this.receive(connection, message);
    }
    if (connection.waiting.length === 0 && connection.sliceBytes < SLICE_BYTES && connection.socket.isPaused) connection.socket.resume();
  }

  private handle(connection: SyncConnection, document: LiveDocument, bytes: Uint8Array): void {
    try {
      const message = decodeClientMessage(bytes);
      switch (message.kind) {
        case 'sync-step1':
          if (!connection.controlBudget.take(1)) return this.rateLimited(connection);
          return document.answerSyncStep1(connection, message.stateVector);
        case 'sync-step2':
        case 'update': {
          // Viewers stay in sync but their document changes go nowhere.
          if (!canWrite(connection.role)) return;
          const update = this.admitUpdate(connection, document, message.update);
          if (update) document.applyClientUpdate(connection, update);
          return;
        }
        case 'awareness':
          if (!connection.controlBudget.take(this.applyAwareness(connection, document, message.update))) this.rateLimited(connection);
          return;
        case 'query-awareness':
          if (!connection.controlBudget.take(1)) return this.rateLimited(connection);
          return document.sendAwarenessTo(connection);
      }
    } catch (error) {
      this.o.protocolWarnings.warn(`malformed message from ${connection.user.id} on ${document.name}: ${describe(error)}`);
      this.o.close(connection, CLOSE_CODES.BAD_MESSAGE, 'Malformed message.');
    }
  }

  /**
   * Applies an awareness update and returns how many awareness states it changed. Only those
   * count against the client's budget: y-websocket echoes every awareness update it receives
   * back to the server (unchanged clock), so a busy document makes honest clients send many stale
   * ones, which change nothing and are relayed to no one.
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
   * A writer's update if it may be applied: within the user's byte budget and the document's size
   * limit (checked before reading it), passed by validateUpdate (which may look at the bytes before
   * the decoded form, e.g. to refuse a huge update unread) and readable. Otherwise the connection
   * is closed (nothing is applied; the client keeps its edit) and null returned; an unreadable
   * update throws (→ 4400). It is decoded at most once, here or in a validator.
   */
  private admitUpdate(connection: SyncConnection, document: LiveDocument, bytes: Uint8Array): ClientUpdate | null {
    const { close } = this.o;
    if (!this.o.users.takeUpdateBytes(connection.user.id, Math.max(MIN_UPDATE_COST, bytes.byteLength))) {
      close(connection, CLOSE_CODES.RATE_LIMITED, 'Too many changes at once: slow down.');
      return null;
    }
    const { maxDocumentBytes } = this.o.limits;
    if (document.byteSize + bytes.byteLength > maxDocumentBytes) {
      const limit = maxDocumentBytes < 1024 * 1024
        ? `${Math.round(maxDocumentBytes / 1024)} KiB`
        : `${Math.round((maxDocumentBytes / 1024 / 1024) * 10) / 10} MiB`;
      this.chargeRefusal(connection);
      const what = connection.documentRef?.kind === 'tree' ? 'The project\'s file tree' : 'This file';
      close(connection, CLOSE_CODES.TOO_LARGE, `${what} would exceed the ${limit} limit: the change was not saved.`);
      return null;
    }
    const update = new ClientUpdate(bytes);
    try {
      this.o.validateUpdate?.({
        documentName: document.name, document: connection.documentRef!, ydoc: document.ydoc, update: bytes, user: connection.user,
        get decoded() {
          return update.decoded;
        },
      });
    } catch (error) {
      if (!isAppError(error)) this.o.logger.error(`validateUpdate failed for ${document.name}`, error);
      else this.chargeRefusal(connection);
      close(connection, closeCodeFor(error), isAppError(error) ? error.message : 'Internal error.');
      return null;
    }
    void update.decoded; // read whole before Yjs applies any of it (throws if it cannot be)
    return update;
  }

  /**
   * A refused update costs its user a second of update budget (`userUpdateBytesPerSecond`), whatever
   * its size: refusing costs the server work (receiving, reading, judging) and the stock client
   * reconnects and sends it again, so a client that keeps sending what is refused is soon rate
   * limited (4429, answered before anything is read) instead of being judged again and again.
   */
  private chargeRefusal(connection: SyncConnection): void {
    this.o.users.takeUpdateBytes(connection.user.id, this.o.limits.userUpdateBytesPerSecond);
  }

  private rateLimited(connection: SyncConnection): void {
    this.o.close(connection, CLOSE_CODES.RATE_LIMITED, 'Too many awareness or state messages.');
  }
}

export function closeCodeFor(error: unknown): number {
  return isAppError(error) ? APP_ERROR_CODES[error.code].close : CLOSE_CODES.INTERNAL;
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
