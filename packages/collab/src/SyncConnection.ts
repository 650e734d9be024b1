import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { AppError, type DocumentRef, type Role } from '@tandem/protocol';
import type { DocumentPeer, LiveDocument } from './LiveDocument.ts';
import type { AuthenticatedSession, SyncUser } from './SyncExtension.ts';
import type { TokenBucket } from './TokenBucket.ts';

/**
 * authenticating → joining (authenticated, document loading) → live (answered, messages handled)
 * → draining (server shutting down: still receives, no longer reads) → closed.
 */
export type ConnectionPhase = 'authenticating' | 'joining' | 'live' | 'draining' | 'closed';

/** Close reasons are limited to 123 UTF-8 bytes by RFC 6455. */
const MAX_REASON_BYTES = 123;

/** One client socket on one document. The SyncServer drives its lifecycle. */
export class SyncConnection implements DocumentPeer {
  phase: ConnectionPhase = 'authenticating';
  document: LiveDocument | null = null;
  readonly awarenessClientIds = new Set<number>();
  /** Set by the keep-alive ping, cleared by any pong or message. */
  alive = true;
  /** setAccess() calls that arrived while onAuthenticate was still running. */
  readonly accessChanges = new Map<string, Role | null>();
  /** revokeCredentials() calls that arrived while onAuthenticate was still running. */
  readonly revokedCredentials = new Set<string>();
  /** Live messages waiting for the next turn of the event loop, the bytes handled in this one and when it began (ClientMessages.receive). */
  readonly waiting: Uint8Array[] = [];
  waitingBytes = 0;
  sliceBytes = 0;
  sliceStartedAt = 0;
  /** How long the last slice took, if it took SLICE_MS or more (it then rests as long). */
  sliceSpentMs = 0;
  /** Resolves when the socket is closed at the transport level. */
  readonly socketClosed: Promise<void>;

  private session: AuthenticatedSession | null = null;
  private queue: Uint8Array[] = [];

  constructor(
    readonly socket: WebSocket,
    readonly request: IncomingMessage,
    readonly documentName: string,
    readonly documentRef: DocumentRef | null,
    private readonly maxBufferedBytes: number,
    private readonly onSlowConsumer: (connection: SyncConnection) => void,
    /** Awareness updates/queries and sync step 1 this client may still send (4429 when empty). */
    readonly controlBudget: TokenBucket,
    /** The TCP socket under `socket`: corked around a batch so its frames leave in one write. */
    private readonly transport: Duplex | null = null,
  ) {
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  get receiving(): boolean {
    return this.phase === 'live' || this.phase === 'draining';
  }

  get user(): SyncUser {
    return this.authenticated().user;
  }

  get role(): Role {
    return this.authenticated().role;
  }

  set role(role: Role) {
    this.session = { ...this.authenticated(), role };
  }

  get credentialId(): string | undefined {
    return this.session?.credentialId;
  }

  get expiresAt(): number | null | undefined {
    return this.session?.expiresAt;
  }

  get isAuthenticated(): boolean {
    return this.session !== null;
  }

  authenticate(session: AuthenticatedSession): void {
    this.session = session;
    this.phase = 'joining';
  }

  /** Buffers a message that arrived before the document could answer. False when the buffer is full. */
  hold(message: Uint8Array, maxHeldMessages: number): boolean {
    if (this.queue.length >= maxHeldMessages) return false;
    this.queue.push(message);
    return true;
  }

  takeHeld(): Uint8Array[] {
    const held = this.queue;
    this.queue = [];
    return held;
  }

  send(message: Uint8Array): void {
    if (this.phase === 'closed' || this.socket.readyState !== WebSocket.OPEN) return;
    // A client that stops reading would otherwise make the server buffer without bound.
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.onSlowConsumer(this);
      return;
    }
    this.socket.send(message);
  }

  /** Sends several messages, one frame each, in order; the frames leave in one socket write. */
  sendAll(messages: readonly Uint8Array[]): void {
    if (messages.length === 1) return this.send(messages[0]!);
    this.transport?.cork();
    try {
      for (const message of messages) this.send(message);
    } finally {
      this.transport?.uncork();
    }
  }

  /** Marks the connection closed and starts the WebSocket close handshake. Idempotent. */
  markClosed(code: number, reason: string): boolean {
    if (this.phase === 'closed') return false;
    this.phase = 'closed';
    this.queue = [];
    this.waiting.length = 0;
    this.waitingBytes = 0;
    if (this.socket.isPaused) this.socket.resume(); // the close handshake needs the client's close frame
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code, truncateReason(reason));
    }
    return true;
  }

  private authenticated(): AuthenticatedSession {
    if (!this.session) throw new AppError('INTERNAL', 'Connection is not authenticated.', 'session read before onAuthenticate resolved');
    return this.session;
  }
}

function truncateReason(reason: string): string {
  let out = '';
  let bytes = 0;
  for (const char of reason) {
    bytes += Buffer.byteLength(char);
    if (bytes > MAX_REASON_BYTES) break;
    out += char;
  }
  return out;
}
