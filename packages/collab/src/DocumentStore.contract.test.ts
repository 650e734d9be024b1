import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentStore } from './DocumentStore.ts';
import { FileDocumentStore } from './FileDocumentStore.ts';
import { MemoryDocumentStore } from './MemoryDocumentStore.ts';

const bytes = (...values: number[]) => new Uint8Array(values);

/** The contract every DocumentStore must meet (the app's Prisma store should pass it too). */
async function checkContract(store: DocumentStore): Promise<void> {
  assert.deepEqual(await store.load('p/tree'), { snapshot: null, updates: [], cursor: 0 }, 'never stored: empty');
  const c1 = await store.append('p/tree', [bytes(1), bytes(2)]);
  const c2 = await store.append('p/tree', [bytes(3)]);
  assert.ok(c2 > c1 && c1 > 0, 'cursors increase');
  await store.append('p/file/other', [bytes(9)]);
  let loaded = await store.load('p/tree');
  assert.deepEqual(loaded.updates, [bytes(1), bytes(2), bytes(3)], 'append order, per document');
  assert.equal(loaded.cursor, c2);

  await store.compact('p/tree', bytes(7, 7), c1);
  loaded = await store.load('p/tree');
  assert.deepEqual(loaded.snapshot, bytes(7, 7));
  assert.deepEqual(loaded.updates, [bytes(3)], 'updates after `through` survive compaction');
  const c3 = await store.append('p/tree', [bytes(4)]);
  assert.ok(c3 > c2);
  await store.compact('p/tree', bytes(8), c3);
  loaded = await store.load('p/tree');
  assert.deepEqual([loaded.snapshot, loaded.updates, loaded.cursor], [bytes(8), [], c3]);
  assert.deepEqual((await store.load('p/file/other')).updates, [bytes(9)], 'other documents untouched');
}

test('MemoryDocumentStore meets the DocumentStore contract', () => checkContract(new MemoryDocumentStore()));

test('FileDocumentStore meets the contract, survives reopening, cuts a torn tail and refuses corruption', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'tandem-store-'));
  try {
    const store = new FileDocumentStore(directory);
    await checkContract(store);
    const before = await store.load('p/file/other');
    await store.close();

    const reopened = new FileDocumentStore(directory);
    assert.deepEqual(await reopened.load('p/file/other'), before, 'identical after reopening');
    await reopened.close();

    // A crash in the middle of an append leaves half a record at the end of the log.
    const log = join(directory, `${encodeURIComponent('p/file/other')}.log`);
    const sizeBefore = (await stat(log)).size;
    const handle = await open(log, 'a');
    await handle.write(Buffer.from([200, 0, 0, 0, 1, 2]));
    await handle.close();
    const afterCrash = new FileDocumentStore(directory);
    assert.deepEqual((await afterCrash.load('p/file/other')).updates, [bytes(9)], 'torn tail ignored');
    const cursor = await afterCrash.append('p/file/other', [bytes(10)]);
    assert.ok(cursor > before.cursor);
    assert.deepEqual((await afterCrash.load('p/file/other')).updates, [bytes(9), bytes(10)], 'appends follow valid data');
    await afterCrash.close();

    // A flipped bit in a record that is not the last one is corruption, not a torn tail.
    const corrupt = await open(log, 'r+');
    await corrupt.write(Buffer.from([0xff]), 0, 1, sizeBefore - 1);
    await corrupt.close();
    const damaged = new FileDocumentStore(directory);
    await assert.rejects(damaged.load('p/file/other'), /corrupt/);
    await damaged.close();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
