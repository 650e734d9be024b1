import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import type { DocumentBus, DocumentBusMessage, BusChange } from './DocumentBus.ts';
import type { DocumentStore } from './DocumentStore.ts';
import { GroupCommitLog, type CommitEntry } from './GroupCommitLog.ts';
import type { SyncExtension, SyncLogger, SyncUser } from './SyncExtension.ts';
import type { Timers } from './Timers.ts';
import { encodeAwareness, encodeSyncStep1, encodeSyncStep2, encodeUpdate } from './wireProtocol.ts';
import { broadcastAll, broadcastBatch, type DocumentPeer } from './broadcast.ts';
import type { ClientUpdate, DecodedUpdate } from './clientUpdate.ts';
import { Compaction } from './Compaction.ts';
import { DocumentHooks } from './DocumentHooks.ts';

export type { DocumentPeer } from './broadcast.ts';

/** Origin of changes made by the server itself (`editDocument`, `onLoadDocument`). */
export class ServerEdit {
  constructor(readonly user: SyncUser | null) {}
}

type UpdateOrigin = DocumentPeer | ServerEdit;

/** What the commit log keeps with each update: who made it and, for a client's update, its decoded form. */
interface Change {
  by: UpdateOrigin;
  decoded: DecodedUpdate | null;
}

export interface LiveDocumentSettings {
  commitWindowMs: number;
  appendRetryDelaysMs: readonly number[];
  compactAfterUpdates: number;
  storeDebounceMs: number;
  storeMaxWaitMs: number;
}

export interface LiveDocumentContext {
  store: DocumentStore;
  /** Other server nodes holding the same documents (null: this node is alone). */
  bus: DocumentBus | null;
  extensions: readonly SyncExtension[];
  timers: Timers;
  logger: SyncLogger;
  settings: LiveDocumentSettings;
  /** Loading or appending failed for good: the owner must close the peers and forget the document. */
  failed(document: LiveDocument, error: unknown): void;
}

export type DocumentPhase = 'loading' | 'ready' | 'unloading' | 'unloaded' | 'failed';

/** Marks the transaction that applies stored state, whose updates must not be appended again. */
const LOAD_ORIGIN = Symbol('load');
/** Marks changes applied from another node: already durable, relayed to local peers, not appended. */
const REMOTE_ORIGIN = Symbol('remote');
/** Awareness states withdrawn because a local peer left (told to the other nodes too). */
const PEER_LEFT = Symbol('peer-left');

/**
 * One document in memory: its Y.Doc and awareness, the peers attached to it, and the durability
 * pipeline. Every change the Y.Doc integrates goes through the group commit log; only once the
 * store has it is it broadcast (never back to its sender) and reported to `onChange`. Its parts:
 * `Compaction` (size and snapshots), `DocumentHooks` (onChange / onStoreDocument), `broadcast.ts`
 * (fan-out); the bus (other nodes) is handled here.
 */
export class LiveDocument {
  readonly ydoc = new Y.Doc();
  readonly awareness = new Awareness(this.ydoc);
  readonly peers = new Set<DocumentPeer>();
  /** Server-side users (editDocument) currently keeping the document in memory. */
  holds = 0;
  phase: DocumentPhase = 'loading';
  /** Resolves when the stored state is in memory and onLoadDocument ran; rejects if that failed. */
  readonly ready: Promise<void>;

  private readonly log: GroupCommitLog<Change>;
  private readonly compaction: Compaction;
  private readonly hooks: DocumentHooks;
  /** The client update being applied right now (its bytes are what gets stored and relayed). */
  private incoming: IncomingUpdate | null = null;
  /** Set while server-side changes are captured through a temporary 'update' listener. */
  private capturing = false;
  private unsubscribeBus: (() => void) | null = null;
  /** Bus messages that arrived while the stored state was loading (null once they are applied directly). */
  private remoteBacklog: DocumentBusMessage[] | null = [];
  /** Whether the last remote transaction changed the document. */
  private remoteChanged = false;

  constructor(
    readonly name: string,
    private readonly context: LiveDocumentContext,
  ) {
    const { settings, timers } = context;
    this.compaction = new Compaction(name, this.ydoc, context.store, context.logger, settings.compactAfterUpdates);
    this.hooks = new DocumentHooks(name, this.ydoc, context.extensions, timers, context.logger, settings);
    this.awareness.setLocalState(null);
    this.log = new GroupCommitLog<Change>({
      append: (updates) => context.store.append(name, updates),
      committed: (batch, cursor) => this.committed(batch, cursor),
      failed: (error) => this.fail(error),
      timers,
      windowMs: settings.commitWindowMs,
      retryDelaysMs: settings.appendRetryDelaysMs,
    });
    this.ydoc.on('afterTransaction', (transaction: Y.Transaction) => this.afterTransaction(transaction));
    this.awareness.on('update', (changes: AwarenessChanges, origin: unknown) => this.awarenessChanged(changes, origin));
    this.ready = this.load();
    // The owner observes failures through `ready`; this only keeps Node from reporting them twice.
    this.ready.catch(() => {});
  }

  /**
   * Approximate encoded size: the stored snapshot plus every update since (re-measured at each
   * compaction). Bounds the document (SyncLimits.maxDocumentBytes) without encoding it per update.
   */
  get byteSize(): number {
    return this.compaction.byteSize;
  }

  /** Sends what a newly answered peer needs first: our state vector and the current awareness. */
  welcome(peer: DocumentPeer): void {
    peer.send(encodeSyncStep1(Y.encodeStateVector(this.ydoc)));
    if (this.awareness.getStates().size > 0) this.sendAwarenessTo(peer);
  }

  /**
   * Answers sync step 1 with everything the peer lacks. The answer is computed now but sent only
   * once every change it may contain is durable, so nothing leaves the server before the store
   * has it. Throws on a malformed state vector.
   */
  answerSyncStep1(peer: DocumentPeer, stateVector: Uint8Array): void {
    const message = encodeSyncStep2(Y.encodeStateAsUpdate(this.ydoc, stateVector));
    if (!this.log.busy) {
      peer.send(message);
      return;
    }
    this.log.whenDurable().then(
      () => peer.send(message),
      () => {}, // the log failed: the owner is closing every peer
    );
  }

  /**
   * Applies a peer's update (sync step 2 or update), already read whole (`ClientUpdate.decoded`).
   * Throws if Yjs fails on it.
   */
  applyClientUpdate(peer: DocumentPeer, update: ClientUpdate): void {
    const incoming: IncomingUpdate = { peer, integrated: null };
    this.incoming = incoming;
    try {
      Y.applyUpdate(this.ydoc, update.bytes, peer);
    } catch (error) {
      // Malformed past some valid part: log what Yjs did integrate, re-encoded by Yjs itself,
      // never the bytes it choked on (they would poison the store and every other client).
      if (incoming.integrated) this.enqueue(Y.encodeStateAsUpdate(this.ydoc, Y.encodeStateVector(incoming.integrated.beforeState)), peer);
      throw error;
    } finally {
      this.incoming = null;
    }
    if (incoming.integrated) this.enqueue(update.bytes, peer, update.decoded);
  }

  /** Applies a peer's awareness update; it is relayed to the others. Throws if malformed. */
  applyAwareness(peer: DocumentPeer, update: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, update, peer);
  }

  sendAwarenessTo(peer: DocumentPeer): void {
    const clients = [...this.awareness.getStates().keys()];
    peer.send(encodeAwareness(encodeAwarenessUpdate(this.awareness, clients)));
  }

  /**
   * Runs `edit` as one transaction on behalf of `user`; resolves once the change is durable.
   * `origin`, when given, is the transaction's origin instead of a ServerEdit (see editDocument).
   */
  async edit(edit: (doc: Y.Doc) => void, user: SyncUser | null, origin?: object): Promise<void> {
    const serverEdit = new ServerEdit(user);
    await this.captureServerChanges(serverEdit, async () => this.ydoc.transact(() => edit(this.ydoc), origin ?? serverEdit));
    await this.log.flushNow();
  }

  addPeer(peer: DocumentPeer): void {
    this.peers.add(peer);
  }

  /** Detaches a peer and withdraws the awareness states it set. */
  removePeer(peer: DocumentPeer): void {
    if (!this.peers.delete(peer)) return;
    if (peer.awarenessClientIds.size > 0) removeAwarenessStates(this.awareness, [...peer.awarenessClientIds], PEER_LEFT);
  }

  /** Resolves once every change so far is durable (and broadcast). */
  flush(): Promise<void> {
    return this.log.flushNow();
  }

  /**
   * Leaves memory without losing anything: flush the log, let onChange/onStoreDocument finish,
   * compact the log into a snapshot, then destroy. The owner guarantees no peer is attached.
   */
  async unload(): Promise<void> {
    this.phase = 'unloading';
    this.hooks.cancelTimers();
    try {
      await this.log.flushNow();
    } catch {
      // The log failed: what was appended is durable, the rest was never acknowledged.
    }
    await this.hooks.unload();
    await this.compaction.finish(() => this.phase === 'unloading');
    this.destroy('unloaded');
  }

  /** Drops the in-memory state without storing anything (after a failure). */
  destroy(phase: 'unloaded' | 'failed'): void {
    this.phase = phase;
    this.unsubscribeBus?.();
    this.unsubscribeBus = null;
    this.hooks.cancelTimers();
    this.awareness.destroy();
    this.ydoc.destroy();
  }

  /**
   * Heals after the bus lost messages (a Redis reconnect): everything durable is merged in again
   * from the store (idempotent) and what was missing is relayed to the local peers.
   */
  async resync(): Promise<void> {
    if (this.phase !== 'ready') return;
    const stored = await this.context.store.load(this.name);
    if (this.phase !== 'ready') return;
    const before = Y.encodeStateVector(this.ydoc);
    this.remoteChanged = false;
    this.ydoc.transact(() => {
      if (stored.snapshot) Y.applyUpdate(this.ydoc, stored.snapshot, REMOTE_ORIGIN);
      for (const update of stored.updates) Y.applyUpdate(this.ydoc, update, REMOTE_ORIGIN);
    }, REMOTE_ORIGIN);
    if (this.remoteChanged) {
      const missed = Y.encodeStateAsUpdate(this.ydoc, before);
      broadcastAll(this.peers, [encodeUpdate(missed)], null);
      this.queueRemoteChangeHooks([{ update: missed, origin: 'server', user: null }]);
    }
    this.context.bus?.publish(this.name, { kind: 'awareness-query' });
  }

  private async load(): Promise<void> {
    try {
      // Subscribe before reading the store, so nothing another node commits meanwhile is missed.
      if (this.context.bus) this.unsubscribeBus = await this.context.bus.subscribe(this.name, (m) => this.received(m));
      const stored = await this.context.store.load(this.name);
      this.ydoc.transact(() => {
        if (stored.snapshot) Y.applyUpdate(this.ydoc, stored.snapshot, LOAD_ORIGIN);
        for (const update of stored.updates) Y.applyUpdate(this.ydoc, update, LOAD_ORIGIN);
      }, LOAD_ORIGIN);
      this.compaction.loaded(stored.snapshot, stored.updates, stored.cursor);
      const backlog = this.remoteBacklog ?? [];
      this.remoteBacklog = null;
      for (const message of backlog) this.received(message);
      const isNew = stored.snapshot === null && stored.updates.length === 0 && backlog.length === 0;
      await this.captureServerChanges(new ServerEdit(null), async () => {
        for (const extension of this.context.extensions) {
          await extension.onLoadDocument?.({ documentName: this.name, document: this.ydoc, isNew });
        }
      });
      if (this.phase === 'loading') this.phase = 'ready';
      this.context.bus?.publish(this.name, { kind: 'awareness-query' });
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /**
   * Every change the Y.Doc integrates, except loading, goes to the log. A client's change is
   * logged as the bytes it sent (once Yjs read them without error): asking Yjs to re-encode each transaction (its 'update' event)
   * costs more than applying it, and degrades with long typing runs (Yjs merges the run into one
   * string, then slices it to encode every keystroke). A client update that changed nothing is
   * dropped; one that left structs pending (missing dependencies) is kept, so the log replays to
   * exactly this state.
   */
  private afterTransaction(transaction: Y.Transaction): void {
    const { origin } = transaction;
    if (origin === REMOTE_ORIGIN) {
      this.remoteChanged = changedState(transaction) || this.ydoc.store.pendingStructs !== null;
      return;
    }
    if (origin === LOAD_ORIGIN || this.phase === 'failed' || this.phase === 'unloaded') return;
    if (this.incoming && origin === this.incoming.peer) {
      const { store } = this.ydoc;
      // Logged by applyClientUpdate once Yjs has read the whole update without error.
      if (changedState(transaction) || store.pendingStructs !== null || store.pendingDs !== null) this.incoming.integrated = transaction;
      return;
    }
    if (this.capturing || !changedState(transaction)) return;
    // A change made outside editDocument/onLoadDocument (e.g. by an extension holding the doc).
    const update = Y.encodeStateAsUpdate(this.ydoc, Y.encodeStateVector(transaction.beforeState));
    this.enqueue(update, new ServerEdit(null));
  }

  /** Logs the server-side changes `run` makes exactly as Yjs encodes them, attributed to `edit`. */
  private async captureServerChanges(edit: ServerEdit, run: () => Promise<void>): Promise<void> {
    const capture = (update: Uint8Array, origin: unknown) => {
      if (origin !== LOAD_ORIGIN && origin !== REMOTE_ORIGIN) this.enqueue(update, edit);
    };
    this.ydoc.on('update', capture);
    this.capturing = true;
    try {
      await run();
    } finally {
      this.capturing = false;
      this.ydoc.off('update', capture);
    }
  }

  private enqueue(update: Uint8Array, by: UpdateOrigin, decoded: DecodedUpdate | null = null): void {
    this.compaction.byteSize += update.byteLength;
    this.log.enqueue({ update, origin: { by, decoded } });
    if (this.phase === 'ready') this.hooks.scheduleStore();
  }

  private committed(batch: CommitEntry<Change>[], cursor: number): void {
    const updates = batch.map((e) => e.update);
    const senders = batch.map((e) => e.origin.by);
    // Framing copies each update: skipped when no peer would receive any (a lone writer's large paste).
    const only = senders.every((s) => s === senders[0]) ? senders[0] : undefined;
    if ([...this.peers].some((peer) => peer.receiving && peer !== only)) broadcastBatch(this.peers, updates.map(encodeUpdate), senders);
    const changes = batch.map(({ update, origin }) => busChange(update, origin.by));
    this.context.bus?.publish(this.name, { kind: 'changes', changes });
    changes.forEach((change, i) => this.hooks.changed(change, false, batch[i]!.origin.decoded ?? undefined));
    this.compaction.appended(updates, cursor);
  }

  /** A message from another node holding this document. */
  private received(message: DocumentBusMessage): void {
    if (this.remoteBacklog) {
      this.remoteBacklog.push(message);
      return;
    }
    if (this.phase === 'failed' || this.phase === 'unloaded') return;
    switch (message.kind) {
      case 'changes':
        return this.applyRemoteChanges(message.changes);
      case 'awareness':
        applyAwarenessUpdate(this.awareness, message.update, REMOTE_ORIGIN);
        return;
      case 'awareness-query':
        return this.publishLocalAwareness();
    }
  }

  /** Changes another node made durable: applied, relayed to the local peers, never appended again. */
  private applyRemoteChanges(changes: BusChange[]): void {
    this.remoteChanged = false;
    this.ydoc.transact(() => {
      for (const { update } of changes) Y.applyUpdate(this.ydoc, update, REMOTE_ORIGIN);
    }, REMOTE_ORIGIN);
    if (!this.remoteChanged) return;
    this.compaction.byteSize += changes.reduce((sum, c) => sum + c.update.byteLength, 0);
    broadcastAll(this.peers, changes.map((c) => encodeUpdate(c.update)), null);
    this.queueRemoteChangeHooks(changes);
  }

  private queueRemoteChangeHooks(changes: BusChange[]): void {
    for (const change of changes) this.hooks.changed(change, true);
  }

  /** Answers another node's awareness query with the states of this node's own clients. */
  private publishLocalAwareness(): void {
    const clients = [...this.peers].flatMap((peer) => [...peer.awarenessClientIds]);
    const known = clients.filter((id) => this.awareness.getStates().has(id));
    if (known.length === 0) return;
    this.context.bus?.publish(this.name, { kind: 'awareness', update: encodeAwarenessUpdate(this.awareness, known) });
  }

  private awarenessChanged({ added, updated, removed }: AwarenessChanges, origin: unknown): void {
    const peer = this.peers.has(origin as DocumentPeer) ? (origin as DocumentPeer) : null;
    if (peer) {
      for (const id of added) peer.awarenessClientIds.add(id);
      for (const id of removed) peer.awarenessClientIds.delete(id);
    }
    const changed = added.concat(updated, removed);
    const update = encodeAwarenessUpdate(this.awareness, changed);
    broadcastAll(this.peers, [encodeAwareness(update)], peer);
    // Only what this node's own clients did travels; remote states and timeouts stay local.
    if (peer || origin === PEER_LEFT) this.context.bus?.publish(this.name, { kind: 'awareness', update });
  }

  private fail(error: unknown): void {
    if (this.phase === 'failed' || this.phase === 'unloaded') return;
    this.phase = 'failed';
    this.context.failed(this, error);
  }
}

function busChange(update: Uint8Array, origin: UpdateOrigin): BusChange {
  return { update, origin: origin instanceof ServerEdit ? 'server' : 'client', user: origin.user };
}

function changedState(transaction: Y.Transaction): boolean {
  if (transaction.deleteSet.clients.size > 0) return true;
  for (const [client, clock] of transaction.afterState) {
    if (transaction.beforeState.get(client) !== clock) return true;
  }
  return false;
}

interface IncomingUpdate {
  peer: DocumentPeer;
  /** The transaction that applied it, if it changed anything or left structs pending. */
  integrated: Y.Transaction | null;
}

interface AwarenessChanges {
  added: number[];
  updated: number[];
  removed: number[];
}
