import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';
import type { ChangePayload, SyncExtension } from './SyncExtension.ts';
import { startTestServer } from './testing/TestServer.ts';
import { TestClient } from './testing/TestClient.ts';
import { waitFor } from './testing/waitFor.ts';

const DOC = 'p1/file/origin';

/** Stands in for an AI edit's origin (e.g. @tandem/review's AiEditOrigin). */
class CustomOrigin {
  constructor(readonly id: string) {}
}

test('editDocument with an origin: the transaction carries it (an UndoManager can revert exactly it), hooks see the user', async () => {
  const changes: Omit<ChangePayload, 'document'>[] = [];
  const extension: SyncExtension = { onChange: ({ document: _d, ...rest }) => void changes.push(rest) };
  const server = await startTestServer({ extensions: [extension] });
  const alice = new TestClient(server.url, DOC, 'alice-token');
  try {
    await alice.synced();
    alice.text.insert(0, 'hello world');
    await waitFor(() => changes.length === 1, 'client change');

    const origin = new CustomOrigin('s1');
    let undo: Y.UndoManager | null = null;
    const seen: unknown[] = [];
    await server.sync.editDocument(DOC, (doc) => {
      doc.on('afterTransaction', (tr: Y.Transaction) => void seen.push(tr.origin));
      undo = new Y.UndoManager(doc.getText(FILE_TEXT), { trackedOrigins: new Set([origin]), captureTimeout: 0 });
      doc.getText(FILE_TEXT).insert(5, ',');
    }, { user: { id: 'bob', name: 'Bob' }, origin });
    assert.equal(seen[0], origin, 'the transaction origin is the one given');
    await waitFor(() => alice.content === 'hello, world', 'edit broadcast');
    await waitFor(() => changes.length === 2, 'edit reported');
    assert.deepEqual([changes[1]!.origin, changes[1]!.user?.id], ['server', 'bob']);

    alice.text.insert(alice.text.length, '!');
    await waitFor(() => changes.length === 3, 'later client change');
    await server.sync.editDocument(DOC, () => undo!.undo(), { user: { id: 'bob', name: 'Bob' } });
    await waitFor(() => alice.content === 'hello world!', 'exactly the origin edit was undone');
  } finally {
    alice.destroy();
    await server.close();
  }
});

test('readDocument reads the live state (what a client typed) and writes, stores and sends nothing', async () => {
  const changes: string[] = [];
  const extension: SyncExtension = { onChange: ({ documentName }) => void changes.push(documentName) };
  const server = await startTestServer({ extensions: [extension] });
  const alice = new TestClient(server.url, DOC, 'alice-token');
  try {
    await alice.synced();
    alice.text.insert(0, 'typed');
    await waitFor(() => changes.length === 1, 'client change');
    const origins: unknown[] = [];
    const text = await server.sync.readDocument(DOC, (doc) => {
      doc.on('afterTransaction', (tr: Y.Transaction) => void origins.push(tr.origin));
      return doc.getText(FILE_TEXT).toString();
    });
    assert.equal(text, 'typed');
    await server.sync.editDocument(DOC, (doc) => doc.getText(FILE_TEXT).insert(5, '!'));
    assert.equal(origins.length, 1, 'the read opened no transaction (only the edit after it did)');
    assert.equal(await server.sync.readDocument('other/file/new', (doc) => doc.getText(FILE_TEXT).toString()), '', 'an unknown document loads empty');
    await assert.rejects(server.sync.readDocument('not a document name', () => 1), /Unknown document/);
    await waitFor(() => changes.length === 2, 'the edit reported');
    assert.deepEqual(changes, [DOC, DOC], 'reads reported no change');
  } finally {
    alice.destroy();
    await server.close();
  }
});
