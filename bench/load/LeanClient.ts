/**
 * A y-websocket client without the provider: one ws socket and one Y.Doc, speaking the sync
 * protocol (step 1/2, updates; awareness is ignored). It applies every update it receives, so its
 * document can be checked at the end, but skips the provider's timers, awareness and
 * BroadcastChannel, which would make 200 clients in one process too heavy for the generator.
 */
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { textOf } from '@tandem/collab';
import { MESSAGE_SYNC, Reader, SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, Writer } from '../sync/wire.ts';

const LOCAL = Symbol('local');
const REMOTE = Symbol('remote');

export class LeanClient {
  readonly doc = new Y.Doc();
  readonly text = textOf(this.doc);
  readonly socket: WebSocket;
  /** The server answered our sync step 1: we hold its state. */
  synced = false;
  closeCode: number | null = null;

  constructor(
    syncBaseUrl: string,
    documentName: string,
    cookie: string,
    /** Every update received (sync step 2 or update), with its arrival time. */
    private readonly onPayload: (payload: Uint8Array, at: number) => void,
    private readonly onError: (message: string) => void,
  ) {
    this.socket = new WebSocket(`${syncBaseUrl}/sync/${documentName}`, { headers: { cookie }, perMessageDeflate: false });
    this.socket.binaryType = 'nodebuffer';
    this.socket.on('open', () => this.socket.send(syncMessage(SYNC_STEP1, Y.encodeStateVector(this.doc))));
    this.socket.on('message', (data: Buffer) => this.received(data, performance.now()));
    this.socket.on('close', (code) => {
      this.closeCode = code;
    });
    this.socket.on('error', (error) => this.onError(`socket error: ${error.message}`));
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === LOCAL && this.socket.readyState === WebSocket.OPEN) this.socket.send(syncMessage(SYNC_UPDATE, update));
    });
  }

  /** Types `text` at the end of the document and sends the update. */
  append(text: string): void {
    this.doc.transact(() => this.text.insert(this.text.length, text), LOCAL);
  }

  close(): void {
    this.socket.terminate();
    this.doc.destroy();
  }

  private received(data: Uint8Array, at: number): void {
    try {
      const reader = new Reader(data);
      if (reader.uint() !== MESSAGE_SYNC) return; // awareness: not part of this benchmark
      const step = reader.uint();
      const payload = reader.array();
      if (step === SYNC_STEP1) {
        this.socket.send(syncMessage(SYNC_STEP2, Y.encodeStateAsUpdate(this.doc, payload)));
        return;
      }
      if (step !== SYNC_STEP2 && step !== SYNC_UPDATE) throw new Error(`unknown sync step ${step}`);
      Y.applyUpdate(this.doc, payload, REMOTE);
      if (step === SYNC_STEP2) this.synced = true;
      this.onPayload(payload, at);
    } catch (error) {
      this.onError(`message not applied: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function syncMessage(step: number, payload: Uint8Array): Uint8Array {
  return new Writer().uint(MESSAGE_SYNC).uint(step).array(payload).toBytes();
}
