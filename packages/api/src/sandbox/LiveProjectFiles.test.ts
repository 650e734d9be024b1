import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { MemoryDocumentStore, SyncServer } from '@tandem/collab';
import { AppError, FILE_TEXT, fileDocName, TREE_MAP, treeDocName } from '@tandem/protocol';
import { LiveProjectFiles } from './LiveProjectFiles.ts';

const PROJECT = 'p1';
const user = { id: 'u1', name: 'Ann' };

/** A real SyncServer on an in-memory store, the files registered as the app does. */
function setUp(register = true, unloadAfterIdleMs = 30_000) {
  const store = new MemoryDocumentStore();
  // The files need the server and the server takes its extensions at construction.
  const files: LiveProjectFiles = new LiveProjectFiles({
    editDocument: (...a) => sync.editDocument(...a),
    readDocument: (name, read) => sync.readDocument(name, read),
    touch: (name) => sync.touch(name),
  });
  const sync: SyncServer = new SyncServer({
    store,
    onAuthenticate: () => { throw new AppError('UNAUTHENTICATED', 'No clients in this test.'); },
    extensions: register ? [files.syncExtension] : [],
    tuning: { unloadAfterIdleMs },
  });
  return { store, sync, files };
}

test('decoded once per change: the same tree and text until a document changes, then the new ones at once', async () => {
  const { sync, files } = setUp();
  const { fileId } = await files.create(PROJECT, 'src/a.js', 'one', user);
  const tree = await files.tree(PROJECT);
  assert.equal(await files.tree(PROJECT), tree, 'an unchanged tree is not decoded again');
  assert.deepEqual([...tree.files], [['src/a.js', fileId]]);
  assert.equal(await files.text(PROJECT, fileId), 'one');

  await sync.editDocument(fileDocName(PROJECT, fileId), (doc) => doc.getText(FILE_TEXT).insert(3, ' two'), { user });
  assert.equal(await files.text(PROJECT, fileId), 'one two');
  const { fileId: second } = await files.create(PROJECT, 'b.js', 'b', user);
  const changed = await files.tree(PROJECT);
  assert.notEqual(changed, tree);
  assert.deepEqual([...changed.files.keys()], ['b.js', 'src/a.js'], 'sorted by path');
  assert.deepEqual((await files.readWithIds(PROJECT)).map((f) => [f.path, f.fileId, f.content]), [['b.js', second, 'b'], ['src/a.js', fileId, 'one two']]);
  await sync.close();
});

test('duplicate paths left by concurrent edits are resolved, as everywhere else', async () => {
  const { sync, files } = setUp();
  await sync.editDocument(treeDocName(PROJECT), (doc) => {
    doc.getMap(TREE_MAP).set('x', { path: 'main.js', kind: 'file' });
    doc.getMap(TREE_MAP).set('y', { path: 'main.js', kind: 'file' });
  });
  assert.deepEqual([...(await files.tree(PROJECT)).files.keys()], ['main (2).js', 'main.js']);
  await sync.close();
});

test('a document that left memory is read afresh (it may have changed in the store meanwhile)', async () => {
  const { store, sync, files } = setUp(true, 50);
  const { fileId } = await files.create(PROJECT, 'a.js', 'old', user);
  assert.equal(await files.text(PROJECT, fileId), 'old');
  const name = fileDocName(PROJECT, fileId);
  for (let i = 0; i < 100 && sync.stats().documents.includes(name); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!sync.stats().documents.includes(name), 'the idle document was unloaded');
  // Another node (sharing the store) changes it while it is not in memory here.
  const other = new Y.Doc();
  const stored = await store.load(name);
  for (const u of [stored.snapshot, ...stored.updates]) if (u) Y.applyUpdate(other, u);
  const before = Y.encodeStateVector(other);
  other.getText(FILE_TEXT).insert(0, 'new ');
  await store.append(name, [Y.encodeStateAsUpdate(other, before)]);
  assert.equal(await files.text(PROJECT, fileId), 'new old');
  await sync.close();
});

test('without the sync hooks nothing is kept, and reads are still current', async () => {
  const { sync, files } = setUp(false);
  const { fileId } = await files.create(PROJECT, 'a.js', 'one', user);
  assert.notEqual(await files.tree(PROJECT), await files.tree(PROJECT));
  await sync.editDocument(fileDocName(PROJECT, fileId), (doc) => doc.getText(FILE_TEXT).insert(3, '!'), { user });
  assert.equal(await files.text(PROJECT, fileId), 'one!');
  await sync.close();
});
