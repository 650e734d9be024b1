// kill -9 right after people's first keystrokes were broadcast: each keystroke's author survives
// (the claim of a client id is stored before the change that made it, not just after).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@tandem/api';
import { TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { TandemNode } from './testing/TandemNode.ts';
import { connectSync, signUpOverHttp, waitFor, type SyncClient } from './testing/clients.ts';

let server: TandemNode | undefined;
after(async () => {
  await server?.stop('SIGKILL');
  server?.removeDataDir();
});

test('kill -9 just after first writes were broadcast: every character still has its author', async () => {
  server = await TandemNode.start({});
  const owner = await signUpOverHttp(server.url, 'Claire');
  const { id: projectId } = await owner.api.projects.create.mutate({ name: 'Claims', template: 'node' });
  const tree = connectSync(server.url, treeDocName(projectId), { cookie: owner.cookie });
  await tree.synced;
  const fileId = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === 'src/index.js')![0];
  tree.destroy();
  const name = fileDocName(projectId, fileId);
  const watcher = connectSync(server.url, name, { cookie: owner.cookie });
  await watcher.synced;
  // Each client is a new client id: its first write claims it.
  const writers: SyncClient[] = Array.from({ length: 8 }, () => connectSync(server!.url, name, { cookie: owner.cookie }));
  await Promise.all(writers.map((c) => c.synced));
  writers.forEach((c, i) => c.text.insert(0, `// writer ${i}\n`));
  await waitFor(() => writers.every((_, i) => watcher.text.toString().includes(`// writer ${i}\n`)), 'every first write was broadcast');
  assert.equal(await server.stop('SIGKILL'), null);

  server = await server.restart();
  // The restarted node may listen on another port: a client for its URL, same session.
  const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/api/trpc`, headers: { cookie: owner.cookie } })] });
  const blame = await api.history.blame.query({ projectId, fileId });
  const lines = blame.filter((r) => r.fromLine <= 8);
  assert.ok(lines.length > 0 && lines.every((r) => r.author?.kind === 'person' && r.author.user.name === 'Claire'), JSON.stringify(lines));
  [watcher, ...writers].forEach((c) => c.destroy());
});
