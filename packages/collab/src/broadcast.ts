import type { SyncUser } from './SyncExtension.ts';

/** What a document needs from a connection (kept as an interface so the two never import each other). */
export interface DocumentPeer {
  /** Whether the peer may receive broadcasts (it has been answered and is not closed). */
  readonly receiving: boolean;
  readonly user: SyncUser;
  /** Awareness client ids this peer set, removed for everyone when it leaves. */
  readonly awarenessClientIds: Set<number>;
  send(message: Uint8Array): void;
  /** Sends several messages in order, one frame each (written together). */
  sendAll(messages: readonly Uint8Array[]): void;
}

/**
 * Sends a durable batch (messages[i] made by senders[i]) to every peer as the batch's own update
 * messages, one frame each, in commit order, and never a peer's own changes back. The updates are
 * relayed as they were stored, not merged: merging costs Yjs a parse and re-encode of the whole
 * batch (it was most of the server's CPU under fast typing), while relaying costs only a copy per
 * update, whatever the batch's size or the document's history.
 */
export function broadcastBatch(peers: Iterable<DocumentPeer>, messages: readonly Uint8Array[], senders: readonly unknown[]): void {
  const first = senders[0];
  if (senders.every((s) => s === first)) return broadcastAll(peers, messages, first);
  for (const peer of peers) {
    if (!peer.receiving) continue;
    const others = messages.filter((_, i) => senders[i] !== peer);
    if (others.length > 0) peer.sendAll(others);
  }
}

/** Sends `messages` to every receiving peer but `except`. */
export function broadcastAll(peers: Iterable<DocumentPeer>, messages: readonly Uint8Array[], except: unknown): void {
  for (const peer of peers) {
    if (peer !== except && peer.receiving) peer.sendAll(messages);
  }
}
