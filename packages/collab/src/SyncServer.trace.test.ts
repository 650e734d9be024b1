import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { startTestServer } from './testing/TestServer.ts';
import { TestClient } from './testing/TestClient.ts';
import { storedText } from './testing/storedText.ts';
import { waitFor } from './testing/waitFor.ts';

interface EditingTrace {
  startContent: string;
  endContent: string;
  txns: { patches: [number, number, string][] }[];
}

const TRACE = new URL('../../../../shared/fixtures/editing-traces/automerge-paper.json.gz', import.meta.url);
/** Patches per Yjs transaction: ~65k updates go through the server, like fast typing in bursts. */
const PATCHES_PER_TRANSACTION = 4;
/** Yield to the event loop every this many transactions so sockets keep flowing. */
const TRANSACTIONS_PER_YIELD = 50;

test('the automerge-paper trace replayed by one writer reaches two observers and the store intact', async (t) => {
  const trace = JSON.parse(gunzipSync(readFileSync(TRACE)).toString('utf8')) as EditingTrace;
  const patches = trace.txns.flatMap((txn) => txn.patches);
  t.diagnostic(`${patches.length} patches`);
  const server = await startTestServer();
  const documentName = 'p1/file/paper';
  const writer = new TestClient(server.url, documentName, 'alice-token');
  const observers = [new TestClient(server.url, documentName, 'bob-token'), new TestClient(server.url, documentName, 'victor-token')];
  try {
    await Promise.all([writer, ...observers].map((c) => c.synced()));
    const started = performance.now();
    writer.text.insert(0, trace.startContent);
    let transactions = 0;
    for (let i = 0; i < patches.length; i += PATCHES_PER_TRANSACTION) {
      writer.doc.transact(() => {
        for (const [position, deleteCount, insert] of patches.slice(i, i + PATCHES_PER_TRANSACTION)) {
          if (deleteCount > 0) writer.text.delete(position, deleteCount);
          if (insert) writer.text.insert(position, insert);
        }
      });
      if (++transactions % TRANSACTIONS_PER_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(writer.content, trace.endContent, 'the writer applied the trace correctly');
    for (const observer of observers) {
      await waitFor(() => observer.content.length === trace.endContent.length && observer.content === trace.endContent, 'observer has endContent', 40_000);
    }
    t.diagnostic(`replayed ${transactions} transactions in ${Math.round(performance.now() - started)} ms`);
    await server.close();
    assert.equal(await storedText(server.store, documentName), trace.endContent);
    assert.deepEqual(server.logger.errors, []);
  } finally {
    for (const client of [writer, ...observers]) client.destroy();
    await server.close();
  }
});
