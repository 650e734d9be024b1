import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { encodeStateVector } from 'yjs';
import { startTestServer } from './testing/TestServer.ts';
import { TestClient } from './testing/TestClient.ts';
import { RawClient } from './testing/RawClient.ts';
import { waitFor } from './testing/waitFor.ts';
import { MESSAGE_SYNC, SYNC_UPDATE, encodeSyncStep1, encodeUpdate } from './wireProtocol.ts';

const DOC = 'p1/file/f1';

test('stock y-websocket clients sync text and awareness through the server', async () => {
  const server = await startTestServer();
  const alice = new TestClient(server.url, DOC, 'alice-token');
  const bob = new TestClient(server.url, DOC, 'bob-token');
  try {
    await alice.synced();
    await bob.synced();
    alice.text.insert(0, 'hello');
    await waitFor(() => bob.content === 'hello', 'bob sees hello');
    bob.text.insert(5, ' world');
    await waitFor(() => alice.content === 'hello world', 'alice sees bob');

    alice.provider.awareness.setLocalStateField('cursor', 3);
    await waitFor(() => bob.provider.awareness.getStates().get(alice.doc.clientID)?.cursor === 3, 'awareness relayed');
    alice.provider.disconnect();
    await waitFor(() => !bob.provider.awareness.getStates().has(alice.doc.clientID), 'awareness removed on leave');
    assert.deepEqual(server.logger.errors, []);
  } finally {
    alice.destroy();
    bob.destroy();
    await server.close();
  }
});

test('an update is never echoed to its sender; query-awareness is answered', async () => {
  const server = await startTestServer();
  const raw = new RawClient(server.url, DOC, 'alice-token');
  const observer = new TestClient(server.url, DOC, 'bob-token');
  try {
    await raw.answered();
    await observer.synced();
    raw.send(encodeSyncStep1(encodeStateVector(new Y.Doc())));
    const source = new Y.Doc();
    const updates: Uint8Array[] = [];
    source.on('update', (u: Uint8Array) => updates.push(u));
    source.getText('content').insert(0, 'abc');
    raw.send(encodeUpdate(updates[0]!));
    await waitFor(() => observer.content === 'abc', 'observer sees raw update');
    raw.send(new Uint8Array([3])); // query awareness
    await waitFor(() => raw.received.some((m) => m[0] === 1), 'awareness answer');
    const echoed = raw.received.filter((m) => {
      const d = decoding.createDecoder(m);
      return decoding.readVarUint(d) === MESSAGE_SYNC && decoding.readVarUint(d) === SYNC_UPDATE;
    });
    assert.equal(echoed.length, 0, 'no update came back to its sender');
  } finally {
    raw.close();
    observer.destroy();
    await server.close();
  }
});

test('unknown document names are refused with 4404', async () => {
  const server = await startTestServer();
  const client = new TestClient(server.url, 'p1/../etc', 'alice-token');
  const other = new RawClient(server.url.replace('/sync', '/elsewhere'), 'p1/tree', 'alice-token');
  try {
    await client.closedWith(4404);
    assert.equal(await other.closed(), 4404);
  } finally {
    client.destroy();
    other.close();
    await server.close();
  }
});

test('a burst of small but costly updates from one client is handled in slices too: another client\'s update is judged before the burst ends', async () => {
  const judged: string[] = [];
  const server = await startTestServer({
    // Each of alice's updates costs ~12 ms to judge, though it is a few bytes.
    validateUpdate: ({ user }) => {
      judged.push(user.id);
      if (user.id !== 'alice') return;
      const until = performance.now() + 12;
      while (performance.now() < until);
    },
  });
  const alice = new RawClient(server.url, DOC, 'alice-token');
  const bob = new RawClient(server.url, DOC, 'bob-token');
  try {
    await alice.answered();
    await bob.answered();
    const source = new Y.Doc();
    const updates: Uint8Array[] = [];
    source.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 20; i++) source.getText('content').insert(i, 'a');
    for (const update of updates) alice.send(encodeUpdate(update));
    const other = new Y.Doc();
    other.getText('content').insert(0, 'b');
    bob.send(encodeUpdate(Y.encodeStateAsUpdate(other)));
    await waitFor(() => judged.length === 21, 'every update judged', 15_000);
    assert.ok(judged.indexOf('bob') < 20, `bob's update waited for alice's whole burst: ${judged.join(',')}`);
    assert.deepEqual(server.logger.errors, []);
  } finally {
    alice.close();
    bob.close();
    await server.close();
  }
});

test('thousands of small updates sent at once are all applied, in slices, and the writer stays connected', async () => {
  const server = await startTestServer();
  const raw = new RawClient(server.url, DOC, 'alice-token');
  const observer = new TestClient(server.url, DOC, 'bob-token');
  try {
    await raw.answered();
    await observer.synced();
    // A fast writer (an editing trace replayed as fast as the client can): 5,000 one-character
    // updates written at once; one socket read holds thousands of them, far more than a slice.
    const source = new Y.Doc();
    const updates: Uint8Array[] = [];
    source.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 5_000; i++) source.getText('content').insert(i, String.fromCharCode(97 + (i % 26)));
    for (const update of updates) raw.send(encodeUpdate(update));
    const sent = source.getText('content').toString();
    await waitFor(() => observer.content === sent || raw.closeCode !== null, 'the observer has every update', 30_000);
    assert.equal(raw.closeCode, null, `the writer was closed: ${raw.closeReason}`);
    assert.equal(observer.content, sent);
    assert.deepEqual(server.logger.errors, []);
  } finally {
    raw.close();
    observer.destroy();
    await server.close();
  }
});

test('a burst of large updates from one client is handled in slices: in order, complete, and another client is served meanwhile', async () => {
  const server = await startTestServer();
  const raw = new RawClient(server.url, DOC, 'alice-token');
  const observer = new TestClient(server.url, DOC, 'bob-token');
  try {
    await raw.answered();
    await observer.synced();
    // 24 updates of 40 KB (~1 MB) written at once: the socket delivers far more than a slice (64 KiB) in one turn.
    const source = new Y.Doc();
    const updates: Uint8Array[] = [];
    source.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 24; i++) source.getText('content').insert(source.getText('content').length, `<${i}>${'x'.repeat(40_000)}`);
    for (const update of updates) raw.send(encodeUpdate(update));
    observer.text.insert(0, 'bob');
    const sent = source.getText('content').toString();
    // Bob's concurrent edit lands before or after the first chunk (Yjs orders concurrent inserts at 0).
    const complete = (content: string) => content.includes('bob') && content.replace('bob', '') === sent;
    await waitFor(() => complete(observer.content), 'the observer has every update, in order, and its own edit', 15_000);
    const expected = observer.content;
    assert.equal(raw.closeCode, null, 'the bursting client stays connected');
    assert.deepEqual(server.logger.errors, []);
    const reader = new TestClient(server.url, DOC, 'bob-token');
    await reader.synced();
    assert.equal(reader.content, expected, 'a fresh client reads the same');
    reader.destroy();
  } finally {
    raw.close();
    observer.destroy();
    await server.close();
  }
});
