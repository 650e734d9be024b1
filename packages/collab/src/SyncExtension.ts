/**
 * The hook contract. `onAuthenticate` is a required server option; the other hooks come from
 * extensions, run in the order given, each awaited; an error thrown by one stops the rest of
 * that chain. What a thrown error means depends on the hook (see README "Hooks").
 */
import type { IncomingMessage } from 'node:http';
import type * as Y from 'yjs';
import type { DocumentRef, Role } from '@tandem/protocol';
import type { DecodedUpdate } from './clientUpdate.ts';

export interface SyncUser {
  id: string;
  name: string;
}

export interface AuthenticatePayload {
  /** The upgrade request: cookies, headers and `?token=` are the app's to read. */
  request: IncomingMessage;
  documentName: string;
  document: DocumentRef;
}

export interface AuthenticatedSession {
  user: SyncUser;
  role: Role;
  /** The session or token this connection was opened with: `revokeCredentials` names it. */
  credentialId?: string;
  /** When that credential expires (ms since epoch): the connection is closed then (4401). */
  expiresAt?: number | null;
}

/** Throw AppError UNAUTHENTICATED / FORBIDDEN (→ close 4401 / 4403) to refuse the connection. */
export type AuthenticateHook = (payload: AuthenticatePayload) => Promise<AuthenticatedSession> | AuthenticatedSession;

export interface LoadDocumentPayload {
  documentName: string;
  /** Already holds everything stored. Changes made here are persisted like any other change. */
  document: Y.Doc;
  /** True when the store had nothing for this document (the place to seed initial content). */
  isNew: boolean;
}

/** `client`: sent by a connection; `server`: made through `editDocument` or `onLoadDocument`. */
export type ChangeOrigin = 'client' | 'server';

export interface ChangePayload {
  documentName: string;
  document: Y.Doc;
  /**
   * The change (Yjs update V1), already durable and broadcast: a client's update as it sent it
   * (it may repeat content the document already had), or a server change as Yjs encoded it.
   */
  update: Uint8Array;
  /**
   * A client's change made through this node: `update` as the server already decoded it on
   * arrival (Y.decodeUpdate's form; read it, do not change it), so hooks need not read it again.
   * Absent for server changes, remote changes and an update Yjs integrated only in part.
   */
  decoded?: DecodedUpdate;
  user: SyncUser | null;
  origin: ChangeOrigin;
  /**
   * True when the change was made through another server node (durable there; this node applied
   * and relayed it). Hooks run on every node holding the document: keep per-node derived state
   * here, and do cluster-wide side effects only when `remote` is false.
   */
  remote: boolean;
}

export interface StoreDocumentPayload {
  documentName: string;
  document: Y.Doc;
  /** `debounce`: editing paused (or went on for the max wait); `unload`: leaving memory. */
  reason: 'debounce' | 'unload';
}

export interface DisconnectPayload {
  documentName: string;
  user: SyncUser;
  role: Role;
  /** WebSocket close code the connection ended with. */
  code: number;
  /** Connections still open on this document. */
  remainingConnections: number;
}

export interface ValidateUpdatePayload {
  documentName: string;
  document: DocumentRef;
  /** The live document before the update (read it; do not change it). */
  ydoc: Y.Doc;
  /** The client's update (Yjs update V1), not yet applied. */
  update: Uint8Array;
  /**
   * The same update decoded (Y.decodeUpdate's form; read it, do not change it). Decoded on first
   * use and once for all validators and hooks: a validator may refuse a huge update from its bytes
   * (e.g. `countItems`) before anything reads it whole.
   */
  readonly decoded: DecodedUpdate;
  user: SyncUser;
}

/**
 * Runs synchronously before a writer's update is applied. Throw an AppError to refuse it: the
 * connection is closed with the error's close code and message, and nothing is applied or stored.
 */
export type ValidateUpdateHook = (payload: ValidateUpdatePayload) => void;

export interface SyncExtension {
  /** Runs once per load, after the stored state is applied and before any client is answered. */
  onLoadDocument?(payload: LoadDocumentPayload): Promise<void> | void;
  /** Runs for every durable change, in commit order per document. */
  onChange?(payload: ChangePayload): Promise<void> | void;
  /** Derived-data hook (search index, sandbox copy…). Durability never depends on it. */
  onStoreDocument?(payload: StoreDocumentPayload): Promise<void> | void;
  onDisconnect?(payload: DisconnectPayload): Promise<void> | void;
}

export interface SyncLogger {
  warn(message: string, error?: unknown): void;
  error(message: string, error?: unknown): void;
}
