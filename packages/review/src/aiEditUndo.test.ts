import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';
import { AiEditOrigin, createAiEditUndoManager } from './AiEditOrigin.ts';
import { applyHunks } from './applyHunks.ts';
import { createAnchor } from './anchor.ts';
import { computeHunks } from './hunks.ts';
import { InMemoryNetwork } from './testing/InMemoryNetwork.ts';
import { SeededRandom } from '@tandem/protocol/testing';

const textOf = (doc: Y.Doc) => doc.getText(FILE_TEXT);
const INITIAL = 'top\nfunction f() {\n  return 1;\n}\nbottom\n';
const BASE = 'function f() {\n  return 1;\n}\n';
const PROPOSED = 'function f(): number {\n  // one\n  return 1;\n}\n';

/** Three replicas: 0 applies the AI edit (the server's copy), 1 and 2 are people typing. */
function session(seed: number) {
  const net = new InMemoryNetwork(3, new SeededRandom(seed));
  textOf(net.docs[0]!).insert(0, INITIAL);
  net.flush();
  const start = INITIAL.indexOf(BASE);
  return { net, docs: net.docs, anchor: createAnchor(textOf(net.docs[0]!), start, start + BASE.length) };
}

test('undo reverts exactly the accepted AI edit, for everyone, after others edited elsewhere', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { net, docs, anchor } = session(seed);
    const origin = new AiEditOrigin('s1', 'alice');
    const undo = createAiEditUndoManager(docs[0]!, origin);
    textOf(docs[1]!).insert(0, '// concurrent 1\n'); // made before the AI edit reached replica 1
    const r = applyHunks(docs[0]!, anchor, BASE, computeHunks(BASE, PROPOSED), [0], origin);
    assert.ok(r.ok);
    textOf(docs[0]!).insert(textOf(docs[0]!).length, 'server-side edit\n'); // untracked origin
    net.tick();
    textOf(docs[2]!).insert(textOf(docs[2]!).length, '// concurrent 2\n');
    net.flush();
    assert.ok(textOf(docs[1]!).toString().includes(PROPOSED));

    assert.equal(undo.undoStack.length, 1, 'only the AI edit is on the stack');
    undo.undo();
    net.flush();
    const expected = textOf(docs[0]!).toString();
    assert.ok(expected.includes(BASE) && !expected.includes('number'), expected);
    for (const edit of ['// concurrent 1\n', 'server-side edit\n', '// concurrent 2\n']) assert.ok(expected.includes(edit), edit);
    for (const doc of docs) assert.equal(textOf(doc).toString(), expected, `seed ${seed}: replicas converge`);
    net.destroy();
  }
});

test('undo leaves text someone typed inside the AI edit, and other AI edits, in place', () => {
  const { net, docs, anchor } = session(7);
  const first = new AiEditOrigin('s1', 'alice');
  const undoFirst = createAiEditUndoManager(docs[0]!, first);
  const r = applyHunks(docs[0]!, anchor, BASE, computeHunks(BASE, PROPOSED), [0], first);
  assert.ok(r.ok);
  net.flush();
  const t1 = textOf(docs[1]!);
  const inside = t1.toString().indexOf('// one') + '// one'.length;
  t1.insert(inside, ' and only');
  // a second suggestion edits another range afterwards
  net.flush();
  const t0 = textOf(docs[0]!);
  const bottom = createAnchor(t0, t0.toString().indexOf('bottom'), t0.length);
  const second = applyHunks(docs[0]!, bottom, 'bottom\n', computeHunks('bottom\n', 'BOTTOM\n'), [0], new AiEditOrigin('s2', 'bob'));
  assert.ok(second.ok);
  net.flush();
  undoFirst.undo();
  net.flush();
  for (const doc of docs) {
    // the AI's lines are gone; Bob's words, typed inside them, stay where they were
    assert.equal(textOf(doc).toString(), 'top\nfunction f() {\n and only  return 1;\n}\nBOTTOM\n');
  }
  net.destroy();
});

test('an editor UndoManager tracking the AiEditOrigin class undoes the AI edit as its own step', () => {
  const { net, docs, anchor } = session(9);
  const local = { user: 'alice' };
  const editorUndo = new Y.UndoManager(textOf(docs[0]!), { trackedOrigins: new Set<unknown>([local, AiEditOrigin]) });
  docs[0]!.transact(() => textOf(docs[0]!).insert(0, '// alice typed\n'), local);
  editorUndo.stopCapturing();
  const r = applyHunks(docs[0]!, anchor, BASE, computeHunks(BASE, PROPOSED), [0], new AiEditOrigin('s1', 'alice'));
  assert.ok(r.ok);
  editorUndo.stopCapturing();
  editorUndo.undo();
  net.flush();
  for (const doc of docs) assert.equal(textOf(doc).toString(), '// alice typed\n' + INITIAL);
  net.destroy();
});
