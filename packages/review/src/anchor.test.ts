import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';
import { anchoredText, checkAnchor, createAnchor, reanchor, resolveAnchor, type Anchor } from './anchor.ts';

function docWith(text: string, clientID = 1): Y.Doc {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  doc.getText(FILE_TEXT).insert(0, text);
  return doc;
}
const textOf = (doc: Y.Doc) => doc.getText(FILE_TEXT);
const sync = (from: Y.Doc, to: Y.Doc) => Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));

// "hello [world] !" — the anchored range is "world" at 6..11
const BASE = 'world';
function fixture(): { doc: Y.Doc; anchor: Anchor } {
  const doc = docWith('hello world !');
  return { doc, anchor: createAnchor(textOf(doc), 6, 11) };
}

test('an anchor is two byte strings that resolve to the range', () => {
  const { doc, anchor } = fixture();
  assert.ok(anchor.start instanceof Uint8Array && anchor.end instanceof Uint8Array);
  assert.deepEqual(resolveAnchor(doc, anchor), { start: 6, end: 11 });
  assert.equal(checkAnchor(doc, anchor, BASE), 'intact');
});

test('edits before the range shift it; the range stays intact', () => {
  const { doc, anchor } = fixture();
  textOf(doc).insert(0, '>>> ');
  textOf(doc).delete(5, 2);
  assert.equal(anchoredText(doc, resolveAnchor(doc, anchor)!), BASE);
  assert.equal(checkAnchor(doc, anchor, BASE), 'intact');
});

test('typing right at the start edge lands outside the range (start is tied to the first character)', () => {
  const { doc, anchor } = fixture();
  textOf(doc).insert(6, 'new ');
  assert.equal(textOf(doc).toString(), 'hello new world !');
  assert.deepEqual(resolveAnchor(doc, anchor), { start: 10, end: 15 });
  assert.equal(checkAnchor(doc, anchor, BASE), 'intact');
});

test('typing right at the end edge lands outside the range (end is tied to the last character)', () => {
  const { doc, anchor } = fixture();
  textOf(doc).insert(11, 'wide');
  assert.equal(textOf(doc).toString(), 'hello worldwide !');
  assert.deepEqual(resolveAnchor(doc, anchor), { start: 6, end: 11 });
  assert.equal(checkAnchor(doc, anchor, BASE), 'intact');
});

test('typing or deleting inside the range makes it stale', () => {
  const typed = fixture();
  textOf(typed.doc).insert(8, 'RR');
  assert.equal(anchoredText(typed.doc, resolveAnchor(typed.doc, typed.anchor)!), 'woRRrld');
  assert.equal(checkAnchor(typed.doc, typed.anchor, BASE), 'stale');
  const cut = fixture();
  textOf(cut.doc).delete(6, 1); // the first character itself
  assert.equal(anchoredText(cut.doc, resolveAnchor(cut.doc, cut.anchor)!), 'orld');
  assert.equal(checkAnchor(cut.doc, cut.anchor, BASE), 'stale');
});

test('deleting the whole range is a conflict, even if something is typed in its place', () => {
  const { doc, anchor } = fixture();
  textOf(doc).delete(6, 5);
  assert.equal(resolveAnchor(doc, anchor), null);
  assert.equal(checkAnchor(doc, anchor, BASE), 'conflict');
  textOf(doc).insert(6, 'there');
  assert.equal(checkAnchor(doc, anchor, BASE), 'conflict');
  assert.equal(reanchor(doc, anchor), null);
  const wider = fixture();
  textOf(wider.doc).delete(3, 8); // a deletion covering the range and more
  assert.equal(checkAnchor(wider.doc, wider.anchor, BASE), 'conflict');
});

test('a deleted range that is restored by undo resolves again', () => {
  const { doc, anchor } = fixture();
  const undo = new Y.UndoManager(textOf(doc));
  textOf(doc).delete(4, 9);
  assert.equal(checkAnchor(doc, anchor, BASE), 'conflict');
  undo.undo();
  assert.equal(textOf(doc).toString(), 'hello world !');
  assert.equal(checkAnchor(doc, anchor, BASE), 'intact');
});

test('ranges at the very start and end of the file', () => {
  const doc = docWith('abc');
  const whole = createAnchor(textOf(doc), 0, 3);
  textOf(doc).insert(3, '!');
  textOf(doc).insert(0, '>');
  assert.equal(anchoredText(doc, resolveAnchor(doc, whole)!), 'abc');
  textOf(doc).delete(0, textOf(doc).length);
  assert.equal(checkAnchor(doc, whole, 'abc'), 'conflict');
});

test('an empty range is an insertion point: both ends move together and it never conflicts', () => {
  const doc = docWith('ab');
  const point = createAnchor(textOf(doc), 1, 1);
  textOf(doc).insert(1, 'xy'); // typed at the point: lands before it (tied to the next character)
  assert.deepEqual(resolveAnchor(doc, point), { start: 3, end: 3 });
  textOf(doc).delete(0, textOf(doc).length);
  assert.deepEqual(resolveAnchor(doc, point), { start: 0, end: 0 });
  assert.equal(checkAnchor(doc, point, ''), 'intact');
  const atEnd = createAnchor(textOf(docWith('ab')), 2, 2);
  assert.deepEqual(resolveAnchor(docWith('ab'), atEnd), { start: 2, end: 2 });
});

test('anchors resolve on other replicas and after a storage round trip; an unsynced replica gets NOT_FOUND', () => {
  const { doc, anchor } = fixture();
  const other = new Y.Doc();
  other.clientID = 2;
  assert.throws(() => resolveAnchor(other, anchor), { name: 'AppError', code: 'NOT_FOUND' });
  sync(doc, other);
  textOf(other).insert(0, 'oh, ');
  assert.deepEqual(resolveAnchor(other, anchor), { start: 10, end: 15 });
  const stored = { start: Uint8Array.from(anchor.start), end: Uint8Array.from(anchor.end) };
  const reloaded = new Y.Doc();
  Y.applyUpdate(reloaded, Y.encodeStateAsUpdate(other));
  assert.equal(checkAnchor(reloaded, stored, BASE), 'intact');
});

test('bad input: out-of-range selection, unreadable bytes, an anchor into another type', () => {
  const doc = docWith('abc');
  for (const [s, e] of [[-1, 2], [2, 1], [0, 4], [0.5, 1]] as const) {
    assert.throws(() => createAnchor(textOf(doc), s, e), { code: 'BAD_INPUT' });
  }
  assert.throws(() => resolveAnchor(doc, { start: new Uint8Array([255, 255]), end: new Uint8Array() }), { code: 'BAD_INPUT' });
  const notes = doc.getText('notes');
  notes.insert(0, 'xyz');
  assert.throws(() => resolveAnchor(doc, createAnchor(notes, 0, 2)), { code: 'BAD_INPUT' });
});

test('reanchor takes the current text of a stale range as the new base', () => {
  const { doc, anchor } = fixture();
  textOf(doc).insert(8, 'RR');
  const next = reanchor(doc, anchor)!;
  assert.equal(next.baseText, 'woRRrld');
  assert.equal(checkAnchor(doc, next.anchor, next.baseText), 'intact');
});
