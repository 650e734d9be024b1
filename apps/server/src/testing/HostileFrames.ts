/**
 * Hostile frames for the sync endpoint's fuzzer, generated from a seed, grouped into sessions
 * (one WebSocket connection each) whose outcome is known in advance:
 *
 * - a mixed session sends 0–3 quiet frames the server must accept without effect (updates whose
 *   dependencies it has never seen, a valid awareness update), then maybe one loud frame (random
 *   bytes, a truncated varint, an unknown message type, a garbage state vector, a malformed
 *   update), then a text frame. Text frames close with 4400 "Binary messages only."; a rejected
 *   binary frame closes with 4400 "Malformed message." — so the close reason tells whether the
 *   loud frame was rejected or (for random bytes and malformed updates, which may decode) accepted;
 * - floods of awareness changes or awareness queries (closed with 4429);
 * - messages over maxMessageBytes (4413) and over the transport's cap (ws closes with 1009).
 *
 * No frame may change the document: every frame that decodes as a sync step 2 or update is first
 * applied to a scratch copy of the document and replaced if it changed the copy (a mutated update
 * can easily be a valid edit, which is no longer hostile input but an editor's right).
 */
import * as Y from 'yjs';
import { CLOSE_CODES, FILE_TEXT } from '@tandem/protocol';
import type { SeededRandom } from '@tandem/collab/testing';
import { Reader, Writer } from '@tandem/collab/testing';

export type FrameKind =
  | 'random-bytes' | 'truncated-varint' | 'wrong-type' | 'text-frame' | 'bad-state-vector' | 'malformed-update'
  | 'unknown-structures' | 'awareness' | 'awareness-flood' | 'query-flood' | 'oversized' | 'transport-oversized';

/** A frame to send; `size` frames are materialized only when sent (they are megabytes). */
export type HostileFrame = { kind: FrameKind; data: Uint8Array | string } | { kind: FrameKind; size: number };

export interface Outcome {
  code: number;
  /** Acceptable close reasons; empty: any. */
  reasons: string[];
}

export interface HostileSession {
  name: 'mixed' | 'awareness-flood' | 'query-flood' | 'oversized' | 'transport-oversized';
  frames: HostileFrame[];
  expected: Outcome;
}

/** Close reasons the SyncServer sends (they tell which frame of a session closed it). */
export const REASON_TEXT_FRAME = 'Binary messages only.';
export const REASON_MALFORMED = 'Malformed message.';
export const REASON_RATE_LIMITED = 'Too many awareness or state messages.';

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_QUERY_AWARENESS = 3;
const SYNC_STEP1 = 0;
const SYNC_STEP2 = 1;
const SYNC_UPDATE = 2;

export interface HostileFramesOptions {
  /** The document's state when the fuzz starts (frames must not change it). */
  initialState: Uint8Array;
  /** SyncLimits.maxMessageBytes and the ws transport cap above which ws closes with 1009. */
  maxMessageBytes: number;
  transportCapBytes: number;
  /** SyncLimits.controlMessagesBurst: floods send this many plus 20. */
  controlBurst: number;
}

export class HostileFrames {
  /** Candidate frames replaced because they would have changed the document. */
  rerolled = 0;

  constructor(
    private readonly random: SeededRandom,
    private readonly options: HostileFramesOptions,
  ) {}

  /**
   * The fuzz plan: mixed sessions until they hold `mixedFrames` frames, the floods, and the
   * oversized messages, shuffled.
   */
  plan(mixedFrames: number, awarenessFloods: number, queryFloods: number): HostileSession[] {
    const sessions: HostileSession[] = [];
    for (let frames = 0; frames < mixedFrames; ) {
      const session = this.mixedSession();
      frames += session.frames.length;
      sessions.push(session);
    }
    for (let i = 0; i < awarenessFloods; i++) sessions.push(this.awarenessFlood());
    for (let i = 0; i < queryFloods; i++) sessions.push(this.queryFlood());
    for (let i = 0; i < 3; i++) sessions.push(this.oversized());
    sessions.push(this.transportOversized());
    for (let i = sessions.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [sessions[i], sessions[j]] = [sessions[j]!, sessions[i]!];
    }
    return sessions;
  }

  mixedSession(): HostileSession {
    const frames: HostileFrame[] = [];
    for (let i = this.random.int(4); i > 0; i--) {
      frames.push(this.random.next() < 0.15 ? this.unknownStructures() : { kind: 'awareness', data: this.awarenessChange() });
    }
    let reasons = [REASON_TEXT_FRAME];
    if (this.random.next() < 0.8) {
      const loud = this.loudFrame();
      frames.push(loud);
      if (loud.kind === 'random-bytes' || loud.kind === 'malformed-update') reasons = [REASON_MALFORMED, REASON_TEXT_FRAME];
      else if (loud.kind !== 'text-frame') reasons = [REASON_MALFORMED];
    }
    if (frames.at(-1)?.kind !== 'text-frame') frames.push(this.textFrame());
    return { name: 'mixed', frames, expected: { code: CLOSE_CODES.BAD_MESSAGE, reasons } };
  }

  awarenessFlood(): HostileSession {
    const clientId = 1 + this.random.int(2 ** 31);
    const frames: HostileFrame[] = [];
    for (let clock = 1; clock <= this.options.controlBurst + 20; clock++) {
      frames.push({ kind: 'awareness-flood', data: this.awarenessChange(clientId, clock) });
    }
    return { name: 'awareness-flood', frames, expected: { code: CLOSE_CODES.RATE_LIMITED, reasons: [REASON_RATE_LIMITED] } };
  }

  queryFlood(): HostileSession {
    const frames: HostileFrame[] = [];
    for (let i = 0; i < this.options.controlBurst + 20; i++) frames.push({ kind: 'query-flood', data: new Uint8Array([MESSAGE_QUERY_AWARENESS]) });
    return { name: 'query-flood', frames, expected: { code: CLOSE_CODES.RATE_LIMITED, reasons: [REASON_RATE_LIMITED] } };
  }

  oversized(): HostileSession {
    const { maxMessageBytes, transportCapBytes } = this.options;
    const size = maxMessageBytes + 1 + this.random.int(transportCapBytes - maxMessageBytes);
    return { name: 'oversized', frames: [{ kind: 'oversized', size }], expected: { code: CLOSE_CODES.TOO_LARGE, reasons: [] } };
  }

  transportOversized(): HostileSession {
    const size = this.options.transportCapBytes + 1 + this.random.int(1024 * 1024);
    return { name: 'transport-oversized', frames: [{ kind: 'transport-oversized', size }], expected: { code: 1009, reasons: [] } };
  }

  private loudFrame(): HostileFrame {
    switch (this.random.int(6)) {
      case 0: return this.harmless('random-bytes', () => this.random.bytes(1 + this.random.int(64)));
      case 1: return { kind: 'truncated-varint', data: this.truncatedVarint() };
      case 2: return { kind: 'wrong-type', data: this.wrongType() };
      case 3: return { kind: 'bad-state-vector', data: this.badStateVector() };
      case 4: return this.harmless('malformed-update', () => this.malformedUpdate());
      default: return this.textFrame();
    }
  }

  private textFrame(): HostileFrame {
    const text = this.random.next() < 0.5 ? this.random.word(40) : String.fromCharCode(...Array.from({ length: 1 + this.random.int(20) }, () => this.random.int(0xd7ff)));
    return { kind: 'text-frame', data: text };
  }

  /** A varint, or a length, that runs past the end of the frame. */
  private truncatedVarint(): Uint8Array {
    const continuation = () => Array.from({ length: 1 + this.random.int(8) }, () => 0x80 | this.random.int(128));
    switch (this.random.int(5)) {
      case 0: return Uint8Array.from(continuation());
      case 1: return Uint8Array.from([MESSAGE_SYNC, ...continuation()]);
      case 2: return Uint8Array.from([MESSAGE_SYNC, this.random.pick([SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE]), ...continuation()]);
      case 3: {
        const payload = this.random.bytes(this.random.int(16));
        return frame(new Writer().uint(MESSAGE_AWARENESS).uint(payload.length + 1 + this.random.int(1000)), payload);
      }
      default: {
        const payload = this.random.bytes(this.random.int(16));
        return frame(new Writer().uint(MESSAGE_SYNC).uint(SYNC_UPDATE).uint(payload.length + 1 + this.random.int(1000)), payload);
      }
    }
  }

  /** A message type or sync step the protocol does not have, or trailing bytes after a message. */
  private wrongType(): Uint8Array {
    const tail = this.random.bytes(this.random.int(16));
    switch (this.random.int(4)) {
      case 0: return frame(new Writer().uint(this.random.pick([2, 4, 5, 6, 7, 8, 127, 128, 300, 2 ** 20, 2 ** 40])), tail);
      case 1: return frame(new Writer().uint(MESSAGE_SYNC).uint(3 + this.random.int(1000)).array(tail));
      case 2: return Uint8Array.from([MESSAGE_QUERY_AWARENESS, ...tail, 0]);
      default: return frame(new Writer().uint(MESSAGE_SYNC).uint(SYNC_UPDATE).array(new Uint8Array([0, 0])), Uint8Array.from([...tail, 0]));
    }
  }

  /** Sync step 1 whose state vector announces more entries than it holds. */
  private badStateVector(): Uint8Array {
    const pairs = this.random.int(4);
    const sv = new Writer().uint(pairs + 1 + this.random.int(5));
    for (let i = 0; i < pairs; i++) sv.uint(this.random.int(2 ** 32)).uint(this.random.int(1000));
    return new Writer().uint(MESSAGE_SYNC).uint(SYNC_STEP1).array(sv.toBytes()).toBytes();
  }

  /** A real Yjs update with bytes flipped or cut, or random bytes, as a sync step 2 or update. */
  private malformedUpdate(): Uint8Array {
    let update: Uint8Array;
    if (this.random.next() < 0.2) {
      update = this.random.bytes(1 + this.random.int(48));
    } else {
      const doc = new Y.Doc();
      doc.clientID = this.bogusClientId();
      doc.getText(FILE_TEXT).insert(0, this.random.word(12));
      if (this.random.next() < 0.5) doc.getMap('meta').set(this.random.word(3), this.random.int(1000));
      update = Y.encodeStateAsUpdate(doc);
      doc.destroy();
      for (let flips = 1 + this.random.int(3); flips > 0; flips--) update[this.random.int(update.length)] = this.random.int(256);
      if (this.random.next() < 0.3) update = update.slice(0, this.random.int(update.length));
    }
    return syncMessage(this.random.pick([SYNC_STEP2, SYNC_UPDATE]), update);
  }

  /**
   * A valid Yjs update the server cannot apply: structs after a gap in their client's clock,
   * inserts whose origin is an item it never saw, or deletions of unknown items. Yjs keeps them
   * pending; the text never changes.
   */
  private unknownStructures(): HostileFrame {
    const update = (() => {
      switch (this.random.int(3)) {
        case 0: return this.updateAfterGap();
        case 1: return this.updateWithUnknownOrigin();
        default: return this.deletionOfUnknownItems();
      }
    })();
    return this.harmless('unknown-structures', () => syncMessage(this.random.pick([SYNC_STEP2, SYNC_UPDATE]), update));
  }

  private updateAfterGap(): Uint8Array {
    const doc = new Y.Doc();
    doc.clientID = this.bogusClientId();
    const type = this.random.next() < 0.7 ? doc.getText(FILE_TEXT) : doc.getMap(this.random.word(6));
    const edit = () => (type instanceof Y.Text ? type.insert(0, this.random.word(8)) : type.set(this.random.word(4), this.random.word(8)));
    edit();
    const gap = Y.encodeStateVector(doc);
    for (let i = 1 + this.random.int(3); i > 0; i--) edit();
    const update = Y.encodeStateAsUpdate(doc, gap);
    doc.destroy();
    return update;
  }

  private updateWithUnknownOrigin(): Uint8Array {
    const unseen = new Y.Doc();
    unseen.clientID = this.bogusClientId();
    unseen.getText(FILE_TEXT).insert(0, this.random.word(10) + 'xy');
    const author = new Y.Doc();
    author.clientID = this.bogusClientId();
    Y.applyUpdate(author, Y.encodeStateAsUpdate(unseen));
    const text = author.getText(FILE_TEXT);
    text.insert(1 + this.random.int(text.length - 1), this.random.word(8));
    const update = Y.encodeStateAsUpdate(author, Y.encodeStateVector(unseen));
    unseen.destroy();
    author.destroy();
    return update;
  }

  private deletionOfUnknownItems(): Uint8Array {
    const doc = new Y.Doc();
    doc.clientID = this.bogusClientId();
    const text = doc.getText(FILE_TEXT);
    text.insert(0, this.random.word(12) + 'xyz');
    text.delete(this.random.int(3), 1 + this.random.int(3));
    const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc)); // the delete set alone
    doc.destroy();
    return update;
  }

  /** A Yjs client id nobody uses: random 32-bit ones, and some far beyond 32 bits. */
  private bogusClientId(): number {
    return this.random.next() < 0.8 ? 1 + this.random.int(2 ** 32 - 1) : 2 ** 32 + this.random.int(2 ** 20) * 2 ** 21;
  }

  /** An awareness update that changes one state (a new client id, or a newer clock). */
  private awarenessChange(clientId = 1 + this.random.int(2 ** 31), clock = 1 + this.random.int(1000)): Uint8Array {
    const state = JSON.stringify({ user: { name: this.random.word(10), color: '#' + this.random.int(0xffffff).toString(16) }, cursor: this.random.int(1000) });
    const update = new Writer().uint(1).uint(clientId).uint(clock).string(state).toBytes();
    return new Writer().uint(MESSAGE_AWARENESS).array(update).toBytes();
  }

  /** Generates until the frame would not change the document (see the file comment). */
  private harmless(kind: FrameKind, generate: () => Uint8Array): HostileFrame {
    for (;;) {
      const data = generate();
      if (!this.changesDocument(data)) return { kind, data };
      this.rerolled++;
    }
  }

  /** Whether the server, decoding `data` as it does, would apply a change to the document. */
  private changesDocument(data: Uint8Array): boolean {
    const update = updateIn(data);
    if (!update) return false;
    const scratch = new Y.Doc();
    Y.applyUpdate(scratch, this.options.initialState);
    const before = Y.snapshot(scratch);
    try {
      Y.applyUpdate(scratch, update);
    } catch {
      // Yjs may have integrated a valid prefix before it threw: compared below.
    }
    const changed = !Y.equalSnapshots(before, Y.snapshot(scratch));
    scratch.destroy();
    return changed;
  }
}

/** Materializes a frame (oversized ones are allocated here, when sent). */
export function frameData(f: HostileFrame): Uint8Array | string {
  if ('data' in f) return f.data;
  const data = new Uint8Array(f.size);
  data.set([MESSAGE_SYNC, SYNC_UPDATE]);
  return data;
}

/** The update a frame carries if it decodes exactly as a sync step 2 or update, else null. */
function updateIn(data: Uint8Array): Uint8Array | null {
  try {
    const reader = new Reader(data);
    if (reader.uint() !== MESSAGE_SYNC) return null;
    const step = reader.uint();
    if (step !== SYNC_STEP2 && step !== SYNC_UPDATE) return null;
    const update = reader.array();
    return reader.done ? update : null;
  } catch {
    return null;
  }
}

function syncMessage(step: number, update: Uint8Array): Uint8Array {
  return new Writer().uint(MESSAGE_SYNC).uint(step).array(update).toBytes();
}

function frame(head: Writer, tail: Uint8Array = new Uint8Array()): Uint8Array {
  return Uint8Array.from([...head.toBytes(), ...tail]);
}


