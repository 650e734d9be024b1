import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { SeededRandom, testSeed } from '@tandem/protocol/testing';
import type { Author } from './authors.ts';
import { DocumentHistory } from './DocumentHistory.ts';
import { FileTimeline, SESSION_GAP_MS } from './timeline.ts';
import { PROJECT_BURST_MS, ProjectTimeline } from './projectTimeline.ts';

const ana: Author = { kind: 'person', userId: 'ana' };
const bo: Author = { kind: 'person', userId: 'bo' };
const ai: Author = { kind: 'ai', model: 'm', provider: 'p', requestedBy: 'ana', approvedBy: 'bo' };
const nameOf = (a: Author) => (a.kind === 'person' ? a.userId : a.kind);

/**
 * Three files; two people and an AI change them in turn (each change under a client id of its
 * own, so it is exactly one file step), seconds apart and now and then after a long pause.
 * Ground truth: every file's text after each change. The project timeline is built from the
 * files' FileTimelines (each rebuilt from a compacted copy): every step's files, authors and
 * bounds match the bursts of the changes, and every file viewed at every step equals the truth.
 */
test('project time travel: steps are bursts of one author across files; every file at every step equals the truth then', () => {
  const seed = testSeed();
  const rng = new SeededRandom(seed);
  const files = ['a.js', 'b.js', 'c.md'].map((name) => {
    const doc = new Y.Doc();
    const history = new DocumentHistory();
    doc.on('afterTransaction', (t: Y.Transaction) => history.captureDeleted(t));
    return { name, doc, history };
  });
  let now = Date.UTC(2026, 0, 1);
  let client = 1000;
  const changes: { at: number; file: string; author: Author; texts: Map<string, string> }[] = [];
  for (let i = 0; i < 300; i++) {
    const author = rng.chance(0.6) && changes.length > 0 ? changes[changes.length - 1]!.author : rng.pick([ana, bo, ai]);
    const file = rng.pick(files);
    now += rng.chance(0.04) ? SESSION_GAP_MS + rng.int(1, 60_000) : rng.int(1, 4000);
    const text = file.doc.getText('t');
    const deleteAt = rng.int(0, text.length);
    const deleteCount = Math.min(rng.int(0, 4), text.length - deleteAt);
    const insert = rng.pick(['x', 'yy\n', `${nameOf(author)} `]);
    const edit = file.history.attribute(client++, author, now, (doc) => {
      const t = doc.getText('t');
      if (deleteCount > 0) t.delete(deleteAt, deleteCount);
      t.insert(deleteAt, insert);
    });
    file.doc.transact(() => edit(file.doc));
    changes.push({ at: now, file: file.name, author, texts: new Map(files.map((f) => [f.name, f.doc.getText('t').toString()])) });
  }

  const timelines = new Map(files.map((f) => {
    const compacted = new Y.Doc();
    Y.applyUpdate(compacted, Y.encodeStateAsUpdate(f.doc));
    return [f.name, FileTimeline.build(compacted.getText('t'), f.history)];
  }));
  const project = ProjectTimeline.fromFiles(timelines);

  // The bursts, from the changes themselves.
  const bursts: { start: number; at: number; author: Author; files: Set<string> }[] = [];
  for (const c of changes) {
    const last = bursts[bursts.length - 1];
    if (last && last.author === c.author && c.at - last.start <= PROJECT_BURST_MS) {
      last.at = c.at;
      last.files.add(c.file);
    } else bursts.push({ start: c.at, at: c.at, author: c.author, files: new Set([c.file]) });
  }
  try {
    assert.ok(bursts.length < changes.length && bursts.some((b) => b.files.size > 1), 'some bursts span changes and files');
    assert.deepEqual(
      project.steps.map((s) => [s.start, s.at, s.authors.map(nameOf), s.files.map((f) => f.file).sort()]),
      bursts.map((b) => [b.start, b.at, [nameOf(b.author)], [...b.files].sort()]),
    );
    for (const step of project.steps) {
      const truth = changes.filter((c) => c.at <= step.at).at(-1)!.texts;
      for (const [name, timeline] of timelines) assert.equal(timeline.textAt(step.at), truth.get(name), `${name} at ${step.at}`);
      for (const f of step.files) assert.ok(f.inserted > 0 && f.authors.length === 1);
    }
    const pauses = changes.filter((c, i) => i > 0 && c.at - changes[i - 1]!.at > SESSION_GAP_MS).length;
    assert.equal(project.sessions.length, pauses + 1, 'a long pause starts a session');
    assert.equal(project.sessions.at(-1)!.toStep, project.steps.length - 1);
    for (const s of project.sessions) {
      const inside = project.steps.slice(s.fromStep, s.toStep + 1);
      assert.deepEqual(new Set(s.files), new Set(inside.flatMap((st) => st.files.map((f) => f.file))));
      assert.equal(s.start, inside[0]!.start);
      assert.equal(s.end, inside.at(-1)!.at);
    }
    const middle = project.steps[Math.floor(project.steps.length / 2)]!;
    assert.equal(project.stepAt(middle.at), project.steps.indexOf(middle));
    assert.equal(project.stepAt(middle.at - 1), project.steps.indexOf(middle) - 1);
    assert.equal(project.stepAt(0), -1);
  } catch (error) {
    console.error(`replay with SEED=${seed}`);
    throw error;
  }
});

test('a project step keeps per file what was inserted and deleted, and changes that did nothing are left out', () => {
  const timeline = ProjectTimeline.build([
    { file: 'b', at: 10, inserted: 3, deleted: 0, authors: [ana] },
    { file: 'a', at: 10, inserted: 0, deleted: 2, authors: [ana] },
    { file: 'a', at: 12, inserted: 5, deleted: 1, authors: [ana] },
    { file: 'a', at: 13, inserted: 0, deleted: 0, authors: [bo] },
    { file: 'a', at: 14, inserted: 1, deleted: 0, authors: [bo] },
  ]);
  assert.deepEqual(timeline.steps, [
    { start: 10, at: 12, authors: [ana], files: [{ file: 'a', inserted: 5, deleted: 3, authors: [ana] }, { file: 'b', inserted: 3, deleted: 0, authors: [ana] }] },
    { start: 14, at: 14, authors: [bo], files: [{ file: 'a', inserted: 1, deleted: 0, authors: [bo] }] },
  ]);
  assert.deepEqual(timeline.sessions, [{ fromStep: 0, toStep: 1, start: 10, end: 14, authors: [ana, bo], files: ['a', 'b'] }]);
});

/**
 * `building` sorts tens of thousands of changes in pieces (runs, then merges, yielding between
 * them): the result equals building from the changes sorted at once by `Array.prototype.sort`
 * (stable: changes at the same time in the same file keep their order, which decides authors'
 * order and steps), and the generator yields many times (a caller can pause between pieces).
 */
test('a large project timeline built in pieces equals one built from changes sorted at once', () => {
  const rng = new SeededRandom(testSeed());
  const authors = [ana, bo, ai];
  const changes = Array.from({ length: 30_000 }, () => ({
    file: rng.pick(['a', 'b', 'c']), at: rng.int(0, 60_000), inserted: rng.int(0, 2), deleted: rng.int(0, 1), authors: [rng.pick(authors)],
  }));
  const sortedAtOnce = [...changes].sort((a, b) => a.at - b.at || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const work = ProjectTimeline.building(changes);
  let pieces = 0;
  let next = work.next();
  for (; !next.done; next = work.next()) pieces++;
  const expected = ProjectTimeline.build(sortedAtOnce);
  assert.ok(pieces > 100, `yields between pieces of work (${pieces})`);
  assert.ok(expected.steps.length > 1000);
  assert.deepEqual(next.value.steps, expected.steps);
  assert.deepEqual(next.value.sessions, expected.sessions);
  assert.deepEqual(ProjectTimeline.build(changes).steps, expected.steps);
});
