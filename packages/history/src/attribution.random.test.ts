import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { isAppError } from '@tandem/protocol';
import { DocumentHistory, deletionKey, freshClientId, type DeletionBatch, type Deleter, type HistoryChanges, type Span } from './DocumentHistory.ts';
import { decodeDeletions, encodeDeletions } from './deletionCodec.ts';
import { charRuns } from './blame.ts';
import type { Author } from './authors.ts';
import { SeededRandom, testSeed } from '@tandem/protocol/testing';

/**
 * Three people edit one file concurrently through a server that applies the same pipeline as
 * production (admit → apply → record; server-side AI edits through `attribute`), with messages
 * delivered in random order and delay; a fourth user keeps trying to write under the others'
 * client ids. Ground truth comes from the actors themselves: each person types only letters of
 * their own alphabet (AI edits Greek) and notes the ids of what they insert and delete.
 */
const STEPS = Number(process.env.HISTORY_STEPS ?? 10_000);
const ALPHABETS = ['abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'бвгджзклмнпрстф'];
const AI_ALPHABET = 'αβγδεζηθικλμνξπρστυφχψω';
const PEOPLE = ['u0', 'u1', 'u2'];

interface Person {
  userId: string;
  doc: Y.Doc;
  /** Updates not yet delivered to the server, and from the server not yet delivered to this person. */
  outbox: Uint8Array[];
  inbox: Uint8Array[];
}

test(`attribution of every character equals the ground truth (${STEPS} seeded steps, 3 people + AI, concurrent, with forgers)`, () => {
  const seed = testSeed();
  const rng = new SeededRandom(seed);
  try {
    run(rng);
  } catch (error) {
    console.error(`replay with SEED=${seed}`);
    throw error;
  }
});

function run(rng: SeededRandom): void {
  const server = new Y.Doc();
  let history = new DocumentHistory();
  let now = Date.UTC(2026, 11, 7);
  /** Who inserted / may have deleted each character id, as the actors themselves know it. */
  const insertedBy = new Map<string, string>();
  const deletedBy = new Map<string, Set<string>>();
  const aiAuthors = new Map<number, Author>();
  /** The character each id inserted (to check the deleted text kept for time travel). */
  const charOf = new Map<string, string>();
  const stored = new FakeStore();
  let forgeries = 0;

  const people: Person[] = PEOPLE.map((userId) => join(userId));
  function join(userId: string): Person {
    const doc = new Y.Doc();
    const person: Person = { userId, doc, outbox: [], inbox: [] };
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server), 'server');
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== 'server') person.outbox.push(update);
    });
    doc.on('afterTransaction', (t: Y.Transaction) => {
      if (t.origin === 'server') return;
      for (const [client, items] of t.deleteSet.clients) {
        for (const item of items) for (let c = item.clock; c < item.clock + item.len; c++) noteDeleted(client, c, userId);
      }
    });
    return person;
  }
  function noteDeleted(client: number, clock: number, who: string): void {
    const key = `${client}:${clock}`;
    let set = deletedBy.get(key);
    if (!set) deletedBy.set(key, (set = new Set()));
    set.add(who);
  }
  const broadcast = (update: Uint8Array, except: Person | null) => {
    for (const p of people) if (p !== except) p.inbox.push(update);
  };
  server.on('afterTransaction', (t: Y.Transaction) => history.captureDeleted(t));
  server.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === 'ai') broadcast(update, null);
  });

  function deliverToServer(person: Person): void {
    const update = person.outbox.shift();
    if (!update) return;
    history.admit(update, server, person.userId); // honest people are never refused
    Y.applyUpdate(server, update, person);
    history.record(update, { userId: person.userId }, now);
    broadcast(update, person);
  }

  for (let step = 0; step < STEPS; step++) {
    now += rng.int(0, 20_000);
    const roll = rng.next();
    const person = rng.pick(people);
    const text = person.doc.getText('t');
    if (roll < 0.3) {
      const alphabet = ALPHABETS[PEOPLE.indexOf(person.userId)]!;
      let s = '';
      for (let i = rng.int(1, 6); i > 0; i--) s += rng.chance(0.1) ? '\n' : alphabet[rng.int(0, alphabet.length - 1)];
      const clock = Y.getState(person.doc.store, person.doc.clientID);
      for (let i = 0; i < s.length; i++) {
        insertedBy.set(`${person.doc.clientID}:${clock + i}`, person.userId);
        charOf.set(`${person.doc.clientID}:${clock + i}`, s[i]!);
      }
      text.insert(rng.int(0, text.length), s);
    } else if (roll < 0.45) {
      if (text.length > 0) {
        const at = rng.int(0, text.length - 1);
        text.delete(at, Math.min(rng.int(1, 4), text.length - at));
      }
    } else if (roll < 0.7) {
      for (let i = rng.int(1, 4); i > 0; i--) deliverToServer(person);
    } else if (roll < 0.95) {
      for (let i = rng.int(1, 6); i > 0 && person.inbox.length > 0; i--) Y.applyUpdate(person.doc, person.inbox.shift()!, 'server');
    } else if (roll < 0.975) {
      aiEdit();
    } else if (roll < 0.99) {
      forge();
    } else if (roll < 0.995) {
      // A person reloads the page: pending edits are sent first, then a new Y.Doc (new client id) joins.
      while (person.outbox.length > 0) deliverToServer(person);
      person.doc.destroy();
      people[people.indexOf(person)] = join(person.userId);
    } else {
      // A restart: history is reloaded from what was persisted; the server document from a snapshot.
      stored.save(history.takeDirty());
      history = new DocumentHistory(stored.load());
    }
  }
  for (const p of people) while (p.outbox.length > 0) deliverToServer(p);
  for (const p of people) while (p.inbox.length > 0) Y.applyUpdate(p.doc, p.inbox.shift()!, 'server');

  const expected = server.getText('t').toString();
  for (const p of people) assert.equal(p.doc.getText('t').toString(), expected, 'everyone converged');
  assert.ok(expected.length > 200, `the test wrote something (${expected.length} chars)`);
  assert.ok(forgeries > 20, `forgeries were attempted (${forgeries})`);

  // Attribution is read back from what was persisted, against a compacted copy of the document.
  stored.save(history.takeDirty());
  const reloaded = new DocumentHistory(stored.load());
  const compacted = new Y.Doc();
  Y.applyUpdate(compacted, Y.encodeStateAsUpdate(server));
  let checked = 0;
  let ai = 0;
  for (const r of charRuns(compacted.getText('t'))) {
    for (let offset = r.start; offset < r.end; offset++) {
      const clock = r.clock + offset - r.start;
      const char = expected[offset]!;
      const author = reloaded.authorOf(r.client);
      assert.ok(author, `character ${offset} (${char}) has an author`);
      assert.ok(reloaded.insertedAt(r.client, clock), `character ${offset} has a time`);
      const truth = insertedBy.get(`${r.client}:${clock}`);
      if (truth?.startsWith('ai:')) {
        ai++;
        assert.ok(char === '\n' || AI_ALPHABET.includes(char), `${char} was written by the AI`);
        assert.deepEqual(author, aiAuthors.get(Number(truth.slice(3))), `AI character ${offset}: model, requester, approver`);
      } else {
        assert.equal(author.kind === 'person' && author.userId, truth, `character ${offset} (${char})`);
        if (char !== '\n') assert.equal(truth, PEOPLE[ALPHABETS.findIndex((a) => a.includes(char))], `alphabet of ${char}`);
      }
      checked++;
    }
  }
  assert.ok(ai > 0, 'some AI text survived');
  // Every deleted character names one of the actors that deleted it.
  let deletions = 0;
  for (const [client, structs] of server.store.clients) {
    for (const struct of structs) {
      if (!(struct instanceof Y.Item) || !struct.deleted) continue;
      for (let clock = struct.id.clock; clock < struct.id.clock + struct.length; clock++) {
        const span = reloaded.deletedBy(client, clock);
        assert.ok(span, `deletion of ${client}:${clock} is recorded`);
        const by = deleterName(span.by, reloaded);
        assert.ok(deletedBy.get(`${client}:${clock}`)?.has(by), `${client}:${clock} deleted by ${by}`);
        assert.equal(span.text[clock - span.from], charOf.get(`${client}:${clock}`), `deleted text of ${client}:${clock} is kept`);
        deletions++;
      }
    }
  }
  assert.ok(checked === expected.length && deletions > 100, `checked ${checked} characters, ${deletions} deletions`);

  function aiEdit(): void {
    const text = server.getText('t');
    const start = rng.int(0, text.length);
    const length = Math.min(rng.int(0, 8), text.length - start);
    const requester = rng.pick(PEOPLE);
    const approver = rng.pick(PEOPLE);
    const client = freshClientId(server, () => rng.int(0, 0xffffffff));
    const author: Author = { kind: 'ai', model: 'm', provider: 'p', requestedBy: requester, approvedBy: approver, suggestionId: `s${client}` };
    aiAuthors.set(client, author);
    for (const r of charRuns(text)) {
      for (let o = Math.max(r.start, start); o < Math.min(r.end, start + length); o++) noteDeleted(r.client, r.clock + o - r.start, `ai:${client}`);
    }
    let s = '';
    for (let i = rng.int(1, 12); i > 0; i--) s += rng.chance(0.1) ? '\n' : AI_ALPHABET[rng.int(0, AI_ALPHABET.length - 1)];
    for (let i = 0; i < s.length; i++) {
      insertedBy.set(`${client}:${i}`, `ai:${client}`);
      charOf.set(`${client}:${i}`, s[i]!);
    }
    const edit = history.attribute(client, author, now, (doc) => {
      const t = doc.getText('t');
      if (length > 0) t.delete(start, length);
      t.insert(start, s);
    });
    server.transact(() => edit(server), 'ai');
  }

  /** A hostile user writes under a person's or the AI's client id; the server refuses it whole. */
  function forge(): void {
    const owned = [...server.store.clients.keys()].filter((c) => history.authorOf(c) !== null);
    if (owned.length === 0) return;
    const victim = rng.pick(owned);
    const mallory = new Y.Doc();
    Y.applyUpdate(mallory, Y.encodeStateAsUpdate(server));
    mallory.clientID = victim;
    const sv = Y.encodeStateVector(mallory);
    mallory.getText('t').insert(0, 'FORGED');
    const update = Y.encodeStateAsUpdate(mallory, sv);
    const serverBefore = Y.encodeStateVector(server);
    assert.throws(() => history.admit(update, server, 'mallory'), (e) => isAppError(e) && e.code === 'FORBIDDEN');
    assert.deepEqual(Y.encodeStateVector(server), serverBefore, 'nothing applied');
    forgeries++;
    mallory.destroy();
  }
}

function deleterName(by: Deleter, history: DocumentHistory): string {
  if ('userId' in by) return by.userId;
  assert.equal(history.authorOf(by.client)?.kind, 'ai');
  return `ai:${by.client}`;
}

/** Stands in for the database: rows upserted by key, as the Prisma tables are. */
class FakeStore {
  readonly authors = new Map<number, Author>();
  readonly inserts = new Map<string, Span>();
  /** Deletion batches as their rows hold them: deleter, time and the encoded spans. */
  readonly deletions = new Map<string, { by: Deleter; at: number; data: Uint8Array }>();

  save(changes: HistoryChanges): void {
    for (const { client, author } of changes.authors) this.authors.set(client, structuredClone(author));
    for (const s of changes.inserts) this.inserts.set(`${s.client}:${s.from}`, { ...s });
    for (const b of changes.deletions) this.deletions.set(deletionKey(b), { by: b.by, at: b.at, data: encodeDeletions(b.spans) });
  }

  load() {
    return {
      authors: [...this.authors].map(([client, author]) => ({ client, author })),
      inserts: this.inserts.values(),
      deletions: [...this.deletions.values()].map(({ by, at, data }): DeletionBatch => ({ by, at, spans: decodeDeletions(data, at, by) })),
    };
  }
}
