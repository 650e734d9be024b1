// kill -9 right after clients stop typing: every update the server had broadcast survives.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { TandemNode } from './testing/TandemNode.ts';
import { connectSync, signUpOverHttp, waitFor, type SyncClient } from './testing/clients.ts';

// API and sync only (no web pages): what is stored and broadcast does not depend on them.
let server: TandemNode | undefined;
after(async () => {
  await server?.stop('SIGKILL');
  server?.removeDataDir();
});

test('kill -9 after a 3-client edit burst loses nothing the server broadcast', async () => {
  server = await TandemNode.start({});
  const owner = await signUpOverHttp(server.url, 'Crash');
  const { id: projectId } = await owner.api.projects.create.mutate({ name: 'Crash', template: 'node' });
  const tree = connectSync(server.url, treeDocName(projectId), { cookie: owner.cookie });
  await tree.synced;
  const fileId = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === 'src/index.js')![0];
  tree.destroy();
  const name = fileDocName(projectId, fileId);

  const clients: SyncClient[] = [0, 1, 2].map(() => connectSync(server!.url, name, { cookie: owner.cookie }));
  await Promise.all(clients.map((c) => c.synced));
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let i = 0; i < 300; i++) {
    const c = clients[i % 3]!;
    const len = c.text.length;
    if (len > 20 && rnd(4) === 0) c.text.delete(rnd(len - 5), 3);
    else c.text.insert(rnd(len + 1), `k${i} `);
    if (i % 25 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  // Clients converge only through the server: once they agree, the server broadcast every update.
  await waitFor(() => clients.every((c) => c.text.toString() === clients[0]!.text.toString()), 'clients converge');
  const expected = clients[0]!.text.toString();
  clients.forEach((c) => c.provider.disconnect());
  assert.equal(await server.stop('SIGKILL'), null);

  server = await server.restart();
  const fresh = connectSync(server.url, name, { cookie: owner.cookie });
  await fresh.synced;
  assert.equal(fresh.text.toString(), expected);
  fresh.destroy();
  clients.forEach((c) => c.destroy());
});
