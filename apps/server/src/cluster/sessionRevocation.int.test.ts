// Sessions, tokens and memberships across two node processes (PostgreSQL + Redis): what one node
// revokes is closed and forgotten on the other at once, although both cache callers and roles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@tandem/api';
import { CLOSE_CODES, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { connectSync, signUpOverHttp, waitFor, type Api, type SignedIn, type SyncClient } from '../testing/clients.ts';
import { HttpSubscription } from '../testing/HttpSubscription.ts';
import { TandemCluster } from '../testing/TandemCluster.ts';

let cluster: TandemCluster;
let owner: SignedIn;
let projectId: string;
let fileDoc: string;
const clients: SyncClient[] = [];
const subs: HttpSubscription[] = [];
const nodeUrl = (i: number) => cluster.nodes[i]!.url;
const apiAt = (i: number, headers: Record<string, string>): Api => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${nodeUrl(i)}/api/trpc`, headers })] });

function open(node: number, auth: { cookie?: string; token?: string }): SyncClient {
  const c = connectSync(nodeUrl(node), fileDoc, auth);
  clients.push(c);
  return c;
}

async function member(name: string, role: 'editor' | 'viewer'): Promise<SignedIn> {
  const u = await signUpOverHttp(nodeUrl(0), name);
  const inv = await owner.api.invites.create.mutate({ projectId, role });
  await u.api.invites.accept.mutate({ token: inv.token });
  return u;
}

before(async () => {
  cluster = await TandemCluster.start(2);
  owner = await signUpOverHttp(nodeUrl(0), 'Owner');
  projectId = (await owner.api.projects.create.mutate({ name: 'Cluster', template: 'node' })).id;
  const tree = connectSync(nodeUrl(1), treeDocName(projectId), { cookie: owner.cookie });
  clients.push(tree);
  await tree.synced;
  const fileId = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === 'src/index.js')![0];
  fileDoc = fileDocName(projectId, fileId);
});
after(async () => {
  for (const c of clients) c.destroy();
  for (const s of subs) s.close();
  await cluster?.destroy();
});

test('signing out on node 0 closes the session\'s sockets and streams on node 1, and node 1 stops accepting the cookie', async () => {
  const u = await member('Tabs', 'editor');
  const onB = apiAt(1, { cookie: u.cookie });
  assert.equal((await onB.projects.get.query({ projectId })).role, 'editor'); // node 1 now caches this session and role
  const tabOnB = open(1, { cookie: u.cookie });
  const peer = open(1, { cookie: owner.cookie });
  await Promise.all([tabOnB.synced, peer.synced]);
  const events = await HttpSubscription.open(nodeUrl(1), 'stream.events', { projectId, tabId: 'tab-b' }, { cookie: u.cookie });
  subs.push(events);
  await u.api.auth.signOut.mutate(); // through node 0
  await waitFor(() => tabOnB.closes.includes(CLOSE_CODES.UNAUTHENTICATED), 'the tab on node 1 closed with 4401', 15_000);
  await events.waitFor((m) => m.event === 'serialized-error', 15_000);
  await assert.rejects(onB.projects.get.query({ projectId }), /sign in/i);
  const before = peer.text.toString();
  tabOnB.text.insert(0, 'typed after signing out ');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(peer.text.toString(), before, 'nothing typed after sign-out reaches collaborators');
});

test('a token revoked on node 0 stops working on node 1 at once; a role change on node 0 applies on node 1 at once', async () => {
  const u = await member('Scripted', 'editor');
  const { token, id } = await u.api.tokens.create.mutate({ name: 'ci' });
  const viaToken = apiAt(1, { authorization: `Bearer ${token}` });
  await viaToken.projects.rename.mutate({ projectId, name: 'renamed by token' }); // cached on node 1 as editor
  const sock = open(1, { token });
  await sock.synced;
  await u.api.tokens.revoke.mutate({ id });
  await waitFor(() => sock.closes.includes(CLOSE_CODES.UNAUTHENTICATED), 'the token\'s socket on node 1 closed', 15_000);
  await assert.rejects(viaToken.projects.get.query({ projectId }), /sign in/i);

  const onB = apiAt(1, { cookie: u.cookie });
  await onB.projects.rename.mutate({ projectId, name: 'editor on node 1' });
  await owner.api.members.setRole.mutate({ projectId, userId: u.user.id, role: 'viewer' });
  // The broadcast crosses Redis in milliseconds; allow for a loaded machine without sleeping blindly.
  const deadline = Date.now() + 5000;
  let refused = false;
  while (!refused && Date.now() < deadline) {
    refused = await onB.projects.rename.mutate({ projectId, name: 'still an editor?' }).then(() => false, () => true);
    if (!refused) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(refused, 'node 1 saw the demotion');
  await owner.api.members.remove.mutate({ projectId, userId: u.user.id });
  let gone = false;
  const deadline2 = Date.now() + 5000;
  while (!gone && Date.now() < deadline2) {
    gone = await onB.projects.get.query({ projectId }).then(() => false, (e: Error) => /not found/i.test(e.message));
    if (!gone) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(gone, 'node 1 saw the removal');
});
