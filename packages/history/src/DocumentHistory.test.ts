import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { isAppError } from '@tandem/protocol';
import { DocumentHistory } from './DocumentHistory.ts';
import { blameLines } from './blame.ts';

function typed(doc: Y.Doc, at: number, text: string): Uint8Array {
  const before = Y.encodeStateVector(doc);
  doc.getText('t').insert(at, text);
  return Y.encodeStateAsUpdate(doc, before);
}

test('admit: unreadable updates are refused (BAD_INPUT) before Yjs integrates any part of them', () => {
  const server = new Y.Doc();
  const history = new DocumentHistory();
  const update = typed(new Y.Doc(), 0, 'hello');
  assert.throws(() => history.admit(update.slice(0, update.length - 3), server, 'u1'), (e) => isAppError(e) && e.code === 'BAD_INPUT');
  assert.throws(() => history.admit(new Uint8Array([200, 1, 2]), server, 'u1'), (e) => isAppError(e) && e.code === 'BAD_INPUT');
  assert.equal(history.authorOf(new Y.Doc().clientID), null);
});

test('admit: relaying structs the server already has is fine whoever wrote them; new ones under their id are not', () => {
  const server = new Y.Doc();
  const history = new DocumentHistory();
  const alice = new Y.Doc();
  const first = typed(alice, 0, 'abc');
  history.admit(first, server, 'alice');
  Y.applyUpdate(server, first);
  history.record(first, { userId: 'alice' }, 1000);
  // Bob's copy holds Alice's text; his sync step 2 repeats it.
  const bob = new Y.Doc();
  Y.applyUpdate(bob, Y.encodeStateAsUpdate(server));
  history.admit(Y.encodeStateAsUpdate(bob), server, 'bob');
  bob.clientID = alice.clientID;
  assert.throws(() => history.admit(typed(bob, 0, 'X'), server, 'bob'), (e) => isAppError(e) && e.code === 'FORBIDDEN');
  assert.deepEqual(history.authorOf(alice.clientID), { kind: 'person', userId: 'alice' });
});

test('blameLines: a line belongs to its newest character; equal neighbours merge; AI characters are counted', () => {
  const server = new Y.Doc();
  const history = new DocumentHistory();
  const alice = new Y.Doc();
  const a = typed(alice, 0, 'one\ntwo\nthree\n');
  history.admit(a, server, 'alice');
  Y.applyUpdate(server, a);
  history.record(a, { userId: 'alice' }, 0);
  const ai = { kind: 'ai' as const, model: 'm', provider: 'p', requestedBy: 'alice', approvedBy: 'bob', suggestionId: 's1' };
  const edit = history.attribute(7, ai, 120_000, (doc) => doc.getText('t').insert(7, '!'));
  server.transact(() => edit(server));
  const ranges = blameLines(server.getText('t'), history);
  assert.deepEqual(ranges.map((r) => [r.fromLine, r.toLine, r.author?.kind, r.at, r.aiChars]), [
    [1, 1, 'person', 0, 0],
    [2, 2, 'ai', 120_000, 1],
    [3, 3, 'person', 0, 0],
  ]);
  assert.equal(server.getText('t').toString(), 'one\ntwo!\nthree\n');
});
