import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FileDocumentStore } from './FileDocumentStore.ts';
import { TestClient } from './testing/TestClient.ts';
import { SeededRandom, testSeed } from './testing/SeededRandom.ts';
import { storedText } from './testing/storedText.ts';
import { waitFor } from './testing/waitFor.ts';

const DOC = 'p1/file/crash';
const SERVER_SCRIPT = new URL('./testing/syncServerProcess.ts', import.meta.url).pathname;

test('kill -9 right after typing stops loses nothing any client received', async (t) => {
  const seed = testSeed();
  t.diagnostic(`SEED=${seed}`);
  const random = new SeededRandom(seed);
  const directory = await mkdtemp(join(tmpdir(), 'tandem-crash-'));
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_SCRIPT, directory], { stdio: ['ignore', 'pipe', 'inherit'] });
  const writers: TestClient[] = [];
  let observer: TestClient | null = null;
  try {
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const url = `ws://127.0.0.1:${(JSON.parse(firstLine) as { port: number }).port}/sync`;
    writers.push(new TestClient(url, DOC, 'alice-token'), new TestClient(url, DOC, 'bob-token'));
    observer = new TestClient(url, DOC, 'alice-token');
    await Promise.all([...writers, observer].map((c) => c.synced()));
    for (let i = 0; i < 400; i++) {
      const writer = random.pick(writers);
      writer.text.insert(random.int(writer.text.length + 1), random.word(4));
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const watcher = observer;
    await waitFor(() => writers.every((w) => w.content === watcher.content), 'observer has every edit');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const received = watcher.content;
    assert.ok(received.length > 400);
    const store = new FileDocumentStore(directory);
    assert.equal(await storedText(store, DOC), received, 'the disk holds everything that was broadcast');
    await store.close();
  } finally {
    child.kill('SIGKILL');
    for (const client of [...writers, ...(observer ? [observer] : [])]) client.destroy();
    await rm(directory, { recursive: true, force: true });
  }
});
