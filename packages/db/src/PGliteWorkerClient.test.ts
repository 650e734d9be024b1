import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGliteWorkerClient, ownBytes } from './PGliteWorkerClient.ts';

test('a small view of a large buffer crosses to the worker as its own bytes; whole buffers and other values as they are', () => {
  const read = new Uint8Array(64 * 1024).fill(7); // like ws's socket read, of which a message is a view
  read.set([1, 2, 3], 100);
  const view = Buffer.from(read.buffer, 100, 3);
  const own = ownBytes(view) as Uint8Array;
  assert.deepEqual([...own], [1, 2, 3]);
  assert.equal(own.buffer.byteLength, 3, 'posting it copies 3 bytes, not 64 KiB');
  const whole = new Uint8Array([4, 5]);
  assert.equal(ownBytes(whole), whole);
  assert.equal(ownBytes('text'), 'text');
  assert.equal(ownBytes(null), null);
});

test('the embedded database stores exactly the bytes of a view parameter', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-pglite-worker-'));
  const db = await PGliteWorkerClient.open(dataDir);
  try {
    await db.exec('CREATE TABLE t (data bytea NOT NULL)');
    const read = new Uint8Array(64 * 1024).fill(9);
    read.set([1, 2, 3], 500);
    await db.query('INSERT INTO t (data) VALUES ($1)', [read.subarray(500, 503)]);
    const { rows } = await db.query<{ data: Uint8Array }>('SELECT data FROM t');
    assert.deepEqual([...rows[0]!.data], [1, 2, 3]);
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
