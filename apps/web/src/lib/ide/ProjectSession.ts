import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import type { Awareness } from 'y-protocols/awareness';
import {
  CLOSE_CODES, FILE_TEXT, TREE_MAP, fileDocName, isBinaryEntry, isFinalCloseCode, treeDocName, type TreeEntry,
} from '@tandem/protocol';
import type { TreeEdit, TreeEntries } from './fileTree';
import { participantsOf, type FilePresence, type Participant, type PresenceUser, type TreePresence } from './presence';

/** What the connection indicator shows. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'ended';

/** Why the server stopped talking to us for good (a final close code). */
export interface SessionEnd {
  code: number;
  message: string;
}

export interface SessionSnapshot {
  connection: ConnectionState;
  /** True once the tree has been received from the server at least once. */
  treeLoaded: boolean;
  entries: TreeEntries;
  participants: Participant[];
  ended: SessionEnd | null;
  /** Per-file problems that only affect that file (e.g. too large to sync). */
  fileProblems: ReadonlyMap<string, string>;
}

/** One open file: its document, text and provider (with its own awareness for cursors). */
export interface FileConnection {
  fileId: string;
  doc: Y.Doc;
  text: Y.Text;
  provider: WebsocketProvider;
  awareness: Awareness;
}

export interface ProjectSessionOptions {
  projectId: string;
  user: PresenceUser;
  /** Base URL of the sync endpoint, e.g. `ws://host/sync`. */
  syncUrl: string;
  /** Called (once per burst) when the server says our role changed write permission. */
  onRoleChanged?: () => void;
}

/** Consecutive failed attempts after which "reconnecting" becomes "offline". */
const OFFLINE_AFTER_FAILURES = 4;

/**
 * A browser's live connection to one project: the tree document (file list and project-wide
 * presence) plus one document per open file. Not React: components read it through
 * subscribe()/getSnapshot() (useSyncExternalStore).
 *
 * Every provider talks to the server only (no BroadcastChannel between tabs), so the server stays
 * the one authority on who may write. Edits made while disconnected stay in the local Y.Docs and
 * merge when y-websocket reconnects and re-runs the sync handshake.
 */
export class ProjectSession {
  readonly treeDoc = new Y.Doc();
  readonly tree: Y.Map<TreeEntry>;
  readonly treeProvider: WebsocketProvider;
  private readonly files = new Map<string, FileConnection & { holders: number }>();
  private readonly listeners = new Set<() => void>();
  private snapshot: SessionSnapshot;
  private hasConnected = false;
  private ended: SessionEnd | null = null;
  private readonly fileProblems = new Map<string, string>();
  private roleChangePending = false;
  /** The tree as of the last change (kept while only presence or status change). */
  private entries: TreeEntries | null = null;
  private destroyed = false;

  constructor(private readonly options: ProjectSessionOptions) {
    this.tree = this.treeDoc.getMap<TreeEntry>(TREE_MAP);
    this.treeProvider = this.createProvider(treeDocName(options.projectId), this.treeDoc, null);
    this.treeProvider.awareness.setLocalState({ user: options.user, activeFile: null } satisfies TreePresence);
    this.tree.observe(() => {
      this.entries = null;
      this.changed();
    });
    this.treeProvider.awareness.on('change', () => this.changed());
    this.treeProvider.on('status', () => this.changed());
    this.treeProvider.on('sync', () => this.changed());
    this.snapshot = this.buildSnapshot();
    window.addEventListener('online', this.changed);
    window.addEventListener('offline', this.changed);
  }

  /** This tab's session id, as others see it in the roster. */
  get sessionId(): number {
    return this.treeDoc.clientID;
  }

  get awareness(): Awareness {
    return this.treeProvider.awareness;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SessionSnapshot => this.snapshot;

  setActiveFile(fileId: string | null): void {
    if (this.awareness.getLocalState()?.activeFile !== fileId) this.awareness.setLocalStateField('activeFile', fileId);
  }

  /** Applies a planned tree edit as one transaction: everyone sees all of it or none of it. */
  applyTreeEdit(edit: TreeEdit): void {
    this.treeDoc.transact(() => {
      for (const id of edit.remove) this.tree.delete(id);
      for (const [id, entry] of edit.set) this.tree.set(id, entry);
    });
  }

  /** Opens (or shares) the connection to a file's document. Pair with releaseFile. */
  acquireFile(fileId: string): FileConnection {
    let file = this.files.get(fileId);
    if (!file) {
      const doc = new Y.Doc();
      const provider = this.createProvider(fileDocName(this.options.projectId, fileId), doc, fileId);
      provider.awareness.setLocalState({ user: this.options.user, session: this.sessionId } satisfies FilePresence);
      if (this.ended) provider.disconnect();
      file = { fileId, doc, text: doc.getText(FILE_TEXT), provider, awareness: provider.awareness, holders: 0 };
      this.files.set(fileId, file);
    }
    file.holders++;
    return file;
  }

  releaseFile(fileId: string): void {
    const file = this.files.get(fileId);
    if (!file || --file.holders > 0) return;
    this.files.delete(fileId);
    file.provider.awareness.setLocalState(null);
    file.provider.destroy();
    file.doc.destroy();
    if (this.fileProblems.delete(fileId)) this.changed();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    window.removeEventListener('online', this.changed);
    window.removeEventListener('offline', this.changed);
    for (const file of this.files.values()) {
      file.provider.destroy();
      file.doc.destroy();
    }
    this.files.clear();
    this.treeProvider.awareness.setLocalState(null);
    this.treeProvider.destroy();
    this.treeDoc.destroy();
    this.listeners.clear();
  }

  private createProvider(documentName: string, doc: Y.Doc, fileId: string | null): WebsocketProvider {
    const provider = new WebsocketProvider(this.options.syncUrl, documentName, doc, {
      disableBc: true,
      maxBackoffTime: 5000,
      // 4429 (rate limited) is in the 44xx range but worth retrying: use the protocol's rule.
      shouldReconnect: (event) => !isFinalCloseCode(event.code),
    });
    provider.on('connection-close', (event) => {
      if (event?.code === CLOSE_CODES.ROLE_CHANGED) this.roleChanged();
      this.changed();
    });
    provider.on('closed', ({ code, reason }) => this.finalClose(code, fileId, reason));
    provider.on('status', ({ status }) => refreshPresenceOnReconnect(provider.awareness, status));
    return provider;
  }

  /** Many providers close with ROLE_CHANGED at once: tell the app once per burst. */
  private roleChanged(): void {
    if (this.roleChangePending) return;
    this.roleChangePending = true;
    setTimeout(() => {
      this.roleChangePending = false;
      if (!this.destroyed) this.options.onRoleChanged?.();
    }, 50);
  }

  private finalClose(code: number, fileId: string | null, reason = ''): void {
    // Losing access ends the whole session; anything else a file's server says concerns that file.
    if (fileId && code !== CLOSE_CODES.UNAUTHENTICATED && code !== CLOSE_CODES.FORBIDDEN) {
      // The server's reason names the limit ("… over the 4096 KiB limit"): show it when it gave one.
      this.fileProblems.set(fileId, code === CLOSE_CODES.TOO_LARGE
        ? `This file is too large to sync: changes to it are not saved.${reason ? ` (${reason})` : ''}`
        : `This file stopped syncing (${reason || endMessage(code)})`);
      return this.changed();
    }
    if (this.ended) return;
    this.ended = { code, message: endMessage(code) };
    for (const file of this.files.values()) file.provider.disconnect();
    this.treeProvider.disconnect();
    this.changed();
  }

  private connectionState(): ConnectionState {
    if (this.ended) return 'ended';
    const p = this.treeProvider;
    if (p.wsconnected && p.synced) {
      this.hasConnected = true;
      return 'connected';
    }
    if (!this.hasConnected) return typeof navigator !== 'undefined' && !navigator.onLine ? 'offline' : 'connecting';
    if (!navigator.onLine || p.wsUnsuccessfulReconnects >= OFFLINE_AFTER_FAILURES) return 'offline';
    return 'reconnecting';
  }

  private buildSnapshot(): SessionSnapshot {
    const connection = this.connectionState();
    return {
      connection,
      treeLoaded: this.hasConnected,
      entries: (this.entries ??= new Map(validEntries(this.tree))),
      participants: participantsOf(this.awareness),
      ended: this.ended,
      fileProblems: new Map(this.fileProblems),
    };
  }

  private changed = (): void => {
    if (this.destroyed) return;
    this.snapshot = this.buildSnapshot();
    for (const listener of this.listeners) listener();
  };
}

/**
 * y-protocols ignores an awareness state whose clock it has already seen, and a reconnect replays
 * the same clocks: without this, people who reconnect (server restart, role change) stay invisible
 * to each other until their presence next changes. So after a disconnect we forget the clocks of
 * the remote states y-websocket just dropped, and after connecting we re-announce our own state
 * with a new clock.
 */
function refreshPresenceOnReconnect(awareness: Awareness, status: 'connected' | 'connecting' | 'disconnected'): void {
  if (status === 'disconnected') {
    for (const clientId of [...awareness.meta.keys()]) {
      if (clientId !== awareness.clientID && !awareness.states.has(clientId)) awareness.meta.delete(clientId);
    }
  } else if (status === 'connected') {
    const state = awareness.getLocalState();
    if (state) awareness.setLocalState({ ...state });
  }
}

/** Tree entries from other clients, skipping malformed ones. */
function* validEntries(tree: Y.Map<TreeEntry>): Generator<[string, TreeEntry]> {
  for (const [id, entry] of tree.entries()) {
    if (entry && typeof entry.path === 'string' && (entry.kind === 'file' || entry.kind === 'folder' || isBinaryEntry(entry))) yield [id, entry];
  }
}

function endMessage(code: number): string {
  switch (code) {
    case CLOSE_CODES.UNAUTHENTICATED:
      return 'Your session has ended. Sign in again to keep working on this project.';
    case CLOSE_CODES.FORBIDDEN:
      return 'You were removed from this project: you no longer have access to it.';
    case CLOSE_CODES.NOT_FOUND:
      return 'This project no longer exists.';
    case CLOSE_CODES.TOO_LARGE:
      return 'The project’s file list is too large to sync.';
    case CLOSE_CODES.TOO_MANY_CONNECTIONS:
      return 'Too many open connections: close other Tandem tabs, then reload this page.';
    default:
      return `The server closed the connection (code ${code}). Reload the page to reconnect.`;
  }
}
