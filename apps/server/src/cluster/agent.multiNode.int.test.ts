// An agent run across two Tandem nodes (separate processes, one PostgreSQL, one Redis): started
// through node 0 (its home), watched over SSE, steered and reviewed through node 1 — the calls
// are forwarded to the home, the events cross through Redis, the accepted change reaches a
// y-websocket client on node 1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@tandem/api';
import { OpenAITestServer } from '@tandem/inference/testing';
import { AGENT_EVENTS, TREE_MAP, fileDocName, treeDocName, type AgentRunView, type TreeEntry } from '@tandem/protocol';
import { connectSync, signUpOverHttp, waitFor, type Api, type SignedIn, type SyncClient } from '../testing/clients.ts';
import { HttpSubscription, type SseMessage } from '../testing/HttpSubscription.ts';
import { TandemCluster } from '../testing/TandemCluster.ts';

let cluster: TandemCluster;
let upstream: OpenAITestServer;
let owner: SignedIn;
const clients: SyncClient[] = [];
const subscriptions: HttpSubscription[] = [];
const call = (name: string, args: unknown) => ({ name, arguments: JSON.stringify(args) });
const apiAt = (baseUrl: string, cookie: string): Api => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/api/trpc`, headers: { cookie } })] });
const envelope = (m: SseMessage) => m.data as { type: string; data: unknown } | null;

before(async () => {
  upstream = new OpenAITestServer({ tokensPerSecond: 300 });
  const baseUrl = await upstream.listen();
  cluster = await TandemCluster.start(2, { OPENAI_BASE_URL: baseUrl, OPENAI_MODEL: 'tool-coder', OPENAI_LABEL: 'Test AI' });
  owner = await signUpOverHttp(cluster.nodes[0]!.url, 'Owner');
});

after(async () => {
  for (const c of clients) c.destroy();
  for (const s of subscriptions) s.close();
  await cluster?.destroy();
  await upstream?.close();
});

test('a run homed on node 0 is watched, steered and reviewed from node 1', async () => {
  const [n0, n1] = [cluster.nodes[0]!.url, cluster.nodes[1]!.url];
  const projectId = (await owner.api.projects.create.mutate({ name: 'Cluster agent', template: 'node' })).id;
  const editor = await signUpOverHttp(n1, 'Eve');
  await editor.api.invites.accept.mutate({ token: (await owner.api.invites.create.mutate({ projectId, role: 'editor' })).token });
  const editorOn1 = apiAt(n1, editor.cookie);
  const tree = connectSync(n1, treeDocName(projectId), { cookie: editor.cookie });
  clients.push(tree);
  await tree.synced;
  const greetId = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === 'src/greet.js')![0];
  const greet = connectSync(n1, fileDocName(projectId, greetId), { cookie: editor.cookie });
  clients.push(greet);
  await greet.synced;
  const sub = await HttpSubscription.open(n1, 'stream.events', { projectId, tabId: randomUUID() }, { cookie: editor.cookie });
  subscriptions.push(sub);

  upstream.configure({
    turns: (request, n) => {
      const steered = (request.body!.messages as Array<{ role: string; content: string }>).some((m) => m.content.includes('Bonjour'));
      if (n === 0) return { content: 'Looking at greet. '.repeat(40), toolCalls: [call('read_file', { path: 'src/greet.js' })] };
      if (n === 1) return { toolCalls: [call('edit_file', { path: 'src/greet.js', edits: [{ search: 'Hello', replace: steered ? 'Bonjour' : 'Hi' }] })] };
      return { toolCalls: [call('finish', { summary: 'greeting changed' })] };
    },
  });
  const started = await apiAt(n0, owner.cookie).agent.start.mutate({ projectId, task: 'Change the greeting.' });
  await sub.waitFor((m) => envelope(m)?.type === AGENT_EVENTS.delta, 15_000);
  await editorOn1.agent.steer.mutate({ projectId, runId: started.id, text: 'Say Bonjour instead' });
  const ready = await sub.waitFor((m) => envelope(m)?.type === AGENT_EVENTS.run && (envelope(m)!.data as AgentRunView).status === 'ready', 30_000);
  assert.equal((envelope(ready)!.data as AgentRunView).steps, 3);
  const seen = await editorOn1.agent.get.query({ projectId, runId: started.id });
  assert.ok(seen.items.some((i) => i.kind === 'user_message' && i.steering && i.author.name === 'Eve'));
  assert.deepEqual(seen.changeset.files.map((f) => f.path), ['src/greet.js']);
  await editorOn1.agent.acceptAll.mutate({ projectId, runId: started.id });
  await waitFor(() => greet.text.toString().includes('Bonjour, ${name}!'), 'the accepted change on node 1');
});
