// Two Tandem nodes as separate processes on one PostgreSQL database and one Redis: clients on
// different nodes converge, awareness crosses nodes, a tab's events reach it whichever node runs
// the work, and project-bound calls reach the project's home node from anywhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter, CompletionEvent, SuggestionView } from '@tandem/api';
import { OpenAITestServer, type RecordedRequest } from '@tandem/inference/testing';
import { TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { connectSync, signUpOverHttp, waitFor, type Api, type SignedIn, type SyncClient } from '../testing/clients.ts';
import { HttpSubscription, type SseMessage } from '../testing/HttpSubscription.ts';
import { SeededRandom, testSeed } from '@tandem/collab/testing';
import { TandemCluster } from '../testing/TandemCluster.ts';

let cluster: TandemCluster;
let upstream: OpenAITestServer;
let owner: SignedIn;
/** The owner's API on node 0 and on node 1 (same session cookie). */
let apiA: Api;
let apiB: Api;
let projectId: string;
let fileDoc: string;
let fileId: string;
const clients: SyncClient[] = [];
const subscriptions: HttpSubscription[] = [];

const nodeUrl = (i: number) => cluster.nodes[i]!.url;
const apiAt = (baseUrl: string, cookie: string): Api => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/api/trpc`, headers: { cookie } })] });

function open(node: number, documentName = fileDoc): SyncClient {
  const client = connectSync(nodeUrl(node), documentName, { cookie: owner.cookie });
  clients.push(client);
  return client;
}

before(async () => {
  upstream = new OpenAITestServer({ tokensPerSecond: 200 });
  const baseUrl = await upstream.listen();
  cluster = await TandemCluster.start(2, { OPENAI_BASE_URL: baseUrl, OPENAI_MODEL: 'tiny-coder', OPENAI_LABEL: 'Test AI' });
  owner = await signUpOverHttp(nodeUrl(0), 'Owner');
  apiA = owner.api;
  apiB = apiAt(nodeUrl(1), owner.cookie);
  projectId = (await apiA.projects.create.mutate({ name: 'Cluster', template: 'node' })).id;
  const tree = open(1, treeDocName(projectId));
  await tree.synced;
  fileId = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === 'src/index.js')![0];
  fileDoc = fileDocName(projectId, fileId);
});

after(async () => {
  for (const c of clients) c.destroy();
  for (const s of subscriptions) s.close();
  await cluster?.destroy();
  await upstream?.close();
});

test('clients on two nodes edit randomly with delays and reconnects, and converge (SEED=… replays)', async (t) => {
  const seed = testSeed();
  t.diagnostic(`SEED=${seed}`);
  const random = new SeededRandom(seed);
  const editors = [0, 1, 2, 3, 4, 5].map((i) => open(i % 2));
  try {
    await Promise.all(editors.map((c) => c.synced));
    for (let step = 0; step < 400; step++) {
      const client = random.pick(editors);
      const roll = random.next();
      const text = client.text;
      if (roll < 0.55) text.insert(random.int(text.length + 1), random.word(6));
      else if (roll < 0.8 && text.length > 0) {
        const at = random.int(text.length);
        text.delete(at, Math.min(text.length - at, 1 + random.int(5)));
      } else if (roll < 0.86) {
        if (client.provider.shouldConnect) client.provider.disconnect();
        else client.provider.connect();
      } else if (roll < 0.9) client.provider.awareness.setLocalStateField('cursor', random.int(100));
      else await new Promise((r) => setTimeout(r, random.int(8)));
      if (random.next() < 0.3) await new Promise((r) => setImmediate(r));
    }
    for (const c of editors) if (!c.provider.shouldConnect) c.provider.connect();
    await waitFor(() => editors.every((c) => c.provider.synced), 'every client reconnected');
    await waitFor(() => new Set(editors.map((c) => c.text.toString())).size === 1, `clients on both nodes converge (SEED=${seed})`, 20_000);
    const final = editors[0]!.text.toString();
    assert.ok(final.length > 100);
    for (const node of [0, 1]) {
      const reader = open(node);
      await reader.synced;
      await waitFor(() => reader.text.toString() === final, `a new client on node ${node} loads the converged text`);
    }
  } catch (error) {
    console.error(`multi-node convergence failed; replay with SEED=${seed}`);
    throw error;
  }
});

test('awareness crosses nodes: a late joiner sees presence, cursors move, a departure is seen', async () => {
  const doc = treeDocName(projectId);
  const ann = open(0, doc);
  await ann.synced;
  // The server sets user.id / name from the authenticated identity (the owner), whatever is claimed.
  ann.provider.awareness.setLocalStateField('user', { name: 'Ann' });
  const ben = open(1, doc);
  await ben.synced;
  const stateOf = (client: SyncClient, of: SyncClient) => client.provider.awareness.getStates().get(of.doc.clientID) as { user?: { name: string }; cursor?: number } | undefined;
  await waitFor(() => stateOf(ben, ann)?.user?.name === owner.user.name, 'Ben on node 1 sees Ann on node 0');
  ben.provider.awareness.setLocalStateField('cursor', 12);
  await waitFor(() => stateOf(ann, ben)?.cursor === 12, 'Ann sees Ben’s cursor');
  const benId = ben.doc.clientID;
  ben.destroy();
  await waitFor(() => !ann.provider.awareness.getStates().has(benId), 'Ben leaving node 1 removes him on node 0');
});

test('a completion started through node 0 streams to the tab whose stream is on node 1; cancel through node 1 stops it', async () => {
  upstream.configure({ tokens: ['return', ' a', ' +', ' b', ';'] });
  const tabId = randomUUID();
  const sub = await HttpSubscription.open(nodeUrl(1), 'stream.events', { projectId, tabId }, { cookie: owner.cookie });
  subscriptions.push(sub);
  const completion = (requestId: string) => (m: SseMessage) => {
    const e = m.data as { type?: string; data?: CompletionEvent } | null;
    return e?.type === 'completion' && e.data?.requestId === requestId;
  };
  const requestId = randomUUID();
  await apiA.ai.complete.mutate({ projectId, tabId, requestId, path: 'src/sum.js', language: 'javascript', prefix: 'function sum(a, b) {\n  ', suffix: '\n}', related: [] });
  const finished = await sub.waitFor((m) => completion(requestId)(m) && (m.data as { data: CompletionEvent }).data.kind !== 'delta', 5000);
  assert.equal((finished.data as { data: CompletionEvent }).data.kind, 'done');
  const text = sub.messages.filter(completion(requestId)).map((m) => (m.data as { data: CompletionEvent }).data).map((e) => (e.kind === 'delta' ? e.text : '')).join('');
  assert.equal(text, 'return a + b;');

  upstream.configure({ tokens: [], tokenCount: 1000 });
  const slow = randomUUID();
  const nextRequest = upstream.nextRequest();
  await apiA.ai.complete.mutate({ projectId, tabId, requestId: slow, path: 'a.js', language: 'javascript', prefix: 'x', suffix: '', related: [] });
  const request: RecordedRequest = await nextRequest;
  await sub.waitFor(completion(slow), 3000);
  await apiB.ai.cancel.mutate({ requestId: slow }); // node 1 does not run it: the cancel goes to node 0
  assert.equal((await upstream.waitForClose(request.id, 3000)).outcome, 'closed_early');
  const last = await sub.waitFor((m) => completion(slow)(m) && (m.data as { data: CompletionEvent }).data.kind !== 'delta', 3000);
  assert.equal((last.data as { data: CompletionEvent }).data.kind, 'done');
});

test('a path forbidden through one node is refused at once to completions through the other (cached AI settings follow the bus)', async () => {
  upstream.configure({ tokens: ['x'] });
  const complete = (api: Api) => api.ai.complete.mutate({ projectId, tabId: randomUUID(), requestId: randomUUID(), path: 'src/secret.js', language: 'javascript', prefix: 'x', suffix: '', related: [] });
  await complete(apiB); // allowed, and now cached on node 1
  const { policy } = await apiA.agent.policy.query({ projectId });
  await apiA.agent.setPolicy.mutate({ projectId, policy: { ...policy, forbiddenPaths: [...policy.forbiddenPaths, 'src/secret.js'] }, checkCommand: null });
  // The change reaches node 1 over Redis (milliseconds); its cache would otherwise serve the old policy for a minute.
  let refused = false;
  const deadline = Date.now() + 5000;
  while (!refused && Date.now() < deadline) {
    refused = await complete(apiB).then(() => false, (e: Error) => /off limits/.test(e.message));
    if (!refused) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(refused, 'node 1 refuses the forbidden path');
  await assert.rejects(complete(apiA), /off limits/);
});

test('AI edits live on the project’s home node: requested through one node, listed, streamed and decided through the other', async () => {
  upstream.configure({ tokens: (request) => modelAnswer(request) });
  const watcher = await HttpSubscription.open(nodeUrl(0), 'stream.events', { projectId, tabId: randomUUID() }, { cookie: owner.cookie });
  subscriptions.push(watcher);
  const reader = open(0);
  await reader.synced;
  const length = reader.text.length;
  const requested = await apiB.suggestions.request.mutate({ projectId, fileId, instruction: 'shout', range: { kind: 'offsets', start: 0, end: length } });
  await watcher.waitFor((m) => {
    const e = m.data as { type?: string; data?: SuggestionView } | null;
    return e?.type === 'suggestion' && e.data?.id === requested.id && e.data.status === 'ready';
  }, 10_000);
  for (const api of [apiA, apiB]) {
    const listed = await api.suggestions.list.query({ projectId });
    assert.equal(listed.find((s) => s.id === requested.id)?.status, 'ready', 'both nodes answer from the home node');
  }
  const decided = await apiA.suggestions.rejectAll.mutate({ projectId, suggestionId: requested.id });
  assert.equal(decided.status, 'rejected');
  assert.equal((await apiB.suggestions.list.query({ projectId })).some((s) => s.id === requested.id), false);
});

test('a terminal opened through one node is listed, typed into and watched through the other', async () => {
  const watchA = await HttpSubscription.open(nodeUrl(0), 'stream.events', { projectId, tabId: randomUUID() }, { cookie: owner.cookie });
  const watchB = await HttpSubscription.open(nodeUrl(1), 'stream.events', { projectId, tabId: randomUUID() }, { cookie: owner.cookie });
  subscriptions.push(watchA, watchB);
  const term = await apiA.sandbox.terminals.open.mutate({ projectId, cols: 80, rows: 24 });
  assert.deepEqual((await apiB.sandbox.terminals.list.query({ projectId })).map((t) => t.id), [term.id]);
  // An edit made through whichever node: the next command line sees it in the working copy.
  const editor = open(1);
  await editor.synced;
  editor.text.insert(0, '// EDITED-ON-NODE-1\n');
  await new Promise((r) => setTimeout(r, 300));
  await apiB.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: 'echo TANDEM$((40+2)); head -c 19 src/index.js; echo\r' });
  const output = (sub: HttpSubscription) => sub.messages
    .map((m) => m.data as { type?: string; data?: { terminalId?: string; data?: string } } | null)
    .filter((e) => e?.type === 'sandbox.terminalData' && e.data?.terminalId === term.id)
    .map((e) => e!.data!.data)
    .join('');
  for (const sub of [watchA, watchB]) {
    await sub.waitFor(() => /TANDEM42/.test(output(sub)) && /EDITED-ON-NODE-1/.test(output(sub)), 10_000).catch(() => {
      throw new Error(`terminal output on one node: ${JSON.stringify(output(sub).slice(-500))}`);
    });
  }
  await apiB.sandbox.terminals.kill.mutate({ projectId, terminalId: term.id });
  assert.deepEqual(await apiA.sandbox.terminals.list.query({ projectId }), []);
});

test('removing a member closes their sync connections on every node at once', async () => {
  const guest = await signUpOverHttp(nodeUrl(0), 'Guest');
  const invite = await apiA.invites.create.mutate({ projectId, role: 'editor' });
  await guest.api.invites.accept.mutate({ token: invite.token });
  const onB = connectSync(nodeUrl(1), fileDoc, { cookie: guest.cookie });
  clients.push(onB);
  await onB.synced;
  await apiA.members.remove.mutate({ projectId, userId: guest.user.id });
  await waitFor(() => onB.closes.includes(4403), `node 1 closed the removed member with 4403 (got ${onB.closes.join(',')})`);
});

/** The test model's answer: the selected code in upper case, in a Markdown fence. */
function modelAnswer(request: RecordedRequest): string[] {
  const messages = request.body?.messages as { content: string }[];
  const selected = /<selected>\n([\s\S]*)<\/selected>/.exec(messages.at(-1)!.content)![1]!;
  const text = '```js\n' + selected.toUpperCase() + '```';
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 8) out.push(text.slice(i, i + 8));
  return out;
}
