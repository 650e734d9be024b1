// Comment threads over the real server: anchors that follow the code as people type (resolved in
// a y-websocket client's document), live events on every member's stream, roles, and limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import type { CommentThreadView } from '@tandem/api';
import { TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { TandemServer } from './TandemServer.ts';
import { startTestServer, starterProject } from './testing/testServer.ts';
import { connectSync, signUpOverHttp, waitFor, type SignedIn } from './testing/clients.ts';
import { HttpSubscription } from './testing/HttpSubscription.ts';

let running: Awaited<ReturnType<typeof startTestServer>>;
let server: TandemServer;
let owner: SignedIn;
let viewer: SignedIn;
let stranger: SignedIn;
let projectId: string;

before(async () => {
  running = await startTestServer('comments');
  server = running.server;
  [owner, viewer, stranger] = await Promise.all([signUpOverHttp(server.url, 'Owner'), signUpOverHttp(server.url, 'Viewer'), signUpOverHttp(server.url, 'Stranger')]);
  projectId = await starterProject(owner, 'Comments', [[viewer, 'viewer']]);
});
after(() => running?.close());

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

test('a thread anchored to a line follows it while people type above; everyone sees it live; viewers comment, only editors (or the author) resolve', async () => {
  const tree = connectSync(server.url, treeDocName(projectId), { cookie: owner.cookie });
  await tree.synced;
  const [fileId] = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === 'src/greet.js')!;
  tree.destroy();
  const file = connectSync(server.url, fileDocName(projectId, fileId), { cookie: owner.cookie });
  await file.synced;
  const text = file.text.toString();
  const start = text.indexOf('  return');
  const end = text.indexOf('\n', start);
  const anchor = {
    anchorStart: b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(file.text, start, 0))),
    anchorEnd: b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(file.text, end, -1))),
  };
  const watching = await HttpSubscription.open(server.url, 'stream.events', { projectId, tabId: randomUUID() }, { cookie: viewer.cookie });
  try {
    const thread = await viewer.api.comments.create.mutate({ projectId, fileId, ...anchor, excerpt: text.slice(start, end), body: 'Should this say hi?' });
    await waitFor(() => watching.messages.some((m) => (m.data as { type?: string } | null)?.type === 'comments.thread'), 'the thread event');

    // People type above the line: the anchor still resolves to it.
    file.text.insert(0, '// a header\n// another\n');
    const resolved = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromB64(thread.anchorStart)), file.doc)!;
    assert.equal(file.text.toString().slice(resolved.index).split('\n')[0], '  return `Hello, ${name}!`;');

    const replied = await owner.api.comments.reply.mutate({ projectId, threadId: thread.id, body: 'Yes — fixed.' });
    assert.deepEqual(replied.comments.map((c) => [c.author.name, c.body]), [['Viewer', 'Should this say hi?'], ['Owner', 'Yes — fixed.']]);
    // The viewer started it, so may resolve it; another viewer's thread would be refused.
    const ownerThread = await owner.api.comments.create.mutate({ projectId, fileId, ...anchor, excerpt: 'x', body: 'Owner note' });
    await assert.rejects(viewer.api.comments.resolve.mutate({ projectId, threadId: ownerThread.id, resolved: true }), /Only editors, owners and whoever started/);
    assert.equal((await viewer.api.comments.resolve.mutate({ projectId, threadId: thread.id, resolved: true })).resolved, true);
    const list: CommentThreadView[] = await owner.api.comments.list.query({ projectId });
    assert.deepEqual(list.map((t) => [t.comments[0]!.body, t.resolved, t.resolvedBy?.name ?? null]), [['Should this say hi?', true, 'Viewer'], ['Owner note', false, null]]);
  } finally {
    watching.close();
    file.destroy();
  }
});

test('a stranger can neither read nor write threads; bad anchors and floods are refused', async () => {
  const [t] = await owner.api.comments.list.query({ projectId });
  await assert.rejects(stranger.api.comments.list.query({ projectId }), /not found/i);
  await assert.rejects(stranger.api.comments.reply.mutate({ projectId, threadId: t!.id, body: 'hi' }), /not found/i);
  await assert.rejects(stranger.api.comments.create.mutate({ projectId, fileId: t!.fileId, anchorStart: t!.anchorStart, anchorEnd: t!.anchorEnd, excerpt: '', body: 'hi' }), /not found/i);
  // A thread id from another project is not found through this project.
  const other = (await stranger.api.projects.create.mutate({ name: 'Other', template: 'empty' })).id;
  await assert.rejects(stranger.api.comments.reply.mutate({ projectId: other, threadId: t!.id, body: 'hi' }), /does not exist/);
  await assert.rejects(owner.api.comments.create.mutate({ projectId, fileId: t!.fileId, anchorStart: b64(new Uint8Array([255, 255, 255])), anchorEnd: t!.anchorEnd, excerpt: '', body: 'x' }), /Not a valid comment anchor/);
  let refused = 0;
  for (let i = 0; i < 40 && refused === 0; i++) {
    await owner.api.comments.reply.mutate({ projectId, threadId: t!.id, body: `flood ${i}` }).catch((e: unknown) => {
      assert.match(String(e), /Too many comments/);
      refused++;
    });
  }
  assert.equal(refused, 1, 'the per-user rate limit stops a flood');
});
