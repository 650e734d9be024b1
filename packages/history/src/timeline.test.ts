import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { SeededRandom, testSeed } from '@tandem/protocol/testing';
import { BURST_GAP_MS, DocumentHistory, SPAN_WINDOW_MS, deletionKey, type HistoryChanges, type StoredHistory } from './DocumentHistory.ts';
import { decodeDeletions, deletedCount, encodeDeletions } from './deletionCodec.ts';
import { FileTimeline, SESSION_GAP_MS } from './timeline.ts';

/**
 * Two people edit concurrently (random delivery order) and an AI edit lands now and then; each
 * change reaches the server more than a span window after the previous one, so every change is
 * its own step. Ground truth: the server's text right after each change. The timeline is rebuilt
 * from a compacted copy of the document (deleted content gone) and the stored history.
 */
test('time travel: the text at every step equals the server text then, after compaction and a reload; steps carry their authors', () => {
  const seed = testSeed();
  const rng = new SeededRandom(seed);
  const server = new Y.Doc();
  const history = new DocumentHistory();
  server.on('afterTransaction', (t: Y.Transaction) => history.captureDeleted(t));
  const people = ['ana', 'bo'].map((userId) => {
    const doc = new Y.Doc();
    const outbox: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== 'server') outbox.push(u);
    });
    return { userId, doc, outbox };
  });
  let now = Date.UTC(2026, 0, 1);
  const truth: { at: number; text: string; author: string }[] = [];
  const rows: HistoryChanges[] = [];
  for (let step = 0; step < 400; step++) {
    const person = rng.pick(people);
    const text = person.doc.getText('t');
    const roll = rng.next();
    if (roll < 0.45) text.insert(rng.int(0, text.length), rng.pick(['x', 'yy', 'a\n', 'zzz']) + person.userId[0]);
    else if (roll < 0.7 && text.length > 0) {
      const at = rng.int(0, text.length - 1);
      text.delete(at, Math.min(rng.int(1, 5), text.length - at));
    } else if (roll < 0.95) {
      const update = person.outbox.shift();
      if (!update) continue;
      // A pause of more than a session gap now and then.
      now += rng.chance(0.05) ? SESSION_GAP_MS + 1 : SPAN_WINDOW_MS + rng.int(1, 1000);
      history.admit(update, server, person.userId);
      Y.applyUpdate(server, update, person);
      history.record(update, { userId: person.userId }, now);
      truth.push({ at: now, text: server.getText('t').toString(), author: person.userId });
      for (const other of people) if (other !== person) Y.applyUpdate(other.doc, update, 'server');
    } else {
      now += SPAN_WINDOW_MS + 1;
      const length = server.getText('t').length;
      const start = rng.int(0, length);
      const edit = history.attribute(1000 + step, { kind: 'ai', model: 'm', provider: 'p', requestedBy: 'ana', approvedBy: 'bo' }, now, (doc) => {
        const t = doc.getText('t');
        t.delete(start, Math.min(3, length - start));
        t.insert(start, 'AI');
      });
      const before = Y.encodeStateVector(server);
      server.transact(() => edit(server));
      const update = Y.encodeStateAsUpdate(server, before);
      truth.push({ at: now, text: server.getText('t').toString(), author: 'ai' });
      for (const p of people) Y.applyUpdate(p.doc, update, 'server');
    }
    if (rng.chance(0.1)) rows.push(history.takeDirty());
  }
  rows.push(history.takeDirty());

  const compacted = new Y.Doc();
  Y.applyUpdate(compacted, Y.encodeStateAsUpdate(server));
  const timeline = FileTimeline.build(compacted.getText('t'), new DocumentHistory(stored(rows)));
  try {
    assert.ok(truth.length > 100, `${truth.length} changes`);
    assert.equal(timeline.textAt(now), server.getText('t').toString());
    assert.equal(timeline.textAt(Infinity), server.getText('t').toString(), 'now');
    assert.equal(timeline.textAt(0), '');
    for (const { at, text, author } of truth) {
      assert.equal(timeline.textAt(at), text, `text at ${at}`);
      const step = timeline.steps.find((s) => s.at === at);
      // A change that only re-deleted what was gone, or deleted what it typed itself, leaves no step.
      if (step) assert.ok(step.authors.some((a) => (a.kind === 'person' ? a.userId : a.kind) === author), `author at ${at}`);
    }
    assert.ok(timeline.sessions.length > 1, 'pauses start sessions');
    for (const s of timeline.sessions) assert.ok(s.end - s.start >= 0 && s.fromStep <= s.toStep);
  } catch (error) {
    console.error(`replay with SEED=${seed}`);
    throw error;
  }
});

/** Rows as the database holds them: inserts by key, deletion batches encoded. */
function stored(changes: HistoryChanges[]): StoredHistory {
  const authors = new Map<number, StoredHistory['authors'] extends Iterable<infer A> ? A : never>();
  const inserts = new Map<string, HistoryChanges['inserts'][number]>();
  const deletions = new Map<string, { by: HistoryChanges['deletions'][number]['by']; at: number; data: Uint8Array }>();
  for (const c of changes) {
    for (const a of c.authors) authors.set(a.client, a);
    for (const s of c.inserts) inserts.set(`${s.client}:${s.from}`, s);
    for (const b of c.deletions) deletions.set(deletionKey(b), { by: b.by, at: b.at, data: encodeDeletions(b.spans) });
  }
  return {
    authors: authors.values(), inserts: inserts.values(),
    deletions: [...deletions.values()].map(({ by, at, data }) => ({ by, at, spans: decodeDeletions(data, at, by) })),
  };
}

test('deletions of one person within a minute are one batch, whatever their places', () => {
  const server = new Y.Doc();
  const history = new DocumentHistory();
  server.on('afterTransaction', (t: Y.Transaction) => history.captureDeleted(t));
  const alice = new Y.Doc();
  const send = (edit: () => void, at: number) => {
    const before = Y.encodeStateVector(alice);
    edit();
    const update = Y.encodeStateAsUpdate(alice, before);
    history.admit(update, server, 'alice');
    Y.applyUpdate(server, update);
    history.record(update, { userId: 'alice' }, at);
  };
  const text = alice.getText('t');
  send(() => text.insert(0, 'abcdefghij'), 0);
  history.takeDirty();
  send(() => text.delete(8, 1), 120_000);
  send(() => text.delete(5, 1), 125_000);
  send(() => text.delete(1, 1), 130_000);
  send(() => text.delete(0, 1), 200_000);
  const { deletions } = history.takeDirty();
  assert.deepEqual(deletions.map((b) => [b.at, b.spans.map((s) => s.text).join(',')]), [[120_000, 'i,f,b'], [200_000, 'a']]);
  const reloaded = decodeDeletions(encodeDeletions(deletions[0]!.spans), 120_000, { userId: 'alice' });
  assert.deepEqual(reloaded.map((s) => [s.from, s.to, s.text]), deletions[0]!.spans.map((s) => [s.from, s.to, s.text]));
  // Counted from the span list alone (what the project timeline reads), or a lower bound when cut.
  const encoded = encodeDeletions([{ client: 300, from: 5, to: 9, text: 'abcd' }, { client: 2 ** 31, from: 1, to: 3, text: 'ef' }]);
  assert.deepEqual(deletedCount(encoded), { chars: 6, exact: true });
  assert.deepEqual(deletedCount(encoded.subarray(0, 5)), { chars: 4, exact: false });
  assert.deepEqual(deletedCount(new Uint8Array()), { chars: 0, exact: false });
});

test('a pause of over BURST_GAP_MS ends a burst: typing and deleting after it are steps of their own, within the minute; without one they go on', () => {
  const server = new Y.Doc();
  const history = new DocumentHistory();
  server.on('afterTransaction', (t: Y.Transaction) => history.captureDeleted(t));
  const alice = new Y.Doc();
  const text = alice.getText('t');
  const truth: [number, string][] = [];
  const send = (edit: () => void, at: number) => {
    const before = Y.encodeStateVector(alice);
    edit();
    const update = Y.encodeStateAsUpdate(alice, before);
    history.admit(update, server, 'alice');
    Y.applyUpdate(server, update);
    history.record(update, { userId: 'alice' }, at);
    truth.push([at, server.getText('t').toString()]);
  };
  // Steady typing (a key every second): one burst. Then a pause; typing and deleting without a
  // pause (the deletions 6 s apart, typing between them); a pause, deleting.
  for (let i = 0; i < 6; i++) send(() => text.insert(i, 'abcdef'[i]!), i * 1000);
  send(() => text.insert(6, 'XY'), 5000 + BURST_GAP_MS + 1);
  send(() => text.delete(0, 1), 12_000);
  send(() => text.delete(0, 1), 13_000);
  send(() => text.insert(6, 'Z'), 16_000);
  send(() => text.delete(0, 1), 19_000);
  send(() => text.delete(0, 1), 19_000 + BURST_GAP_MS + 1);
  const timeline = FileTimeline.build(server.getText('t'), history);
  assert.deepEqual(timeline.steps.map((s) => [s.at, s.inserted, s.deleted]), [[0, 6, 0], [10_001, 3, 0], [12_000, 0, 3], [24_001, 0, 1]]);
  // A step shows its whole burst (later changes of the same span or batch included).
  assert.deepEqual(timeline.steps.map((s) => timeline.textAt(s.at)), ['abcdef', 'abcdefXYZ', 'defXYZ', 'efXYZ']);
  assert.equal(truth.at(-1)![1], 'efXYZ');
  const { inserts, deletions } = history.takeDirty();
  assert.deepEqual([inserts.length, deletions.length], [2, 2], 'one row per burst');
});
