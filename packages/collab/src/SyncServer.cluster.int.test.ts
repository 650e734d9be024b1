// Two SyncServers ("nodes") in one process sharing a store and a real Redis: edits, awareness and
// late joiners cross nodes; a node that lost bus messages heals from the store after reconnecting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisDocumentBus } from './DocumentBus.ts';
import { RedisPubSub } from './RedisPubSub.ts';
import type { ChangePayload } from './SyncExtension.ts';
import { SeededRandom, testSeed } from './testing/SeededRandom.ts';
import { SharedMemoryStore } from './testing/SharedMemoryStore.ts';
import { TestClient } from './testing/TestClient.ts';
import { startTestServer, type TestServer } from './testing/TestServer.ts';
import { TEST_REDIS_URL, testRedisPrefix } from './testing/redisTesting.ts';
import { sleep, waitFor } from './testing/waitFor.ts';

interface Node {
  server: TestServer;
  pubsub: RedisPubSub;
  changes: ChangePayload[];
}

async function startCluster(count: number): Promise<{ nodes: Node[]; store: SharedMemoryStore; close(): Promise<void> }> {
  const prefix = testRedisPrefix();
  const store = new SharedMemoryStore();
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const pubsub = new RedisPubSub({ url: TEST_REDIS_URL, prefix });
    await pubsub.ready();
    const changes: ChangePayload[] = [];
    const server = await startTestServer({
      store,
      bus: new RedisDocumentBus(pubsub, `node-${i}`),
      extensions: [{ onChange: (payload) => void changes.push(payload) }],
    });
    nodes.push({ server, pubsub, changes });
  }
  return {
    nodes,
    store,
    async close() {
      for (const node of nodes) await node.server.close();
      for (const node of nodes) await node.pubsub.close();
    },
  };
}

test('edits cross nodes and every client converges (SEED=… replays)', async (t) => {
  const seed = testSeed();
  t.diagnostic(`SEED=${seed}`);
  const random = new SeededRandom(seed);
  const cluster = await startCluster(2);
  const doc = 'p1/file/cluster';
  const clients = [0, 1, 2, 3].map((i) => new TestClient(cluster.nodes[i % 2]!.server.url, doc, i % 2 ? 'bob-token' : 'alice-token'));
  try {
    await Promise.all(clients.map((c) => c.synced()));
    for (let step = 0; step < 300; step++) {
      const client = random.pick(clients);
      const text = client.text;
      if (random.next() < 0.7 || text.length < 5) text.insert(random.int(text.length + 1), random.word(5));
      else text.delete(random.int(text.length - 2), 2);
      if (random.next() < 0.2) await sleep(random.int(4));
    }
    await waitFor(() => new Set(clients.map((c) => c.content)).size === 1, `clients converge (SEED=${seed})`, 15_000);
    const remote = cluster.nodes[1]!.changes.filter((c) => c.remote && c.documentName === doc);
    assert.ok(remote.length > 0, 'node 1 ran onChange for changes made through node 0, marked remote');
    assert.ok(remote.every((c) => c.user?.id === 'alice'), 'remote changes keep their author');
    const final = clients[0]!.content;
    for (const c of clients) c.destroy();
    await cluster.close();
    const fresh = await startTestServer({ store: cluster.store });
    const reader = new TestClient(fresh.url, doc, 'alice-token');
    await reader.synced();
    assert.equal(reader.content, final, 'the shared store holds the converged text after both nodes compacted');
    reader.destroy();
    await fresh.close();
  } finally {
    for (const c of clients) c.destroy();
    await cluster.close();
  }
});

test('awareness crosses nodes: live changes, late joiners, and departures', async () => {
  const cluster = await startCluster(2);
  const doc = 'p1/file/presence';
  const [nodeA, nodeB] = cluster.nodes as [Node, Node];
  const alice = new TestClient(nodeA.server.url, doc, 'alice-token');
  let bob: TestClient | null = null;
  try {
    await alice.synced();
    alice.provider.awareness.setLocalStateField('user', { name: 'Alice' });
    // Bob's node loads the document after Alice's state was set: it asks the other nodes.
    bob = new TestClient(nodeB.server.url, doc, 'bob-token');
    await bob.synced();
    const bobAwareness = bob.provider.awareness;
    await waitFor(() => (bobAwareness.getStates().get(alice.doc.clientID) as { user?: { name: string } } | undefined)?.user?.name === 'Alice', 'late joiner on node B sees Alice');
    bobAwareness.setLocalStateField('cursor', 42);
    await waitFor(() => (alice.provider.awareness.getStates().get(bob!.doc.clientID) as { cursor?: number } | undefined)?.cursor === 42, 'Alice sees Bob move');
    alice.provider.awareness.setLocalStateField('cursor', 7);
    await waitFor(() => (bobAwareness.getStates().get(alice.doc.clientID) as { cursor?: number } | undefined)?.cursor === 7, 'Bob sees Alice move');
    const bobId = bob.doc.clientID;
    bob.destroy();
    bob = null;
    await waitFor(() => !alice.provider.awareness.getStates().has(bobId), 'Bob leaving node B removes his cursor on node A');
  } finally {
    alice.destroy();
    bob?.destroy();
    await cluster.close();
  }
});

test('a node that missed bus messages (Redis reconnect) heals from the store', async () => {
  const cluster = await startCluster(2);
  const doc = 'p1/file/heal';
  const [nodeA, nodeB] = cluster.nodes as [Node, Node];
  const alice = new TestClient(nodeA.server.url, doc, 'alice-token');
  const bob = new TestClient(nodeB.server.url, doc, 'bob-token');
  try {
    await Promise.all([alice.synced(), bob.synced()]);
    alice.text.insert(0, 'before ');
    await waitFor(() => bob.content === 'before ', 'first edit crosses');
    nodeB.pubsub.simulateConnectionLoss();
    alice.text.insert(alice.text.length, 'during');
    await waitFor(() => bob.content === 'before during', 'the edit published while node B was disconnected arrives after it reconnects', 10_000);
  } finally {
    alice.destroy();
    bob.destroy();
    await cluster.close();
  }
});
