import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { AppError, FILE_TEXT } from '@tandem/protocol';
import { MemoryDocumentStore } from './MemoryDocumentStore.ts';
import type { ChangePayload, DisconnectPayload, StoreDocumentPayload, SyncExtension } from './SyncExtension.ts';
import { startTestServer } from './testing/TestServer.ts';
import { TestClient } from './testing/TestClient.ts';
import { ManualTimers } from './testing/ManualTimers.ts';
import { ObservedStore } from './testing/ObservedStore.ts';
import { storedText } from './testing/storedText.ts';
import { waitFor } from './testing/waitFor.ts';

const DOC = 'p1/file/life';
const IDLE_MS = 30_000;

class RecordingExtension implements SyncExtension {
  readonly changes: Omit<ChangePayload, 'document'>[] = [];
  readonly stores: StoreDocumentPayload['reason'][] = [];
  readonly disconnects: DisconnectPayload[] = [];

  /** `calls` is shared between extensions to observe their relative order. */
  constructor(
    private readonly name: string,
    readonly calls: string[],
  ) {}

  onLoadDocument({ document, isNew }: { document: Y.Doc; isNew: boolean }): void {
    this.calls.push(`${this.name}:load:${isNew}`);
    if (isNew && this.name === 'first') document.getText(FILE_TEXT).insert(0, '// new file\n');
  }

  onChange({ document: _document, ...rest }: ChangePayload): void {
    this.calls.push(`${this.name}:change`);
    this.changes.push(rest);
  }

  onStoreDocument({ reason }: StoreDocumentPayload): void {
    this.calls.push(`${this.name}:store:${reason}`);
    this.stores.push(reason);
  }

  onDisconnect(payload: DisconnectPayload): void {
    this.calls.push(`${this.name}:disconnect`);
    this.disconnects.push(payload);
  }
}

test('hooks run in order: seeding on load is persisted, changes and disconnects are reported', async () => {
  const calls: string[] = [];
  const first = new RecordingExtension('first', calls);
  const second = new RecordingExtension('second', calls);
  const timers = new ManualTimers();
  const server = await startTestServer({ extensions: [first, second], timers });
  const alice = new TestClient(server.url, DOC, 'alice-token');
  try {
    await alice.synced();
    assert.equal(alice.content, '// new file\n', 'the seed reached the client');
    assert.deepEqual(calls.slice(0, 2), ['first:load:true', 'second:load:true']);
    alice.text.insert(alice.text.length, 'x');
    await waitFor(() => first.changes.length === 2 && second.changes.length === 2, 'changes reported');
    assert.deepEqual(first.changes.map((c) => [c.origin, c.user?.id ?? null]), [['server', null], ['client', 'alice']]);
    assert.deepEqual(calls.slice(2, 6), ['first:change', 'second:change', 'first:change', 'second:change']);

    await server.sync.editDocument(DOC, (doc) => doc.getText(FILE_TEXT).insert(0, 'AI:'), { user: { id: 'ai', name: 'Assistant' } });
    await waitFor(() => alice.content === 'AI:// new file\nx', 'server edit broadcast');
    await waitFor(() => first.changes.length === 3, 'server edit reported');
    assert.deepEqual([first.changes[2]!.origin, first.changes[2]!.user?.id], ['server', 'ai']);

    timers.advance(2000); // storeDebounceMs after the last change
    await waitFor(() => first.stores.length === 1, 'debounced store');
    assert.deepEqual(first.stores, ['debounce']);

    alice.provider.disconnect();
    await waitFor(() => first.disconnects.length === 1, 'disconnect reported');
    assert.equal(first.disconnects[0]!.user.id, 'alice');
    assert.equal(first.disconnects[0]!.remainingConnections, 0);
  } finally {
    alice.destroy();
    await server.close();
  }
  assert.equal(first.stores.at(-1), 'unload', 'a final store on shutdown');
  const again = await startTestServer({ store: server.store, extensions: [first] });
  const bob = new TestClient(again.url, DOC, 'bob-token');
  try {
    await bob.synced();
    assert.equal(bob.content, 'AI:// new file\nx');
    assert.equal(calls.filter((c) => c === 'first:load:false').length, 1, 'not new the second time');
  } finally {
    bob.destroy();
    await again.close();
  }
});

test('idle documents are flushed, compacted and unloaded after the idle time, and reload intact', async () => {
  const timers = new ManualTimers();
  const store = new MemoryDocumentStore();
  const server = await startTestServer({ store, timers, tuning: { unloadAfterIdleMs: IDLE_MS } });
  const alice = new TestClient(server.url, DOC, 'alice-token');
  try {
    await alice.synced();
    for (let i = 0; i < 5; i++) alice.text.insert(0, `${i}`);
    await server.sync.editDocument(DOC, () => {});
    alice.provider.disconnect();
    await waitFor(() => server.sync.stats().connections === 0, 'alice gone');
    timers.advance(IDLE_MS - 1);
    assert.deepEqual(server.sync.stats().documents, [DOC], 'still loaded just before the idle time');
    timers.advance(1);
    await waitFor(() => server.sync.stats().documents.length === 0, 'unloaded');
    assert.equal(store.pendingUpdateCount(DOC), 0, 'the log was compacted into the snapshot');
    assert.equal(await storedText(store, DOC), '43210');
    alice.provider.connect();
    await alice.synced();
    assert.equal(alice.content, '43210');
  } finally {
    alice.destroy();
    await server.close();
  }
});

test('a client arriving while the document unloads waits, then gets everything', async () => {
  const timers = new ManualTimers();
  const store = new ObservedStore(new MemoryDocumentStore());
  const server = await startTestServer({ store, timers, tuning: { unloadAfterIdleMs: IDLE_MS } });
  const alice = new TestClient(server.url, DOC, 'alice-token');
  let bob: TestClient | null = null;
  try {
    await alice.synced();
    alice.text.insert(0, 'written just before leaving');
    alice.provider.disconnect();
    await waitFor(() => server.sync.stats().connections === 0, 'alice gone');
    let releaseCompaction = () => {};
    store.compactGate = new Promise((resolve) => (releaseCompaction = resolve));
    timers.advance(IDLE_MS);
    bob = new TestClient(server.url, DOC, 'bob-token');
    await waitFor(() => server.sync.stats().connections === 1, 'bob connected during the unload');
    assert.equal(bob.provider.synced, false, 'bob waits for the unload to finish');
    releaseCompaction();
    await bob.synced();
    assert.equal(bob.content, 'written just before leaving');
    assert.equal(store.events.filter((e) => e.kind === 'load').length, 2, 'reloaded from the store');
  } finally {
    alice.destroy();
    bob?.destroy();
    await server.close();
  }
});

test('the update log is compacted every compactAfterUpdates updates while editing', async () => {
  const store = new ObservedStore(new MemoryDocumentStore());
  const server = await startTestServer({ store, tuning: { compactAfterUpdates: 10 } });
  const alice = new TestClient(server.url, DOC, 'alice-token');
  const bob = new TestClient(server.url, DOC, 'bob-token');
  try {
    await Promise.all([alice.synced(), bob.synced()]);
    for (let i = 0; i < 35; i++) {
      alice.text.insert(alice.text.length, 'k');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => bob.content.length === 35, 'all delivered');
    await waitFor(() => store.events.some((e) => e.kind === 'compact'), 'compacted');
    assert.ok((store.inner as MemoryDocumentStore).pendingUpdateCount(DOC) < 35);
    assert.equal(await storedText(store, DOC), 'k'.repeat(35));
  } finally {
    alice.destroy();
    bob.destroy();
    await server.close();
  }
});

test('a long document is compacted only once the updates since its snapshot add up to the snapshot', async () => {
  const store = new ObservedStore(new MemoryDocumentStore());
  const server = await startTestServer({ store, tuning: { compactAfterUpdates: 10 } });
  const alice = new TestClient(server.url, DOC, 'alice-token');
  try {
    await alice.synced();
    alice.text.insert(0, 'x'.repeat(20_000)); // one update: the first snapshot is ~20 kB
    await waitFor(() => (store.inner as MemoryDocumentStore).pendingUpdateCount(DOC) === 1, 'stored');
    for (let i = 0; i < 10; i++) {
      alice.text.insert(0, 'k');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => store.events.some((e) => e.kind === 'compact'), 'first compaction (the snapshot was empty)');
    const compactions = () => store.events.filter((e) => e.kind === 'compact').length;
    const first = compactions();
    // 40 more small updates (~1 kB): far past compactAfterUpdates, far below the snapshot's size.
    for (let i = 0; i < 40; i++) {
      alice.text.insert(0, 'k');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await server.sync.editDocument(DOC, () => {}); // flushes
    await waitFor(() => (store.inner as MemoryDocumentStore).pendingUpdateCount(DOC) >= 40, 'appended');
    assert.equal(compactions(), first, 'no snapshot of 20 kB for 1 kB of updates');
    // One large update (over the snapshot's size) makes the next one due.
    alice.text.insert(0, 'y'.repeat(25_000));
    await waitFor(() => compactions() > first, 'compacted once the updates outweigh the snapshot');
    assert.equal(await storedText(store, DOC), `${'y'.repeat(25_000)}${'k'.repeat(50)}${'x'.repeat(20_000)}`);
  } finally {
    alice.destroy();
    await server.close();
  }
});

test('editDocument refuses unknown documents and a closing server', async () => {
  const server = await startTestServer();
  await assert.rejects(server.sync.editDocument('nope', () => {}), (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND');
  await server.sync.editDocument(DOC, (doc) => doc.getText(FILE_TEXT).insert(0, 'direct'));
  await server.close();
  assert.equal(await storedText(server.store, DOC), 'direct');
  await assert.rejects(server.sync.editDocument(DOC, () => {}), (e: unknown) => e instanceof AppError && e.code === 'UNAVAILABLE');
});

test('touch restarts a loaded document\'s idle time (a cache serving its text keeps it in memory); unknown documents are ignored', async () => {
  const timers = new ManualTimers();
  const server = await startTestServer({ timers, tuning: { unloadAfterIdleMs: IDLE_MS } });
  try {
    assert.equal(await server.sync.readDocument(DOC, (doc) => doc.getText(FILE_TEXT).length), 0);
    timers.advance(IDLE_MS - 1);
    server.sync.touch(DOC);
    server.sync.touch('p1/file/not-loaded');
    timers.advance(IDLE_MS - 1);
    assert.deepEqual(server.sync.stats().documents, [DOC], 'still loaded: the idle time started again at the touch');
    timers.advance(1);
    await waitFor(() => server.sync.stats().documents.length === 0, 'unloaded a full idle time after the touch');
  } finally {
    await server.close();
  }
});
