// A node dies (kill -9) or shuts down (SIGTERM) in the middle of a 20-client edit storm. The
// clients reach the two nodes through a round-robin TCP proxy that skips dead backends (a load
// balancer without session affinity), so they reconnect to the surviving node. Nothing any client
// had is lost, everyone converges, and the node, restarted, serves the same text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { connectSync, signUpOverHttp, waitFor, type SignedIn, type SyncClient } from '../testing/clients.ts';
import { RoundRobinProxy } from '../testing/RoundRobinProxy.ts';
import { SeededRandom, testSeed } from '@tandem/collab/testing';
import { TandemCluster } from '../testing/TandemCluster.ts';

const CLIENTS = 20;
// Every y-websocket provider listens for process exit.
process.setMaxListeners(CLIENTS + 20);
const STEPS = 600;

let cluster: TandemCluster;
let proxy: RoundRobinProxy;
let proxyUrl: string;
let owner: SignedIn;
const clients: SyncClient[] = [];

before(async () => {
  cluster = await TandemCluster.start(2);
  proxy = new RoundRobinProxy(backends());
  proxyUrl = await proxy.listen();
  owner = await signUpOverHttp(proxyUrl, 'Owner');
});

after(async () => {
  for (const c of clients) c.destroy();
  await proxy?.close();
  await cluster?.destroy();
});

function backends() {
  return cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
}

/** A new project's src/index.js document. */
async function newFileDocument(name: string): Promise<string> {
  const { id: projectId } = await owner.api.projects.create.mutate({ name, template: 'node' });
  const tree = connectSync(proxyUrl, treeDocName(projectId), { cookie: owner.cookie });
  await tree.synced;
  const fileId = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === 'src/index.js')![0];
  tree.destroy();
  return fileDocName(projectId, fileId);
}

/** Whether `final` holds everything in `snapshot` (applying it changes nothing). */
function contains(final: Y.Doc, snapshot: Uint8Array): boolean {
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(final));
  const before = [Buffer.from(Y.encodeStateVector(copy)).toString('base64'), copy.getText(FILE_TEXT).toString()];
  Y.applyUpdate(copy, snapshot);
  const after = [Buffer.from(Y.encodeStateVector(copy)).toString('base64'), copy.getText(FILE_TEXT).toString()];
  return before[0] === after[0] && before[1] === after[1];
}

/**
 * Runs the storm; at a seeded random step `stop` is called on node 0 and every client's whole
 * state is recorded at that moment (what it received from the servers plus its own edits).
 */
async function storm(random: SeededRandom, editors: SyncClient[], stopAt: number, stop: () => void): Promise<Uint8Array[]> {
  let recorded: Uint8Array[] = [];
  for (let step = 0; step < STEPS; step++) {
    if (step === stopAt) {
      stop();
      recorded = editors.map((c) => Y.encodeStateAsUpdate(c.doc));
    }
    const text = random.pick(editors).text;
    if (random.next() < 0.75 || text.length < 10) text.insert(random.int(text.length + 1), random.word(5));
    else text.delete(random.int(text.length - 3), 1 + random.int(3));
    if (random.next() < 0.2) await new Promise((r) => setTimeout(r, random.int(3)));
    else if (random.next() < 0.3) await new Promise((r) => setImmediate(r));
  }
  return recorded;
}

async function convergedText(editors: SyncClient[], seed: number): Promise<string> {
  await waitFor(() => editors.every((c) => c.provider.wsconnected && c.provider.synced), `every client reconnected (SEED=${seed})`, 20_000);
  await waitFor(() => new Set(editors.map((c) => c.text.toString())).size === 1, `every client converged (SEED=${seed})`, 20_000);
  return editors[0]!.text.toString();
}

async function runFailure(t: { diagnostic(message: string): void }, kind: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const seed = testSeed();
  t.diagnostic(`SEED=${seed}`);
  const random = new SeededRandom(seed);
  const doc = await newFileDocument(kind);
  const editors = Array.from({ length: CLIENTS }, () => connectSync(proxyUrl, doc, { cookie: owner.cookie }));
  clients.push(...editors);
  try {
    await Promise.all(editors.map((c) => c.synced));
    const counts = backends().map((b) => proxy.accepted.get(b.port) ?? 0);
    assert.ok(counts.every((n) => n >= CLIENTS / 2 - 2), `clients are split across both nodes (${counts.join('/')})`);
    const victim = cluster.nodes[0]!;
    const stopped = { exit: Promise.resolve<number | null>(null) };
    const stopAt = 100 + random.int(STEPS - 200);
    const started = performance.now();
    const recorded = await storm(random, editors, stopAt, () => {
      stopped.exit = victim.stop(kind);
    });
    const exitCode = await stopped.exit;
    if (kind === 'SIGTERM') {
      assert.equal(exitCode, 0, `graceful shutdown exits cleanly:\n${victim.log().slice(-2000)}`);
      assert.ok(editors.some((c) => c.closes.includes(4000)), 'clients of the stopped node were told to reconnect (4000)');
    }
    const stormed = performance.now();
    const final = await convergedText(editors, seed);
    const converged = performance.now();
    const finalDoc = editors[0]!.doc;
    recorded.forEach((snapshot, i) => assert.ok(contains(finalDoc, snapshot), `client ${i}: everything it had when the node stopped survives (SEED=${seed})`));

    const restarted = await cluster.restart(0);
    proxy.setBackends(backends());
    const reader = connectSync(restarted.url, doc, { cookie: owner.cookie });
    clients.push(reader);
    await reader.synced;
    assert.equal(reader.text.toString(), final, 'the restarted node serves the converged text');
    const ms = (a: number, b: number) => Math.round(b - a);
    t.diagnostic(`node stopped at step ${stopAt}/${STEPS}; storm ${ms(started, stormed)} ms, reconnect + converge ${ms(stormed, converged)} ms, restart + reload ${ms(converged, performance.now())} ms`);
  } catch (error) {
    console.error(`${kind} test failed; replay with SEED=${seed}`);
    throw error;
  } finally {
    for (const c of editors) c.destroy();
  }
}

test('kill -9 of a node during a 20-client edit storm loses nothing; its clients move to the other node (SEED=… replays)', (t) => runFailure(t, 'SIGKILL'));

test('SIGTERM during the storm: clients get 4000, reconnect to the other node, nothing is lost (SEED=… replays)', (t) => runFailure(t, 'SIGTERM'));
