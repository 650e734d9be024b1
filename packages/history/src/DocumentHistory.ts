import * as Y from 'yjs';
import { AppError } from '@tandem/protocol';
import { ownerOf, type Author } from './authors.ts';

/** Consecutive writes of one client id within this window share one span (and one time)... */
export const SPAN_WINDOW_MS = 60_000;
/** ...unless they pause longer than this: a span (and a deletion batch) is one burst of typing, one step of time travel. */
export const BURST_GAP_MS = 5_000;

/** Clocks [from, to) of one client id, written (or deleted) at `at` (ms since epoch, coarse: see SPAN_WINDOW_MS). */
export interface Span {
  client: number;
  from: number;
  to: number;
  at: number;
}

/** Who deleted: a person's user id, or the client id of the server-side change that did. */
export type Deleter = { userId: string } | { client: number };

export interface DeletionSpan extends Span {
  by: Deleter;
  /** The characters deleted (to - from of them; U+0000 where unknown: deleted before their text was kept). */
  text: string;
}

/**
 * Everything one deleter deleted in one window of SPAN_WINDOW_MS from `at`: one stored row
 * (scattered deletions of a minute cost one row, not one each). Its spans all have this `at`.
 */
export interface DeletionBatch {
  by: Deleter;
  at: number;
  spans: DeletionSpan[];
}

/**
 * What changed since the last `takeDirty`, to write as upserts: insert spans keyed by
 * (client, from), deletion batches by (deleter, at) (see deletionKey), each whole.
 */
export interface HistoryChanges {
  authors: { client: number; author: Author }[];
  inserts: Span[];
  deletions: DeletionBatch[];
}

/**
 * An update as `Y.decodeUpdate` reads it. A server that already decoded a client's update passes
 * this form to `admit` and `record`, so the update is not read again; both also take the bytes.
 */
export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>;

export interface StoredHistory {
  authors: Iterable<{ client: number; author: Author }>;
  inserts: Iterable<Span>;
  /** Batches; a lone span (stored before batches existed) is kept as it is and never grows. */
  deletions: Iterable<DeletionBatch | (DeletionSpan & { spans?: undefined })>;
}

/** A deletion batch's row key. */
export function deletionKey(batch: { by: Deleter; at: number }): string {
  return `${'userId' in batch.by ? `u:${batch.by.userId}` : `c:${batch.by.client}`}@${batch.at}`;
}

/** Deleted characters captured at most (per document) while waiting for their change to be recorded. */
const PENDING_TEXT_CAP = 1 << 20;

/**
 * Authorship of one document, by Yjs item id: every struct a client id writes belongs to that
 * client id's author (claimed by the first connection that writes under it, or given by the server
 * for its own changes), and every deletion to whoever's update deleted it first. Times are kept
 * per span of consecutive clocks. Pure: the caller passes times and persists `takeDirty()`.
 */
export class DocumentHistory {
  readonly #authors = new Map<number, Author>();
  /** Owner of each client id (see ownerOf), including ids the server used with no author yet known. */
  readonly #owners = new Map<number, string>();
  readonly #inserts = new Map<number, Span[]>();
  readonly #deletions = new Map<number, DeletionSpan[]>();
  /** Deletion batches by deletionKey; the batch each span grows in. */
  readonly #batches = new Map<string, DeletionBatch>();
  readonly #batchOf = new WeakMap<DeletionSpan, DeletionBatch>();
  /** Per deleter, the batch new deletions go to while its window is open. */
  readonly #openBatch = new Map<string, DeletionBatch>();
  /** Text of characters deleted by transactions not recorded yet: client → clock → character. */
  #pendingText = new Map<number, Map<number, string>>();
  #pendingChars = 0;
  readonly #captured = new WeakSet<Y.Transaction>();
  /** When each writer (deletionKey of its Deleter, time 0) last changed this document (this process only). */
  readonly #lastActive = new Map<string, number>();
  #dirtyAuthors = new Set<number>();
  #dirtySpans = new Set<Span>();
  #dirtyBatches = new Set<DeletionBatch>();
  #revision = 0;

  constructor(stored?: StoredHistory) {
    if (!stored) return;
    for (const { client, author } of stored.authors) {
      this.#authors.set(client, author);
      this.#owners.set(client, ownerOf(author));
    }
    for (const span of stored.inserts) listOf(this.#inserts, span.client).push({ ...span });
    for (const row of stored.deletions) {
      if (!row.spans) {
        listOf(this.#deletions, row.client).push({ ...row });
        continue;
      }
      const batch: DeletionBatch = { by: row.by, at: row.at, spans: row.spans.map((s) => ({ ...s })) };
      this.#batches.set(deletionKey(batch), batch);
      for (const span of batch.spans) {
        this.#batchOf.set(span, batch);
        listOf(this.#deletions, span.client).push(span);
      }
    }
    for (const spans of [...this.#inserts.values(), ...this.#deletions.values()]) spans.sort((a, b) => a.from - b.from);
  }

  authorOf(client: number): Author | null {
    return this.#authors.get(client) ?? null;
  }

  /** Span containing `clock` of `client` (its time), or null. */
  insertedAt(client: number, clock: number): Span | null {
    return findSpan(this.#inserts.get(client), clock);
  }

  deletedBy(client: number, clock: number): DeletionSpan | null {
    return findSpan(this.#deletions.get(client), clock);
  }

  get size(): { authors: number; inserts: number; deletions: number } {
    let inserts = 0;
    let deletions = 0;
    for (const s of this.#inserts.values()) inserts += s.length;
    for (const s of this.#deletions.values()) deletions += s.length;
    return { authors: this.#authors.size, inserts, deletions };
  }

  /** Grows with every recorded change (callers cache what they compute from it). */
  get revision(): number {
    return this.#revision;
  }

  /**
   * Keeps the text a transaction deletes, for time travel: call it from the document's
   * 'afterTransaction' (before Yjs drops deleted content). `record` stores it with the deletion.
   */
  captureDeleted(transaction: Y.Transaction): void {
    if (this.#captured.has(transaction)) return;
    this.#captured.add(transaction);
    const { store } = transaction.doc;
    for (const [client, ranges] of transaction.deleteSet.clients) {
      const structs = store.clients.get(client);
      if (!structs) continue;
      let chars = this.#pendingText.get(client);
      for (const { clock, len } of ranges) {
        for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
          const struct = structs[i]!;
          if (struct.id.clock >= clock + len) break;
          if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentString)) continue;
          const { str } = struct.content;
          if (!chars) this.#pendingText.set(client, (chars = new Map()));
          for (let c = Math.max(clock, struct.id.clock); c < Math.min(clock + len, struct.id.clock + struct.length); c++) {
            chars.set(c, str[c - struct.id.clock]!);
            this.#pendingChars++;
          }
        }
      }
    }
    if (this.#pendingChars > PENDING_TEXT_CAP) this.#dropPending();
  }

  /** Drops captured text of a change this node does not record (another node's). */
  discardDeleted(update: Uint8Array): void {
    this.#revision++;
    for (const [client, items] of Y.decodeUpdate(update).ds.clients) {
      for (const item of items) this.#takeText(client, item.clock, item.clock + item.len);
    }
  }

  /**
   * Vets a person's update before it is applied to `doc`: structs it adds under a client id must
   * be under that person's own ids, or under ids nobody owns yet (which become theirs). Structs
   * the document already has are fine whoever wrote them (honest clients relay everyone's).
   * Throws FORBIDDEN, claiming nothing, when it would write under someone else's id, and
   * BAD_INPUT when its structs cannot be read.
   */
  admit(update: Uint8Array | DecodedUpdate, doc: Y.Doc, userId: string): void {
    const owner = `user:${userId}`;
    let decoded: DecodedUpdate;
    try {
      decoded = decode(update);
    } catch (error) {
      // Refused here, not left to Yjs: it would integrate the valid part before the bad bytes.
      throw new AppError('BAD_INPUT', 'Malformed message.', String(error));
    }
    const { from, to } = clockRanges(decoded);
    const claims: number[] = [];
    for (const [client, end] of to) {
      if (end <= Math.max(from.get(client) ?? 0, Y.getState(doc.store, client))) continue;
      const current = this.#owners.get(client);
      if (current === undefined) claims.push(client);
      else if (current !== owner) throw new AppError('FORBIDDEN', 'This change writes under another author\'s identity.', `client ${client}`);
    }
    for (const client of claims) this.#claim(client, { kind: 'person', userId });
  }

  /**
   * Records a change already applied and durable: the clocks it added (under the authors claimed
   * for them; `claimAs` claims the client ids nobody owns yet) and what it deleted. `deleter`: the
   * person who sent it, or the server change's client id.
   */
  record(update: Uint8Array | DecodedUpdate, deleter: Deleter, at: number, claimAs?: Author): void {
    this.#revision++;
    const { structs, ds } = decode(update);
    // A pause of the writer over BURST_GAP_MS ends its spans and batches: the next change starts new ones.
    const who = deletionKey({ by: deleter, at: 0 });
    const burst = at - (this.#lastActive.get(who) ?? -Infinity) <= BURST_GAP_MS;
    this.#lastActive.set(who, at);
    for (const struct of structs) {
      if (struct instanceof Y.Skip) continue;
      const client = struct.id.client;
      if (claimAs && !this.#authors.has(client) && (this.#owners.get(client) ?? ownerOf(claimAs)) === ownerOf(claimAs)) this.#claim(client, claimAs);
      this.#inserted(struct.id.client, struct.id.clock, struct.id.clock + struct.length, at, burst);
    }
    for (const [client, items] of ds.clients) {
      for (const item of items) this.#deleted(client, item.clock, item.clock + item.len, deleter, at, burst);
    }
  }

  /**
   * Wraps a server-side edit (a synchronous function run inside one Yjs transaction on `doc`) so
   * that it writes under `client` (a client id nobody used in this document: see freshClientId)
   * and everything it inserts and deletes is attributed to `author` at time `at`.
   */
  attribute(client: number, author: Author, at: number, edit: (doc: Y.Doc) => void): (doc: Y.Doc) => void {
    return (doc) => {
      const previous = doc.clientID;
      doc.clientID = client;
      try {
        edit(doc);
      } finally {
        doc.clientID = previous;
        this.#revision++;
        // Still inside the transaction: its delete set is complete, the edit being all of it.
        const transaction = doc._transaction;
        if (transaction) this.captureDeleted(transaction);
        const end = Y.getState(doc.store, client);
        const deleted = transaction !== null && transaction.deleteSet.clients.size > 0;
        if (end > 0 || deleted) this.#claim(client, author);
        if (end > 0) this.#inserted(client, 0, end, at, true);
        if (transaction) {
          for (const [c, items] of transaction.deleteSet.clients) {
            for (const item of items) this.#deleted(c, item.clock, item.clock + item.len, { client }, at, true);
          }
        }
      }
    };
  }

  /** Marks client ids as the server's (another node's changes, the server's own id): no person may claim them. */
  reserve(clients: Iterable<number>): void {
    for (const client of clients) if (!this.#owners.has(client)) this.#owners.set(client, 'server');
  }

  /** Marks a person's client ids seen in a change another node accepted (the other node persists them). */
  adopt(update: Uint8Array, userId: string): void {
    for (const client of writtenClients(update)) {
      if (!this.#owners.has(client)) {
        this.#owners.set(client, `user:${userId}`);
        this.#authors.set(client, { kind: 'person', userId });
      }
    }
  }

  /** Authors claimed since the last `takeDirty` (worth persisting at once: they decide who may write). */
  get pendingAuthors(): number {
    return this.#dirtyAuthors.size;
  }

  takeDirty(): HistoryChanges {
    const authors = [...this.#dirtyAuthors].map((client) => ({ client, author: this.#authors.get(client)! }));
    const inserts = [...this.#dirtySpans].map((s) => ({ ...s }));
    const deletions = [...this.#dirtyBatches].map((b) => ({ by: b.by, at: b.at, spans: b.spans.map((s) => ({ ...s })) }));
    this.#dirtyAuthors = new Set();
    this.#dirtySpans = new Set();
    this.#dirtyBatches = new Set();
    return { authors, inserts, deletions };
  }

  /** Marks what `takeDirty` returned as pending again (it could not be stored). */
  restoreDirty(changes: HistoryChanges): void {
    for (const { client } of changes.authors) this.#dirtyAuthors.add(client);
    for (const s of changes.inserts) {
      const span = findSpan(this.#inserts.get(s.client), s.from);
      if (span) this.#dirtySpans.add(span);
    }
    for (const b of changes.deletions) {
      const batch = this.#batches.get(deletionKey(b));
      if (batch) this.#dirtyBatches.add(batch);
    }
  }

  /** Every deletion span of a client id, sorted by clock (for time travel). */
  deletionsOf(client: number): readonly DeletionSpan[] {
    return this.#deletions.get(client) ?? [];
  }

  /** Every insertion span of a client id, sorted by clock. */
  insertsOf(client: number): readonly Span[] {
    return this.#inserts.get(client) ?? [];
  }

  #takeText(client: number, from: number, to: number): string {
    const chars = this.#pendingText.get(client);
    let text = '';
    for (let c = from; c < to; c++) {
      const char = chars?.get(c);
      text += char ?? '\0';
      if (char !== undefined) {
        chars!.delete(c);
        this.#pendingChars--;
      }
    }
    if (chars?.size === 0) this.#pendingText.delete(client);
    return text;
  }

  #dropPending(): void {
    this.#pendingText = new Map();
    this.#pendingChars = 0;
  }

  #claim(client: number, author: Author): void {
    if (this.#authors.has(client)) return;
    this.#authors.set(client, author);
    this.#owners.set(client, ownerOf(author));
    this.#dirtyAuthors.add(client);
  }

  /** `burst`: the writer did not pause over BURST_GAP_MS before this change (else it starts new spans). */
  #inserted(client: number, from: number, to: number, at: number, burst: boolean): void {
    const spans = listOf(this.#inserts, client);
    for (const [a, b] of uncovered(spans, from, to)) {
      const last = spans[spans.length - 1];
      if (last && last.to === a && burst && open(last, at)) {
        last.to = b;
        this.#dirtySpans.add(last);
        continue;
      }
      const span = { client, from: a, to: b, at };
      insertSorted(spans, span);
      this.#dirtySpans.add(span);
    }
  }

  #deleted(client: number, from: number, to: number, by: Deleter, at: number, burst: boolean): void {
    const spans = listOf(this.#deletions, client);
    for (const [a, b] of uncovered(spans, from, to)) {
      const text = this.#takeText(client, a, b);
      const joins = (s: DeletionSpan | null): s is DeletionSpan => s !== null && this.#batchOf.has(s) && sameDeleter(s.by, by) && burst && open(this.#batchOf.get(s)!, at);
      const before = findSpan(spans, a - 1);
      if (before?.to === a && joins(before)) {
        before.to = b;
        before.text += text;
        this.#dirtyBatches.add(this.#batchOf.get(before)!);
        continue;
      }
      const after = findSpan(spans, b);
      if (after?.from === b && joins(after)) {
        after.from = a;
        after.text = text + after.text;
        this.#dirtyBatches.add(this.#batchOf.get(after)!);
        continue;
      }
      const batch = this.#batchFor(by, at, burst);
      const span = { client, from: a, to: b, at: batch.at, by, text };
      insertSorted(spans, span);
      batch.spans.push(span);
      this.#batchOf.set(span, batch);
      this.#dirtyBatches.add(batch);
    }
  }

  /** The deleter's batch whose window is still open at `at` (in a burst), or a new one. */
  #batchFor(by: Deleter, at: number, burst: boolean): DeletionBatch {
    const who = deletionKey({ by, at: 0 });
    const current = this.#openBatch.get(who);
    if (current && burst && open(current, at)) return current;
    const batch: DeletionBatch = { by, at, spans: [] };
    const key = deletionKey(batch);
    const existing = this.#batches.get(key);
    if (existing) return existing;
    this.#batches.set(key, batch);
    this.#openBatch.set(who, batch);
    return batch;
  }
}

/** Whether a span or batch started at `row.at` may still grow at `at` (within its window). */
function open(row: Span | DeletionBatch, at: number): boolean {
  return at >= row.at && at - row.at < SPAN_WINDOW_MS;
}

function listOf<T extends Span>(map: Map<number, T[]>, client: number): T[] {
  let list = map.get(client);
  if (!list) map.set(client, (list = []));
  return list;
}

/** Binary search over spans sorted by `from`, non-overlapping. */
function findSpan<T extends Span>(spans: readonly T[] | undefined, clock: number): T | null {
  if (!spans) return null;
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = spans[mid]!;
    if (clock < s.from) hi = mid - 1;
    else if (clock >= s.to) lo = mid + 1;
    else return s;
  }
  return null;
}

/** Parts of [from, to) that no span covers yet (the first record of a clock wins; repeats are relays). */
function uncovered(spans: readonly Span[], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let cursor = from;
  // Spans are sorted and disjoint: start at the first that may overlap.
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.to <= from) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < spans.length && cursor < to; i++) {
    const s = spans[i]!;
    if (s.from >= to) break;
    if (s.from > cursor) out.push([cursor, s.from]);
    cursor = Math.max(cursor, s.to);
  }
  if (cursor < to) out.push([cursor, to]);
  return out;
}

function insertSorted<T extends Span>(spans: T[], span: T): void {
  let i = spans.length;
  while (i > 0 && spans[i - 1]!.from > span.from) i--;
  spans.splice(i, 0, span);
}

function sameDeleter(a: Deleter, b: Deleter): boolean {
  return 'userId' in a ? 'userId' in b && a.userId === b.userId : 'client' in b && a.client === b.client;
}

/** A client id not used in `doc` yet, from the caller's source of random 32-bit integers. */
export function freshClientId(doc: Y.Doc, random: () => number): number {
  for (;;) {
    const id = random() >>> 0;
    if (id !== 0 && id !== doc.clientID && !doc.store.clients.has(id)) return id;
  }
}

function decode(update: Uint8Array | DecodedUpdate): DecodedUpdate {
  return update instanceof Uint8Array ? Y.decodeUpdate(update) : update;
}

/** Per client id, the first clock an update's structs start at and the clock after its last (as Y.parseUpdateMeta). */
function clockRanges({ structs }: DecodedUpdate): { from: Map<number, number>; to: Map<number, number> } {
  const from = new Map<number, number>();
  const to = new Map<number, number>();
  for (const struct of structs) {
    const { client, clock } = struct.id;
    if (!from.has(client)) from.set(client, clock);
    to.set(client, clock + struct.length);
  }
  return { from, to };
}

/** Client ids an update writes structs under. */
export function writtenClients(update: Uint8Array): Iterable<number> {
  return Y.parseUpdateMeta(update).to.keys();
}
