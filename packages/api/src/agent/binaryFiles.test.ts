import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDocumentStore, SyncServer } from '@tandem/collab';
import { AppError, TREE_MAP, treeDocName, type TreeEntry } from '@tandem/protocol';
import { LiveProjectFiles } from '../sandbox/LiveProjectFiles.ts';
import { SearchWorkers } from '../search/SearchWorkers.ts';
import { AgentWorkspace } from './AgentWorkspace.ts';
import { runWorkspaceTool } from './agentTools.ts';

test('the agent\'s tools list binary files as such and refuse to read them, with a clear note', async () => {
  const files: LiveProjectFiles = new LiveProjectFiles({
    editDocument: (...a) => sync.editDocument(...a),
    readDocument: (name, read) => sync.readDocument(name, read),
    touch: (name) => sync.touch(name),
  });
  const sync: SyncServer = new SyncServer({
    store: new MemoryDocumentStore(),
    onAuthenticate: () => { throw new AppError('UNAUTHENTICATED', 'No clients in this test.'); },
    extensions: [files.syncExtension],
  });
  const user = { id: 'u1', name: 'Ann' };
  await files.create('p1', 'src/a.js', 'export const a = 1;\n', user);
  await sync.editDocument(treeDocName('p1'), (doc) => {
    doc.getMap<TreeEntry>(TREE_MAP).set('img', { path: 'src/logo.png', kind: 'binary', sha256: 'c'.repeat(64), size: 5000 });
  }, { user });
  const searches = new SearchWorkers({ maxWorkers: 1, timeoutMs: 5000 });
  const ws = new AgentWorkspace({ docs: sync, files, searches }, 'p1', []);
  const list = await runWorkspaceTool(ws, 'list_files', { folder: 'src' });
  assert.equal(list.result, 'src/a.js\nsrc/logo.png (binary file, 5 KiB: not readable)');
  const read = await runWorkspaceTool(ws, 'read_file', { path: 'src/logo.png' });
  assert.deepEqual(read, {
    result: 'Error: "src/logo.png" is a binary file (5 KiB): the AI tools read and edit text files only.',
    summary: '"src/logo.png" is a binary file (5 KiB): the AI tools read and edit text files only.',
    failed: true,
  });
  await sync.close();
});
