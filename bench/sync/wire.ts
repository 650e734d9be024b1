/**
 * Just enough of the two wire formats for the load generator: y-websocket (used by Tandem's
 * SyncServer and @y/websocket-server) and Hocuspocus (the same messages, each prefixed with the
 * document name, plus an auth handshake). Hand-rolled varints keep the generator's per-message
 * cost tiny and equal for every server.
 */
import { Reader, Writer } from '@tandem/collab/testing';

export { Reader, Writer };

export type WireProtocol = 'y-websocket' | 'hocuspocus';

export const MESSAGE_SYNC = 0;
export const MESSAGE_AUTH = 2;
export const SYNC_STEP1 = 0;
export const SYNC_STEP2 = 1;
export const SYNC_UPDATE = 2;

/** The document-name prefix Hocuspocus puts on every message; y-websocket has none. */
function prefixed(protocol: WireProtocol, documentName: string): Writer {
  const writer = new Writer();
  if (protocol === 'hocuspocus') writer.string(documentName);
  return writer;
}

export function syncStep1(protocol: WireProtocol, documentName: string): Uint8Array {
  return prefixed(protocol, documentName).uint(MESSAGE_SYNC).uint(SYNC_STEP1).array(new Uint8Array([0])).toBytes();
}

export function updateMessage(protocol: WireProtocol, documentName: string, update: Uint8Array): Uint8Array {
  return prefixed(protocol, documentName).uint(MESSAGE_SYNC).uint(SYNC_UPDATE).array(update).toBytes();
}

export function hocuspocusAuth(documentName: string, token: string): Uint8Array {
  return new Writer().string(documentName).uint(MESSAGE_AUTH).uint(0).string(token).toBytes();
}

/** The sync step and payload of a sync message, or null for anything else. */
export function readSync(protocol: WireProtocol, message: Uint8Array): { step: number; payload: Uint8Array } | null {
  const reader = new Reader(message);
  if (protocol === 'hocuspocus') reader.array();
  if (reader.uint() !== MESSAGE_SYNC) return null;
  const step = reader.uint();
  return { step, payload: reader.array() };
}

const TILDE = 0x7e;

/**
 * Every sequence number marker `~<n>~` in an update. The writer inserts these markers as text;
 * Yjs stores strings verbatim, so they survive re-encoding and merging by the server.
 */
export function markersIn(payload: Uint8Array): number[] {
  const found: number[] = [];
  let i = payload.indexOf(TILDE);
  while (i !== -1 && i < payload.length) {
    let value = 0;
    let j = i + 1;
    while (j < payload.length && payload[j]! >= 0x30 && payload[j]! <= 0x39) value = value * 10 + payload[j++]! - 0x30;
    if (j > i + 1 && payload[j] === TILDE) {
      found.push(value);
      i = payload.indexOf(TILDE, j + 1);
    } else {
      i = payload.indexOf(TILDE, i + 1);
    }
  }
  return found;
}
