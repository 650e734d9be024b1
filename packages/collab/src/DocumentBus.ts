import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { ChangeOrigin, SyncLogger, SyncUser } from './SyncExtension.ts';
import type { RedisPubSub } from './RedisPubSub.ts';

/** One durable change as it travels between nodes. */
export interface BusChange {
  update: Uint8Array;
  origin: ChangeOrigin;
  user: SyncUser | null;
}

/**
 * What nodes tell each other about one document:
 * - `changes`: a batch that is durable in the store (published after the append resolved);
 * - `awareness`: an awareness update set or withdrawn by a client connected to the sender;
 * - `awareness-query`: "I just loaded this document: send me your clients' awareness".
 */
export type DocumentBusMessage =
  | { kind: 'changes'; changes: BusChange[] }
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'awareness-query' };

/**
 * Carries document changes and awareness between the server nodes that hold the same document.
 * A node never receives its own messages. Delivery is best effort (Redis pub/sub): after a loss
 * `onResync` handlers run and each document heals by reloading the store (an idempotent merge).
 */
export interface DocumentBus {
  /** Delivers the document's messages from the moment the promise resolves; call the result to stop. */
  subscribe(documentName: string, handler: (message: DocumentBusMessage) => void): Promise<() => void>;
  publish(documentName: string, message: DocumentBusMessage): void;
  onResync(handler: () => void): () => void;
}

const KIND = { changes: 0, awareness: 1, 'awareness-query': 2 } as const;
const ORIGIN: Record<ChangeOrigin, number> = { client: 0, server: 1 };

/** DocumentBus over Redis pub/sub: one channel per document, compact binary messages (lib0). */
export class RedisDocumentBus implements DocumentBus {
  constructor(
    private readonly pubsub: RedisPubSub,
    /** Identifies this node in every message, so its own messages are ignored. */
    private readonly nodeId: string,
    private readonly logger: SyncLogger = { warn: console.warn, error: console.error },
  ) {}

  subscribe(documentName: string, handler: (message: DocumentBusMessage) => void): Promise<() => void> {
    return this.pubsub.subscribe(channelOf(documentName), (bytes) => {
      let decoded: { node: string; message: DocumentBusMessage };
      try {
        decoded = decodeBusMessage(bytes);
      } catch (error) {
        this.logger.warn(`undecodable bus message on ${documentName}`, error);
        return;
      }
      if (decoded.node !== this.nodeId) handler(decoded.message);
    });
  }

  publish(documentName: string, message: DocumentBusMessage): void {
    this.pubsub.publish(channelOf(documentName), Buffer.from(encodeBusMessage(this.nodeId, message)));
  }

  onResync(handler: () => void): () => void {
    return this.pubsub.onReconnect(handler);
  }
}

function channelOf(documentName: string): string {
  return `doc:${documentName}`;
}

export function encodeBusMessage(node: string, message: DocumentBusMessage): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeUint8(encoder, KIND[message.kind]);
  encoding.writeVarString(encoder, node);
  if (message.kind === 'changes') {
    encoding.writeVarUint(encoder, message.changes.length);
    for (const change of message.changes) {
      encoding.writeUint8(encoder, ORIGIN[change.origin]);
      encoding.writeVarString(encoder, change.user?.id ?? '');
      encoding.writeVarString(encoder, change.user?.name ?? '');
      encoding.writeVarUint8Array(encoder, change.update);
    }
  } else if (message.kind === 'awareness') {
    encoding.writeVarUint8Array(encoder, message.update);
  }
  return encoding.toUint8Array(encoder);
}

export function decodeBusMessage(bytes: Uint8Array): { node: string; message: DocumentBusMessage } {
  const decoder = decoding.createDecoder(bytes);
  const kind = decoding.readUint8(decoder);
  const node = decoding.readVarString(decoder);
  switch (kind) {
    case KIND.changes: {
      const count = decoding.readVarUint(decoder);
      const changes: BusChange[] = [];
      for (let i = 0; i < count; i++) {
        const origin: ChangeOrigin = decoding.readUint8(decoder) === ORIGIN.server ? 'server' : 'client';
        const id = decoding.readVarString(decoder);
        const name = decoding.readVarString(decoder);
        changes.push({ origin, user: id ? { id, name } : null, update: decoding.readVarUint8Array(decoder) });
      }
      return { node, message: { kind: 'changes', changes } };
    }
    case KIND.awareness:
      return { node, message: { kind: 'awareness', update: decoding.readVarUint8Array(decoder) } };
    case KIND['awareness-query']:
      return { node, message: { kind: 'awareness-query' } };
    default:
      throw new Error(`unknown bus message kind ${kind}`);
  }
}
