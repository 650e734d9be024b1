import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { CLOSE_CODES, FILE_TEXT } from '@tandem/protocol';
import type { DocumentStore } from './DocumentStore.ts';
import { MemoryDocumentStore } from './MemoryDocumentStore.ts';
import { startTestServer } from './testing/TestServer.ts';
import { TestClient } from './testing/TestClient.ts';
import { RawClient } from './testing/RawClient.ts';
import { ObservedStore } from './testing/ObservedStore.ts';
import { SeededRandom, testSeed } from './testing/SeededRandom.ts';
import { storedText } from './testing/storedText.ts';
import { sleep, waitFor } from './testing/waitFor.ts';
import { MESSAGE_SYNC, SYNC_STEP2, SYNC_UPDATE, encodeSyncStep1 } from './wireProtocol.ts';

const DOC = 'p1/file/durable';

function syncPayload(message: Uint8Array): { step: number; payload: Uint8Array } | null {
  const decoder = decoding.createDecoder(message);
  if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return null;
  const step = decoding.readVarUint(decoder);
  return { step, payload: decoding.readVarUint8Array(decoder) };
}

async function barrier(client: TestClient, observer: TestClient, mark: number): Promise<void> {
  client.provider.awareness.setLocalStateField('mark', mark);
  await waitFor(() => observer.provider.awareness.getStates().get(client.doc.clientID)?.mark === mark, `barrier ${mark}`);
}

test('every update and every sync answer a client receives was durable before it was sent', async (t) => {
  const seed = testSeed();
  t.diagnostic(`SEED=${seed}`);
  const random = new SeededRandom(seed);
  const store = new ObservedStore(new MemoryDocumentStore());
  store.appendDelay = () => sleep(random.int(6));
  const server = await startTestServer({ store });
  const writer = new TestClient(server.url, DOC, 'alice-token');
  const coWriter = new TestClient(server.url, DOC, 'bob-token'); // two authors per batch: merged fan-out
  const observer = new RawClient(server.url, DOC, 'bob-token');
  const violations: string[] = [];
  let checkedUpdates = 0;
  let checkedAnswers = 0;
  // Everything the store has acknowledged so far, kept current as appends complete.
  const durable = new Y.Doc({ gc: false });
  let applied = 0;
  const durableSnapshot = () => {
    const appended = store.appendedUpdates(DOC);
    for (; applied < appended.length; applied++) Y.applyUpdate(durable, appended[applied]!);
    return Y.snapshot(durable);
  };
  // Checked synchronously on arrival: the store must already have what the message carries.
  const check = (message: Uint8Array) => {
    const sync = syncPayload(message);
    if (sync?.step === SYNC_UPDATE) {
      checkedUpdates++;
      if (!Y.snapshotContainsUpdate(durableSnapshot(), sync.payload)) violations.push('update broadcast before it was durable');
    } else if (sync?.step === SYNC_STEP2) {
      checkedAnswers++;
      if (!Y.snapshotContainsUpdate(durableSnapshot(), sync.payload)) violations.push('sync answer contained non-durable content');
    }
  };
  observer.socket.on('message', (data: Buffer) => check(new Uint8Array(data)));
  const latecomers: RawClient[] = [];
  try {
    await Promise.all([writer.synced(), coWriter.synced()]);
    await observer.answered();
    for (let i = 0; i < 300; i++) {
      const author = random.next() < 0.7 ? writer : coWriter;
      author.text.insert(random.int(author.text.length + 1), random.word(3));
      if (i % 60 === 30) {
        // A client joining mid-stream asks for the whole state while appends are in flight.
        const late = new RawClient(server.url, DOC, 'bob-token');
        late.socket.on('message', (data: Buffer) => check(new Uint8Array(data)));
        late.socket.once('open', () => late.send(encodeSyncStep1(new Uint8Array([0]))));
        latecomers.push(late);
      }
      if (random.next() < 0.3) await sleep(random.int(3));
    }
    await waitFor(() => writer.content === coWriter.content, 'writers converge');
    const final = writer.content;
    await waitFor(() => {
      const doc = new Y.Doc();
      for (const update of store.appendedUpdates(DOC)) Y.applyUpdate(doc, update);
      return doc.getText(FILE_TEXT).toString() === final;
    }, 'all writes durable');
    await waitFor(() => latecomers.every((l) => l.received.some((m) => syncPayload(m)?.step === SYNC_STEP2)), 'latecomers answered');
    assert.deepEqual(violations, []);
    assert.ok(checkedUpdates > 100, `observer checked ${checkedUpdates} updates`);
    assert.ok(checkedAnswers >= latecomers.length, `checked ${checkedAnswers} sync answers`);
  } finally {
    writer.destroy();
    coWriter.destroy();
    observer.close();
    for (const late of latecomers) late.close();
    await server.close();
  }
});

test('graceful close flushes everything received, broadcasts it, then closes clients with 4000', async () => {
  const store = new ObservedStore(new MemoryDocumentStore());
  store.appendDelay = () => sleep(25); // a slow disk: plenty is in flight when close() starts
  const server = await startTestServer({ store });
  const writer = new TestClient(server.url, DOC, 'alice-token');
  const observer = new TestClient(server.url, DOC, 'bob-token');
  try {
    await Promise.all([writer.synced(), observer.synced()]);
    for (let i = 0; i < 40; i++) {
      writer.text.insert(writer.text.length, `${i},`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await barrier(writer, observer, 1); // the server has applied every write (not yet stored)
    assert.notEqual(observer.content, writer.content, 'precondition: writes still in flight');
    await server.sync.close();
    await writer.closedWith(CLOSE_CODES.RECONNECT);
    assert.equal(await storedText(store, DOC), writer.content, 'everything the server had is stored');
    assert.equal(observer.content, writer.content, 'and was broadcast before clients were closed');
    assert.deepEqual(server.sync.stats(), { connections: 0, documents: [] });
  } finally {
    writer.destroy();
    observer.destroy();
    await server.close();
  }
});

test('a restarted server serves identical content from the store; empty and stale clients never blank it', async () => {
  const store = new MemoryDocumentStore();
  const first = await startTestServer({ store });
  const author = new TestClient(first.url, DOC, 'alice-token');
  const witness = new TestClient(first.url, DOC, 'bob-token'); // receives only what is durable
  const stale = new Y.Doc();
  try {
    await Promise.all([author.synced(), witness.synced()]);
    author.text.insert(0, 'the first version');
    await waitFor(() => witness.content === 'the first version', 'first version durable');
    Y.applyUpdate(stale, Y.encodeStateAsUpdate(author.doc)); // a client that goes away with this state
    author.text.delete(0, 4);
    author.text.insert(author.text.length, ', edited');
    await waitFor(() => witness.content === author.content, 'edits durable');
  } finally {
    author.destroy();
    witness.destroy();
    await first.close();
  }
  const expected = 'first version, edited';
  assert.equal(await storedText(store, DOC), expected);

  const second = await startTestServer({ store });
  const empty = new TestClient(second.url, DOC, 'bob-token');
  const staleClient = new TestClient(second.url, DOC, 'alice-token', stale);
  const seeded = new Y.Doc();
  seeded.getText(FILE_TEXT).insert(0, 'TEMPLATE'); // a buggy client that seeds content offline
  const seeding = new TestClient(second.url, DOC, 'alice-token', seeded);
  try {
    await Promise.all([empty.synced(), staleClient.synced(), seeding.synced()]);
    assert.equal(empty.content.includes(expected), true);
    await waitFor(() => empty.content === staleClient.content && empty.content === seeding.content, 'all agree');
    assert.ok(empty.content.includes(expected), 'stored content survived every kind of client');
    assert.equal(empty.content.replace('TEMPLATE', ''), expected, 'merged, not overwritten');
  } finally {
    empty.destroy();
    staleClient.destroy();
    seeding.destroy();
    await second.close();
  }
  assert.equal((await storedText(store, DOC)).replace('TEMPLATE', ''), expected);
});

test('no client is answered before the document has loaded', async () => {
  const store = new ObservedStore(new MemoryDocumentStore());
  await store.inner.append(DOC, [contentUpdate('stored text')]);
  let releaseLoad = () => {};
  store.loadGate = new Promise((resolve) => (releaseLoad = resolve));
  const server = await startTestServer({ store });
  const raw = new RawClient(server.url, DOC, 'bob-token');
  const client = new TestClient(server.url, DOC, 'alice-token');
  try {
    await raw.opened();
    raw.send(encodeSyncStep1(new Uint8Array([0])));
    await waitFor(() => store.events.some((e) => e.kind === 'load'), 'load started');
    await sleep(100);
    assert.equal(raw.received.length, 0, 'nothing sent while loading');
    assert.equal(client.provider.synced, false);
    releaseLoad();
    await client.synced();
    assert.equal(client.content, 'stored text');
    await waitFor(() => raw.received.some((m) => syncPayload(m)?.step === SYNC_STEP2), 'queued step 1 answered');
  } finally {
    raw.close();
    client.destroy();
    await server.close();
  }
});

test('a failed load closes clients with 4500 and stores nothing; they reconnect once the store is back', async () => {
  const store = new ObservedStore(new MemoryDocumentStore());
  await store.inner.append(DOC, [contentUpdate('precious')]);
  store.failLoads = 1;
  const server = await startTestServer({ store });
  const client = new TestClient(server.url, DOC, 'alice-token');
  try {
    await client.closedWith(CLOSE_CODES.INTERNAL);
    await client.synced('reconnected after the failed load');
    assert.equal(client.content, 'precious');
    assert.equal(store.events.filter((e) => e.kind !== 'load').length, 0, 'nothing written');
    assert.equal(server.logger.errors.length, 1, 'the failure was logged once');
  } finally {
    client.destroy();
    await server.close();
  }
});

test('a store that fails at once (no I/O in between) still closes the client', async () => {
  const inner = new MemoryDocumentStore();
  const failing: DocumentStore = {
    load: () => Promise.reject(new Error('database unreachable')),
    append: (name, updates) => inner.append(name, updates),
    compact: (name, snapshot, through) => inner.compact(name, snapshot, through),
  };
  const server = await startTestServer({ store: failing });
  const client = new TestClient(server.url, DOC, 'alice-token');
  try {
    await client.closedWith(CLOSE_CODES.INTERNAL);
    assert.equal(client.provider.synced, false);
  } finally {
    client.destroy();
    await server.close();
  }
});

test('appends are retried; a store that stays down closes clients (4500) without losing their edits', async () => {
  const store = new ObservedStore(new MemoryDocumentStore());
  const server = await startTestServer({ store, tuning: { appendRetryDelaysMs: [5, 5] } });
  const alice = new TestClient(server.url, DOC, 'alice-token');
  const bob = new TestClient(server.url, DOC, 'bob-token');
  try {
    await Promise.all([alice.synced(), bob.synced()]);
    store.failAppends = 2; // within the retries
    alice.text.insert(0, 'retried ');
    await waitFor(() => bob.content === 'retried ', 'delivered after retries');
    store.failAppends = 3; // one more than the retries: the document fails
    alice.text.insert(alice.text.length, 'and survived');
    await alice.closedWith(CLOSE_CODES.INTERNAL);
    await waitFor(() => bob.content === 'retried and survived', 'alice re-sent her edit after reconnecting');
    await server.sync.close();
    assert.equal(await storedText(store, DOC), 'retried and survived');
  } finally {
    alice.destroy();
    bob.destroy();
    await server.close();
  }
});

function contentUpdate(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText(FILE_TEXT).insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}
