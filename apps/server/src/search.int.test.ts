// Project search and replace as users meet it: the real server in-process, the tRPC HTTP client,
// and y-websocket clients that see a replace land live and its undo take it back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { TandemServer } from './TandemServer.ts';
import { startTestServer, starterProject } from './testing/testServer.ts';
import { connectSync, signUpOverHttp, waitFor, type SignedIn, type SyncClient } from './testing/clients.ts';

let running: Awaited<ReturnType<typeof startTestServer>>;
let server: TandemServer;
let owner: SignedIn;
let viewer: SignedIn;
let stranger: SignedIn;
let projectId: string;

before(async () => {
  running = await startTestServer('search');
  server = running.server;
  [owner, viewer, stranger] = await Promise.all([signUpOverHttp(server.url, 'Owner'), signUpOverHttp(server.url, 'Viewer'), signUpOverHttp(server.url, 'Stranger')]);
  projectId = await starterProject(owner, 'Search', [[viewer, 'viewer']]);
});
after(() => running?.close());

async function openFile(who: SignedIn, path: string): Promise<SyncClient> {
  const tree = connectSync(server.url, treeDocName(projectId), { cookie: who.cookie });
  await tree.synced;
  const [fileId] = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === path)!;
  tree.destroy();
  const file = connectSync(server.url, fileDocName(projectId, fileId), { cookie: who.cookie });
  await file.synced;
  return file;
}

const query = (pattern: string, more: object = {}) => ({ projectId, pattern, ...more });

test('search sees unsaved live typing; results are grouped by file with lines', async () => {
  const greet = await openFile(owner, 'src/greet.js');
  greet.text.insert(0, '// greet people\n');
  let out = await owner.api.search.find.query(query('greet', { wholeWord: true }));
  for (let i = 0; i < 50 && out.files[0]?.matches.length !== 2; i++) {
    await new Promise((r) => setTimeout(r, 50)); // the typing is on its way to the server
    out = await owner.api.search.find.query(query('greet', { wholeWord: true }));
  }
  assert.deepEqual(out.files.map((f) => f.path), ['src/greet.js', 'src/index.js']);
  assert.deepEqual(out.files[0]!.matches.map((m) => m.line), [1, 2], 'the comment typed a moment ago is found');
  greet.destroy();
});

test('replace all is one change everyone sees live; undo takes it back and keeps later typing', async () => {
  const watcher = await openFile(viewer, 'src/index.js');
  const result = await owner.api.search.replace.mutate({ ...query('greet', { wholeWord: true }), replacement: 'welcome' });
  assert.equal(result.files, 2);
  assert.equal(result.replaced, 5); // the words, and the module name in './greet.js'
  await waitFor(() => watcher.text.toString() === "import { welcome } from './welcome.js';\n\nconsole.log(welcome('Tandem'));\n", 'the viewer to see the replace');

  // Someone types after the replace, then undo: only the replaced words go back.
  const editor = await openFile(owner, 'src/index.js');
  editor.text.insert(editor.text.length, '// later\n');
  const undone = await owner.api.search.undo.mutate({ projectId, replaceId: result.replaceId });
  assert.deepEqual(undone, { restored: 5, changedSince: 0 });
  await waitFor(() => watcher.text.toString() === "import { greet } from './greet.js';\n\nconsole.log(greet('Tandem'));\n// later\n", 'the undo to reach the viewer');
  await assert.rejects(owner.api.search.undo.mutate({ projectId, replaceId: result.replaceId }), /can no longer be undone/);

  // Regex with groups; replace one match only.
  const one = await owner.api.search.replace.mutate({ ...query("greet\\('(\\w+)'\\)", { regex: true }), replacement: "greet('$1!')", only: { path: 'src/index.js', start: watcher.text.toString().indexOf("greet('") } });
  assert.equal(one.replaced, 1);
  await waitFor(() => watcher.text.toString().includes("greet('Tandem!')"), 'the single replace');
  watcher.destroy();
  editor.destroy();
});

test('a viewer may search but not replace; a stranger may do neither', async () => {
  assert.ok((await viewer.api.search.find.query(query('console'))).matchCount >= 1);
  await assert.rejects(viewer.api.search.replace.mutate({ ...query('console'), replacement: 'x' }), /FORBIDDEN|permission|not allowed|role/i);
  await assert.rejects(stranger.api.search.find.query(query('console')), /not found/i);
  await assert.rejects(stranger.api.search.replace.mutate({ ...query('console'), replacement: 'x' }), /not found/i);
});

test('a pattern that backtracks for ever is stopped at the deadline; the server keeps answering meanwhile', async () => {
  const file = await openFile(owner, 'README.md');
  file.text.insert(0, 'a'.repeat(40) + '!\n');
  for (let i = 0; i < 50 && (await owner.api.search.find.query(query('aaaa!'))).matchCount === 0; i++) await new Promise((r) => setTimeout(r, 50));
  const started = performance.now();
  const evil = owner.api.search.find.query(query('^(a+)+$', { regex: true }));
  const health: number[] = [];
  while (performance.now() - started < 2000) {
    const t = performance.now();
    const res = await fetch(`${server.url}/api/health`);
    assert.equal(res.status, 200);
    health.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }
  await assert.rejects(evil, /took longer than/);
  health.sort((a, b) => a - b);
  const p99 = health[Math.floor(health.length * 0.99)]!;
  console.log(`[search] /api/health during a catastrophic regex: ${health.length} probes, p50 ${health[health.length >> 1]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
  assert.ok(health.length >= 10, 'the event loop kept serving requests');
  file.destroy();
});

test('edits from code intelligence apply only onto the text they were made for; viewers and strangers cannot send them', async () => {
  const { createHash } = await import('node:crypto');
  const file = await openFile(owner, 'package.json');
  const base = file.text.toString();
  const sha = createHash('sha256').update(base).digest('hex');
  const at = base.indexOf('hello-tandem');
  const edit = { projectId, path: 'package.json', baseSha256: sha, edits: [{ offset: at, length: 'hello-tandem'.length, text: 'renamed' }] };
  await assert.rejects(viewer.api.search.applyEdits.mutate(edit), /FORBIDDEN|permission|not allowed|role/i);
  await assert.rejects(stranger.api.search.applyEdits.mutate(edit), /not found/i);
  await assert.rejects(owner.api.search.applyEdits.mutate({ ...edit, edits: [{ offset: base.length, length: 5, text: 'x' }] }), /outside the file/);
  await owner.api.search.applyEdits.mutate(edit);
  await waitFor(() => file.text.toString().includes('"name": "renamed"'), 'the edit to reach a client');
  // The same edit again is based on text that is gone: refused, nothing changes.
  await assert.rejects(owner.api.search.applyEdits.mutate(edit), /changed meanwhile/);
  assert.equal((file.text.toString().match(/renamed/g) ?? []).length, 1);
  file.destroy();
});
