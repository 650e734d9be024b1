import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';
import { startTestServer } from './testing/TestServer.ts';
import { TestClient } from './testing/TestClient.ts';
import { SeededRandom, testSeed } from './testing/SeededRandom.ts';
import { sleep, waitFor } from './testing/waitFor.ts';

const DOC = 'p1/file/converge';
const CLIENTS = 5;
const STEPS = 600;

test('five clients editing randomly, with delays and reconnects, converge (SEED=… replays)', async (t) => {
  const seed = testSeed();
  t.diagnostic(`SEED=${seed}`);
  try {
    await runConvergence(new SeededRandom(seed));
  } catch (error) {
    console.error(`convergence failed; replay with SEED=${seed} npm test -w @tandem/collab`);
    throw error;
  }
});

async function runConvergence(random: SeededRandom): Promise<void> {
  const server = await startTestServer();
  const tokens = ['alice-token', 'bob-token'];
  const clients = Array.from({ length: CLIENTS }, (_, i) => new TestClient(server.url, DOC, tokens[i % 2]!));
  try {
    await Promise.all(clients.map((c) => c.synced()));
    for (let step = 0; step < STEPS; step++) {
      await randomAction(random, random.pick(clients));
    }
    for (const client of clients) if (!client.provider.shouldConnect) client.provider.connect();
    await Promise.all(clients.map((c) => c.synced('reconnected client synced')));
    const contents = () => clients.map((c) => c.content);
    await waitFor(() => new Set(contents()).size === 1, 'all clients converge', 15_000);
    const final = clients[0]!.content;
    assert.ok(final.length > 0, 'the run produced text');

    await server.close();
    const stored = await server.store.load(DOC);
    const reloaded = new Y.Doc();
    if (stored.snapshot) Y.applyUpdate(reloaded, stored.snapshot);
    for (const update of stored.updates) Y.applyUpdate(reloaded, update);
    assert.equal(reloaded.getText(FILE_TEXT).toString(), final, 'the store holds the converged text');
    assert.deepEqual(server.logger.errors, []);
  } finally {
    for (const client of clients) client.destroy();
    await server.close();
  }
}

async function randomAction(random: SeededRandom, client: TestClient): Promise<void> {
  const roll = random.next();
  const text = client.text;
  if (roll < 0.55) {
    text.insert(random.int(text.length + 1), random.word(6));
  } else if (roll < 0.8) {
    if (text.length > 0) {
      const at = random.int(text.length);
      text.delete(at, Math.min(text.length - at, 1 + random.int(5)));
    }
  } else if (roll < 0.86) {
    if (client.provider.shouldConnect) client.provider.disconnect();
    else client.provider.connect();
  } else if (roll < 0.9) {
    client.provider.awareness.setLocalStateField('cursor', random.int(100));
  } else {
    await sleep(random.int(8));
  }
  if (random.next() < 0.3) await new Promise((resolve) => setImmediate(resolve));
}
