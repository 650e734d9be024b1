// Inline completions over real HTTP: the server started in-process with an OpenAI-compatible
// provider (the test double) from env vars, a tab's `stream.events` SSE subscription read with
// fetch, and `ai.complete` called through the tRPC HTTP client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { CompletionEvent } from '@tandem/api';
import { OpenAITestServer } from '@tandem/inference/testing';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { signUpOverHttp, type SignedIn } from './testing/clients.ts';
import { HttpSubscription, type SseMessage } from './testing/HttpSubscription.ts';

let dataDir: string;
let upstream: OpenAITestServer;
let server: TandemServer;
let owner: SignedIn;
let projectId: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-ai-'));
  upstream = new OpenAITestServer({ tokensPerSecond: 40 });
  const baseUrl = await upstream.listen();
  const env = loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false',
    OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: 'sk-test-secret', OPENAI_MODEL: 'tiny-coder', OPENAI_FIM: 'true',
  }, []);
  server = await startTandemServer(env, { withWeb: false });
  owner = await signUpOverHttp(server.url, 'Owner');
  projectId = (await owner.api.projects.create.mutate({ name: 'P', template: 'node' })).id;
});
after(async () => {
  await server?.close();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const completion = (m: SseMessage) => (m.data as { type?: string; data?: CompletionEvent } | null)?.type === 'completion';
const eventOf = (m: SseMessage) => (m.data as { data: CompletionEvent }).data;

test('a completion streams to the tab over SSE: the first characters arrive before the model finishes', async () => {
  upstream.configure({ tokens: ['return', ' a', ' +', ' b', ';', '\n', '}'], apiKey: 'sk-test-secret' });
  const tabId = randomUUID();
  const sub = await HttpSubscription.open(server.url, 'stream.events', { projectId, tabId }, { cookie: owner.cookie });
  try {
    const status = await owner.api.ai.status.query({ projectId });
    assert.deepEqual([status.effective?.id, status.effective?.model, status.effective?.fim, status.problem], ['openai', 'tiny-coder', true, null]);
    assert.ok(!JSON.stringify(status).includes('sk-test-secret'), 'the API key never reaches a browser');

    const nextRequest = upstream.nextRequest();
    const requestId = randomUUID();
    const started = await owner.api.ai.complete.mutate({ projectId, tabId, requestId, path: 'src/sum.js', language: 'javascript', prefix: 'function sum(a, b) {\n  ', suffix: '\n', related: [] });
    assert.equal(started.requestId, requestId);
    const request = await nextRequest;
    assert.equal(request.headers.authorization, 'Bearer sk-test-secret');
    const first = await sub.waitFor((m) => completion(m) && eventOf(m).requestId === requestId, 3000);
    const firstEvent = eventOf(first);
    assert.ok(firstEvent.kind === 'delta' && firstEvent.text === 'return', JSON.stringify(firstEvent));
    assert.equal(request.outcome, 'pending', 'the model was still generating when the first characters arrived');
    assert.ok(first.data && typeof (first as { data: { channel: string } }).data.channel === 'string');

    const last = await sub.waitFor((m) => completion(m) && eventOf(m).requestId === requestId && eventOf(m).kind !== 'delta', 5000);
    const events = sub.messages.filter((m) => completion(m) && eventOf(m).requestId === requestId).map(eventOf);
    assert.equal(events.map((e) => (e.kind === 'delta' ? e.text : '')).join(''), 'return a + b;\n}');
    assert.ok(events.length >= 3, 'several deltas at 40 tok/s, not one batch at the end');
    const done = eventOf(last);
    assert.ok(done.kind === 'done' && done.finishReason === 'stop' && done.metrics.completionTokens === 7, JSON.stringify(done));
    assert.ok(done.metrics.tokensPerSecond! > 20 && done.metrics.tokensPerSecond! < 80, `tok/s ${done.metrics.tokensPerSecond}`);
  } finally {
    sub.close();
    upstream.configure({ apiKey: undefined });
  }
});

test('cancel over HTTP closes the upstream request and ends the stream with a final event', async () => {
  upstream.configure({ tokens: [], tokenCount: 1000 });
  const tabId = randomUUID();
  const sub = await HttpSubscription.open(server.url, 'stream.events', { projectId, tabId }, { cookie: owner.cookie });
  try {
    const nextRequest = upstream.nextRequest();
    const requestId = randomUUID();
    await owner.api.ai.complete.mutate({ projectId, tabId, requestId, path: 'a.js', language: 'javascript', prefix: 'x', suffix: '', related: [] });
    const request = await nextRequest;
    await sub.waitFor((m) => completion(m) && eventOf(m).requestId === requestId, 3000);
    assert.deepEqual(await owner.api.ai.cancel.mutate({ requestId }), { cancelled: true });
    assert.equal((await upstream.waitForClose(request.id, 2000)).outcome, 'closed_early');
    const last = eventOf(await sub.waitFor((m) => completion(m) && eventOf(m).requestId === requestId && eventOf(m).kind !== 'delta', 3000));
    assert.ok(last.kind === 'done' && last.finishReason === 'cancelled');
  } finally {
    sub.close();
  }
});
