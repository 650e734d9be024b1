import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';
import { applyHunks } from './applyHunks.ts';
import { anchoredText, checkAnchor, createAnchor, resolveAnchor } from './anchor.ts';
import { applyHunksToText, computeHunks } from './hunks.ts';
import { AiEditOrigin } from './AiEditOrigin.ts';

const PREFIX = 'header\n';
const SUFFIX = 'footer\n';
const BASE = 'a\nb\nc\nd\ne\n';
const PROPOSED = 'A0\na\nb\nC\nd\ne\nE1\n'; // hunks: insert at range start, replace c, insert at range end

function setup() {
  const doc = new Y.Doc();
  doc.clientID = 1;
  const text = doc.getText(FILE_TEXT);
  text.insert(0, PREFIX + BASE + SUFFIX);
  const anchor = createAnchor(text, PREFIX.length, PREFIX.length + BASE.length);
  const hunks = computeHunks(BASE, PROPOSED);
  return { doc, text, anchor, hunks, origin: new AiEditOrigin('s1', 'u1') };
}

test('applies all hunks in ONE transaction carrying the origin; the text outside is untouched', () => {
  const { doc, text, anchor, hunks, origin } = setup();
  assert.equal(hunks.length, 3);
  const seen: unknown[] = [];
  doc.on('afterTransaction', (tr: Y.Transaction) => seen.push(tr.origin));
  const r = applyHunks(doc, anchor, BASE, hunks, [0, 1, 2], origin);
  assert.ok(r.ok);
  assert.deepEqual(seen, [origin]);
  assert.equal(text.toString(), PREFIX + PROPOSED + SUFFIX);
  assert.equal(r.baseText, PROPOSED);
  assert.deepEqual(r.remaining, []);
  assert.equal(checkAnchor(doc, r.anchor, PROPOSED), 'intact');
});

test('partial accept: the remaining hunks still apply at the right place, whatever the order', () => {
  for (const order of [[[1], [0], [2]], [[2], [0, 1]], [[0, 2], [1]], [[1], [2], [0]]]) {
    const { doc, text, origin, ...s } = setup();
    let { anchor, hunks } = s;
    let base = BASE;
    const applied: number[] = [];
    for (const batch of order) {
      // someone types at both edges and elsewhere between accepts: must not disturb the next apply
      const range = resolveAnchor(doc, anchor)!;
      text.insert(range.end, '// after\n');
      text.insert(range.start, '// before\n');
      text.insert(0, 'top\n');
      const r = applyHunks(doc, anchor, base, hunks, batch, origin);
      assert.ok(r.ok, JSON.stringify(r));
      applied.push(...batch);
      assert.equal(r.baseText, applyHunksToText(BASE, s.hunks, applied), `after ${JSON.stringify(applied)}`);
      assert.equal(anchoredText(doc, resolveAnchor(doc, r.anchor)!), r.baseText);
      ({ anchor, baseText: base, remaining: hunks } = r);
    }
    assert.equal(base, PROPOSED);
    assert.ok(text.toString().includes('// before\n' + PROPOSED + '// after\n'), text.toString());
  }
});

test('why a new anchor: the old one does not cover a hunk inserted at the range start', () => {
  const { doc, anchor, hunks, origin } = setup();
  const r = applyHunks(doc, anchor, BASE, hunks, [0], origin);
  assert.ok(r.ok);
  assert.equal(anchoredText(doc, resolveAnchor(doc, anchor)!), BASE, 'old anchor: edge-tied, excludes the insertion');
  assert.equal(anchoredText(doc, resolveAnchor(doc, r.anchor)!), 'A0\n' + BASE);
});

test('refuses with stale when someone edited inside the range, conflict when it is gone; nothing changes', () => {
  const { doc, text, anchor, hunks, origin } = setup();
  text.insert(PREFIX.length + 2, 'typed\n');
  const before = Y.encodeStateVector(doc);
  const stale = applyHunks(doc, anchor, BASE, hunks, [1], origin);
  assert.deepEqual(stale.ok ? null : stale.status, 'stale');
  assert.deepEqual(Y.encodeStateVector(doc), before);
  text.delete(PREFIX.length, BASE.length + 'typed\n'.length);
  const gone = applyHunks(doc, anchor, BASE, hunks, [1], origin);
  assert.deepEqual(gone.ok ? null : gone.status, 'conflict');
});

test('bad hunks or unknown indices throw BAD_INPUT before touching the document', () => {
  const { doc, text, anchor, hunks, origin } = setup();
  assert.throws(() => applyHunks(doc, anchor, BASE, hunks, [3], origin), { code: 'BAD_INPUT' });
  assert.throws(() => applyHunks(doc, anchor, 'other\n', hunks, [0], origin), { code: 'BAD_INPUT' });
  assert.equal(text.toString(), PREFIX + BASE + SUFFIX);
});

test('an insertion point (empty base) receives the insertion and becomes a normal range', () => {
  const doc = new Y.Doc();
  const text = doc.getText(FILE_TEXT);
  text.insert(0, 'ab');
  const point = createAnchor(text, 1, 1);
  const hunks = computeHunks('', 'X\n');
  const r = applyHunks(doc, point, '', hunks, [0], new AiEditOrigin('s', 'u'));
  assert.ok(r.ok);
  assert.equal(text.toString(), 'aX\nb');
  assert.equal(checkAnchor(doc, r.anchor, 'X\n'), 'intact');
});

test('no indices: nothing is applied, no transaction', () => {
  const { doc, anchor, hunks, origin } = setup();
  let transactions = 0;
  doc.on('afterTransaction', () => transactions++);
  const r = applyHunks(doc, anchor, BASE, hunks, [], origin);
  assert.ok(r.ok && r.remaining.length === 3 && r.anchor === anchor);
  assert.equal(transactions, 0);
});

test('typing at an edge while a hunk at that edge is applied keeps the typed text outside, whatever the client order', () => {
  const base = 'first\nmiddle\nlast\n';
  const cases = [
    { proposed: 'FIRST\nmiddle\nlast\n', edge: 'start' }, // hunk at the range start
    { proposed: 'first\nmiddle\nLAST\n', edge: 'end' }, // hunk at the range end
  ] as const;
  for (const { proposed, edge } of cases) {
    for (const humanClient of [1, 3]) {
      const server = new Y.Doc();
      server.clientID = 2;
      const human = new Y.Doc();
      human.clientID = humanClient;
      server.getText(FILE_TEXT).insert(0, '<' + base + '>');
      Y.applyUpdate(human, Y.encodeStateAsUpdate(server));
      const anchor = createAnchor(server.getText(FILE_TEXT), 1, 1 + base.length);
      // concurrently: the human types at the edge, the server applies the AI hunk
      human.getText(FILE_TEXT).insert(edge === 'start' ? 1 : 1 + base.length, '#');
      const r = applyHunks(server, anchor, base, computeHunks(base, proposed), [0], new AiEditOrigin('s', 'u'));
      assert.ok(r.ok);
      Y.applyUpdate(server, Y.encodeStateAsUpdate(human));
      Y.applyUpdate(human, Y.encodeStateAsUpdate(server));
      const expected = edge === 'start' ? '<#' + proposed + '>' : '<' + proposed + '#>';
      assert.equal(server.getText(FILE_TEXT).toString(), expected, `${edge} edge, human client ${humanClient}`);
      assert.equal(human.getText(FILE_TEXT).toString(), expected);
      assert.equal(checkAnchor(server, r.anchor, proposed), 'intact');
    }
  }
});
