import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { AppError, CLOSE_CODES, fileDocName, treeDocName } from '@tandem/protocol';
import { MemoryDocumentStore } from './MemoryDocumentStore.ts';
import { startTestServer } from './testing/TestServer.ts';
import { TestClient } from './testing/TestClient.ts';
import { RawClient } from './testing/RawClient.ts';
import { ManualTimers } from './testing/ManualTimers.ts';
import { ObservedStore } from './testing/ObservedStore.ts';
import { SeededRandom, testSeed } from './testing/SeededRandom.ts';
import { storedText } from './testing/storedText.ts';
import { sleep, waitFor } from './testing/waitFor.ts';
import { encodeAwareness, encodeSyncStep1, encodeUpdate } from './wireProtocol.ts';

const DOC = 'p1/file/limits';
const QUERY_AWARENESS = new Uint8Array([3]);

function envelope(...parts: (number | Uint8Array)[]): Uint8Array {
  const encoder = encoding.createEncoder();
  for (const part of parts) {
    if (typeof part === 'number') encoding.writeVarUint(encoder, part);
    else encoding.writeVarUint8Array(encoder, part);
  }
  return encoding.toUint8Array(encoder);
}

/** Sends `frame`, then a query-awareness probe: either the probe is answered (frame accepted) or the socket closes. */
async function verdict(client: RawClient, frame: Uint8Array | string): Promise<'accepted' | number> {
  const before = client.received.length;
  client.send(frame);
  client.send(QUERY_AWARENESS);
  await waitFor(() => client.closeCode !== null || client.received.length > before, 'probe answered or closed');
  return client.closeCode ?? 'accepted';
}

const HAND_MADE: [string, Uint8Array | string][] = [
  ['empty frame', new Uint8Array([])],
  ['truncated varint', new Uint8Array([0x80])],
  ['truncated sync step', new Uint8Array([0, 0x80])],
  ['truncated length', new Uint8Array([0, 2, 0x85])],
  ['length beyond the frame', new Uint8Array([0, 2, 50, 1, 2])],
  ['unknown message type', new Uint8Array([5])],
  ['auth message from a client', new Uint8Array([2, 0, 1, 65])],
  ['unknown sync step', envelope(0, 7, new Uint8Array([0]))],
  ['trailing bytes', new Uint8Array([3, 3])],
  ['text frame', 'hello'],
  ['garbage update', envelope(0, 2, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))],
  ['garbage state vector', envelope(0, 0, new Uint8Array([5, 0x80]))],
  ['garbage awareness', encodeAwareness(new Uint8Array([1, 7, 1, 3, 123, 34, 120]))],
  ['huge varint', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])],
  // Found by the fuzz below (SEED=3784030652): Yjs integrated the struct, then failed on the missing
  // delete set, and the empty struct broke the document for everyone and its stored log for good.
  ['an empty struct cut off before its delete set', envelope(0, 2, emptyStructUpdate().slice(0, -1))],
  ['an empty struct', envelope(0, 2, emptyStructUpdate())],
];

/** One client, one struct: a deleted item of length 0 under `content`, then an empty delete set. */
function emptyStructUpdate(): Uint8Array {
  const encoder = encoding.createEncoder();
  for (const n of [1, 1, 42, 0, 0x21, 1]) encoding.writeVarUint(encoder, n);
  encoding.writeVarString(encoder, 'content');
  encoding.writeVarString(encoder, 'key');
  encoding.writeVarUint(encoder, 0); // ContentDeleted: length 0
  encoding.writeVarUint(encoder, 0); // delete set: no clients
  return encoding.toUint8Array(encoder);
}

test('malformed frames close only their connection with 4400 (oversized: 4413); the server and others carry on', async (t) => {
  const seed = testSeed();
  t.diagnostic(`SEED=${seed}`);
  const random = new SeededRandom(seed);
  const store = new MemoryDocumentStore();
  const server = await startTestServer({ store, limits: { maxMessageBytes: 64 * 1024 } });
  const alice = new TestClient(server.url, DOC, 'alice-token');
  const bob = new TestClient(server.url, DOC, 'bob-token');
  let raw = new RawClient(server.url, DOC, 'alice-token');
  // y-protocols logs (and swallows) an update a client cannot apply: the server must never relay one.
  const clientErrors: unknown[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => {
    if (String(args[0]).includes('Yjs update')) clientErrors.push(args[1]);
    else consoleError(...args);
  };
  const reopen = async () => {
    raw.close();
    raw = new RawClient(server.url, DOC, 'alice-token');
    await raw.answered();
  };
  try {
    await Promise.all([alice.synced(), bob.synced()]);
    alice.text.insert(0, 'before the fuzz;');
    await raw.answered();
    for (const [name, frame] of HAND_MADE) {
      assert.equal(await verdict(raw, frame), CLOSE_CODES.BAD_MESSAGE, name);
      await reopen();
    }
    assert.equal(await verdict(raw, new Uint8Array(64 * 1024 + 1)), CLOSE_CODES.TOO_LARGE, 'oversized');
    await reopen();

    const outcomes = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const result = await verdict(raw, randomFrame(random));
      assert.ok(result === 'accepted' || result === CLOSE_CODES.BAD_MESSAGE, `frame ${i}: ${result}`);
      outcomes.set(String(result), (outcomes.get(String(result)) ?? 0) + 1);
      if (result !== 'accepted') await reopen();
      if (i % 50 === 0) bob.text.insert(bob.text.length, `${i};`);
    }
    t.diagnostic(`fuzz outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);

    alice.text.insert(alice.text.length, 'after the fuzz');
    await waitFor(() => alice.content === bob.content && bob.content.includes('after the fuzz'), 'alice and bob still converge');
    assert.deepEqual(alice.closeCodes, []);
    assert.deepEqual(bob.closeCodes, []);
    assert.deepEqual(clientErrors, [], 'no client was sent an update it could not apply');
    assert.deepEqual(server.logger.errors, []);
    await server.sync.close();
    assert.equal(await storedText(store, DOC), bob.content, 'the stored document still loads');
  } finally {
    console.error = consoleError;
    raw.close();
    alice.destroy();
    bob.destroy();
    await server.close();
  }
});

function randomFrame(random: SeededRandom): Uint8Array {
  const payload = random.bytes(1 + random.int(48));
  switch (random.int(5)) {
    case 0:
      return payload;
    case 1:
      return encodeUpdate(payload);
    case 2:
      return encodeSyncStep1(payload);
    case 3:
      return encodeAwareness(payload);
    default:
      return encodeUpdate(mutatedUpdate(random));
  }
}

/** A real Yjs update with a few bytes flipped or cut: reaches deep into Yjs's decoder. */
function mutatedUpdate(random: SeededRandom): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('content').insert(0, random.word(8));
  if (random.next() < 0.5) doc.getMap('meta').set(random.word(3), random.int(1000));
  const update = Y.encodeStateAsUpdate(doc);
  for (let flips = 1 + random.int(3); flips > 0; flips--) update[random.int(update.length)] = random.int(256);
  return random.next() < 0.3 ? update.slice(0, random.int(update.length)) : update;
}

test('per-user limits: connections (4430) and distinct documents (4430)', async () => {
  const server = await startTestServer({ limits: { maxConnectionsPerUser: 3, maxDocumentsPerUser: 2 } });
  const clients: TestClient[] = [];
  const open = (doc: string) => {
    const client = new TestClient(server.url, doc, 'alice-token');
    clients.push(client);
    return client;
  };
  try {
    const a1 = open('p1/file/a');
    const b1 = open('p1/file/b');
    await Promise.all([a1.synced(), b1.synced()]);
    const c1 = open('p1/file/c');
    await c1.closedWith(CLOSE_CODES.TOO_MANY_CONNECTIONS);
    const a2 = open('p1/file/a');
    await a2.synced();
    const a3 = open('p1/file/a');
    await a3.closedWith(CLOSE_CODES.TOO_MANY_CONNECTIONS);
    const bob = new TestClient(server.url, 'p1/file/c', 'bob-token');
    clients.push(bob);
    await bob.synced('other users are unaffected');
    a2.provider.disconnect();
    await waitFor(() => server.sync.stats().connections === 3, 'slot freed');
    const a4 = open('p1/file/a');
    await a4.synced('a freed slot can be used again');
  } finally {
    for (const client of clients) client.destroy();
    await server.close();
  }
});

test('messages sent while the document loads are held, up to a limit (4429)', async () => {
  const store = new ObservedStore(new MemoryDocumentStore());
  let releaseLoad = () => {};
  store.loadGate = new Promise((resolve) => (releaseLoad = resolve));
  const server = await startTestServer({ store, limits: { maxHeldMessages: 3 } });
  const patient = new RawClient(server.url, DOC, 'alice-token');
  const flooding = new RawClient(server.url, DOC, 'bob-token');
  try {
    await Promise.all([patient.opened(), flooding.opened()]);
    patient.send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())));
    for (let i = 0; i < 4; i++) flooding.send(QUERY_AWARENESS);
    assert.equal(await flooding.closed(), CLOSE_CODES.RATE_LIMITED);
    releaseLoad();
    await waitFor(() => patient.received.length >= 2, 'held step 1 answered after the load');
  } finally {
    patient.close();
    flooding.close();
    await server.close();
  }
});

test('a client that stops answering pings is dropped', async () => {
  const timers = new ManualTimers();
  const server = await startTestServer({ timers, tuning: { pingIntervalMs: 1000 } });
  const silent = new WebSocket(`${server.url}/${DOC}?token=alice-token`, { autoPong: false });
  const healthy = new TestClient(server.url, DOC, 'bob-token');
  let silentClosed = false;
  silent.on('close', () => (silentClosed = true));
  silent.on('error', () => {});
  try {
    await healthy.synced();
    await waitFor(() => server.sync.stats().connections === 2, 'both connected');
    timers.advance(1000); // ping
    await sleep(50); // the healthy client's pong travels back
    timers.advance(1000); // the silent one missed it
    await waitFor(() => silentClosed, 'silent client dropped');
    assert.equal(server.sync.stats().connections, 1);
    assert.equal(healthy.provider.wsconnected, true);
  } finally {
    silent.terminate();
    healthy.destroy();
    await server.close();
  }
});

test('a client that stops reading is disconnected instead of buffering without bound', async () => {
  const server = await startTestServer({ limits: { maxBufferedBytes: 256 * 1024 } });
  const writer = new TestClient(server.url, DOC, 'alice-token');
  const stalled = new RawClient(server.url, DOC, 'bob-token');
  try {
    await writer.synced();
    await stalled.answered();
    stalled.socket.pause();
    const chunk = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 2000 && server.sync.stats().connections === 2; i++) {
      writer.text.insert(writer.text.length, chunk);
      if (i % 10 === 0) await sleep(1);
    }
    await waitFor(() => server.sync.stats().connections === 1, 'stalled client dropped');
    assert.equal(writer.provider.wsconnected, true);
  } finally {
    writer.destroy();
    stalled.close();
    await server.close();
  }
});

test('awareness and state-request floods are cut off with 4429; a client within the rate is not', async () => {
  let now = 0;
  const server = await startTestServer({ clock: () => now, limits: { controlMessagesPerSecond: 10, controlMessagesBurst: 20 } });
  const bob = new TestClient(server.url, DOC, 'bob-token');
  const steady = new RawClient(server.url, DOC, 'alice-token');
  const flooding = new RawClient(server.url, DOC, 'alice-token');
  const awarenessOf = (clientId: number, clock: number) => {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, JSON.stringify({ user: { name: `flood ${clock}` } }));
    return encodeAwareness(encoding.toUint8Array(encoder));
  };
  try {
    await Promise.all([bob.synced(), steady.answered(), flooding.answered()]);
    // The burst, then the sustained rate: all answered, never closed.
    for (let i = 0; i < 20; i++) steady.send(QUERY_AWARENESS);
    await waitFor(() => steady.received.length >= 1 + 20, 'burst answered');
    now += 1000;
    for (let i = 0; i < 10; i++) steady.send(QUERY_AWARENESS);
    await waitFor(() => steady.received.length >= 1 + 30, 'refilled budget answered');
    assert.equal(steady.closeCode, null);

    // Awareness updates count too: the 21st within the same instant closes the flooder only.
    for (let i = 1; i <= 21; i++) flooding.send(awarenessOf(4242, i));
    assert.equal(await flooding.closed(), CLOSE_CODES.RATE_LIMITED);
    steady.send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())));
    assert.equal(await steady.closed(), CLOSE_CODES.RATE_LIMITED, 'sync step 1 is a state request: it counts');

    // The flooder's state was withdrawn. Bob's y-websocket echoed all 21 updates back (stale
    // clocks, changing nothing): those are free, so bob was never limited.
    await waitFor(() => !bob.provider.awareness.getStates().has(4242), 'flood state removed');
    bob.text.insert(0, 'still here');
    assert.equal(bob.provider.wsconnected, true);
    assert.deepEqual(bob.closeCodes, []);
  } finally {
    steady.close();
    flooding.close();
    bob.destroy();
    await server.close();
  }
});

test('a refused update costs its user a second of update budget: one who keeps resending it is soon rate limited (4429) before it is read', async () => {
  const now = 0;
  let judged = 0;
  const server = await startTestServer({
    clock: () => now,
    limits: { userUpdateBytesPerSecond: 10_000, userUpdateBurstBytes: 30_000 },
    validateUpdate: () => {
      judged++;
      throw new AppError('TOO_LARGE', 'Refused by the test.');
    },
  });
  const source = new Y.Doc();
  source.getText('content').insert(0, 'refused');
  const update = encodeUpdate(Y.encodeStateAsUpdate(source));
  try {
    const codes: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const client = new RawClient(server.url, DOC, 'alice-token');
      await client.answered();
      client.send(update); // as the stock client does after each reconnect
      codes.push(await client.closed());
      client.close();
    }
    // The burst holds three refusals (10,000 each); then the budget is spent and stays spent (the clock stands still).
    assert.deepEqual(codes, [4413, 4413, 4413, CLOSE_CODES.RATE_LIMITED, CLOSE_CODES.RATE_LIMITED]);
    assert.equal(judged, 3, 'rate-limited attempts are refused before validateUpdate reads them');
  } finally {
    await server.close();
  }
});

test('an update past the document size limit is refused with a message naming the limit and what would exceed it: a file or the project\'s file tree', async () => {
  const server = await startTestServer({ limits: { maxDocumentBytes: 2048 } });
  const big = new Y.Doc();
  big.getMap('tree').set('e1', { path: 'x'.repeat(4096), kind: 'file' });
  const update = encodeUpdate(Y.encodeStateAsUpdate(big));
  try {
    const reasons: string[] = [];
    for (const name of [fileDocName('p1', 'f-big'), treeDocName('p1')]) {
      const client = new RawClient(server.url, name, 'alice-token');
      await client.answered();
      client.send(update);
      assert.equal(await client.closed(), CLOSE_CODES.TOO_LARGE);
      reasons.push(client.closeReason);
      client.close();
    }
    assert.deepEqual(reasons, [
      'This file would exceed the 2 KiB limit: the change was not saved.',
      'The project\'s file tree would exceed the 2 KiB limit: the change was not saved.',
    ]);
  } finally {
    await server.close();
  }
});
