import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAppError } from '@tandem/protocol';
import { OpenAICompatibleProvider, parseRetryAfter, type OpenAICompatibleConfig } from './OpenAICompatibleProvider.ts';
import { InferenceError, type InferenceErrorKind } from './InferenceError.ts';
import { OpenAITestServer, TEST_OPTIONS_HEADER, type OpenAITestServerOptions } from './testing/index.ts';
import type { InferenceChunk, InferenceRequest } from './types.ts';

const SECRET_KEY = 'sk-test-secret-0123456789';
let server: OpenAITestServer;
let baseUrl: string;

before(async () => {
  server = new OpenAITestServer({ apiKey: SECRET_KEY, tokensPerSecond: 5000 });
  baseUrl = await server.listen();
});
after(() => server.close());

function provider(overrides: Partial<OpenAICompatibleConfig> = {}, serverOptions?: OpenAITestServerOptions): OpenAICompatibleProvider {
  return new OpenAICompatibleProvider({
    kind: 'openai-compatible',
    id: 'test',
    label: 'Test AI',
    baseUrl,
    apiKey: SECRET_KEY,
    model: 'test-model',
    ...overrides,
    headers: { ...overrides.headers, ...(serverOptions ? { [TEST_OPTIONS_HEADER]: asciiJson(serverOptions) } : {}) },
  });
}

/** Header values must be ASCII: escape everything else the way JSON allows. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const chat: InferenceRequest = { mode: 'chat', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] };

async function collect(stream: AsyncIterable<InferenceChunk>): Promise<InferenceChunk[]> {
  const out: InferenceChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

function textOf(chunks: readonly InferenceChunk[]): string {
  return chunks.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

/** Runs a request expected to fail; returns the error and the text that arrived before it. */
async function failure(p: OpenAICompatibleProvider, request: InferenceRequest = chat): Promise<{ error: InferenceError; text: string }> {
  const chunks: InferenceChunk[] = [];
  try {
    for await (const c of p.generate(request)) chunks.push(c);
  } catch (e) {
    assert.ok(e instanceof InferenceError, `expected InferenceError, got ${String(e)}`);
    assert.ok(isAppError(e));
    assert.ok(!e.message.includes(SECRET_KEY) && !(e.detail ?? '').includes(SECRET_KEY), 'errors never carry the key');
    return { error: e, text: textOf(chunks) };
  }
  assert.fail(`expected a failure, got ${JSON.stringify(chunks.slice(-2))}`);
}

test('chat: streams text in order, then usage, then finish; sends the expected request', async () => {
  const tokens = Array.from({ length: 300 }, (_, i) => `w${i} `);
  const p = provider({}, { tokens });
  const next = server.nextRequest();
  const chunks = await collect(p.generate({ ...chat, maxTokens: 1000, temperature: 0.2, stop: ['\n\n'] }));
  const request = await next;
  assert.equal(textOf(chunks), tokens.join(''));
  assert.equal(chunks.filter((c) => c.type === 'text').reduce((n, c) => n + (c.type === 'text' ? c.tokens : 0), 0), 300);
  assert.deepEqual(chunks.slice(-2), [
    { type: 'usage', promptTokens: (chunks.at(-2) as { promptTokens: number }).promptTokens, completionTokens: 300 },
    { type: 'finish', reason: 'stop' },
  ]);
  assert.equal(request.path, '/v1/chat/completions');
  assert.equal(request.headers.authorization, `Bearer ${SECRET_KEY}`);
  assert.deepEqual(request.body, {
    model: 'test-model',
    stream: true,
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }],
    max_tokens: 1000,
    temperature: 0.2,
    stop: ['\n\n'],
    stream_options: { include_usage: true },
  });
});

test('finish reason length when maxTokens cuts the answer; max_completion_tokens when configured', async () => {
  const p = provider({ maxTokensField: 'max_completion_tokens', streamUsage: false }, { tokens: ['a', 'b', 'c', 'd'] });
  const next = server.nextRequest();
  const chunks = await collect(p.generate({ ...chat, maxTokens: 2 }));
  const body = (await next).body!;
  assert.equal(textOf(chunks), 'ab');
  assert.equal(body.max_completion_tokens, 2);
  assert.equal(body.stream_options, undefined);
  assert.equal(chunks.some((c) => c.type === 'usage'), false);
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'length' });
});

test('FIM: legacy completions with the suffix in the request body', async () => {
  const p = provider({ fim: true }, { tokens: ['  return ', 'a + b;'] });
  const next = server.nextRequest();
  const chunks = await collect(p.generate({ mode: 'fim', prefix: 'function add(a, b) {\n', suffix: '\n}\n', maxTokens: 64 }));
  const request = await next;
  assert.equal(request.path, '/v1/completions');
  assert.equal(request.body!.prompt, 'function add(a, b) {\n');
  assert.equal(request.body!.suffix, '\n}\n');
  assert.equal(request.body!.messages, undefined);
  assert.equal(textOf(chunks), '  return a + b;');
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'stop' });
});

test('FIM: a template format puts FIM tokens in the prompt and sends no suffix field', async () => {
  const p = provider({ fim: true, fimFormat: 'qwen' }, { tokens: ['x'] });
  const next = server.nextRequest();
  await collect(p.generate({ mode: 'fim', prefix: 'P', suffix: 'S' }));
  const body = (await next).body!;
  assert.equal(body.prompt, '<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>');
  assert.equal(body.suffix, undefined);
});

test('FIM on a provider not configured for it fails without a request', async () => {
  const before = server.requests.length;
  const { error } = await failure(provider(), { mode: 'fim', prefix: 'a', suffix: 'b' });
  assert.equal(error.kind, 'unsupported');
  assert.equal(error.code, 'BAD_INPUT');
  assert.equal(server.requests.length, before);
});

test('CRLF line endings and keep-alive comments parse the same', async () => {
  const tokens = ['α', 'β', '\n', 'γ ✓'];
  const chunks = await collect(provider({}, { tokens, lineEnding: '\r\n', keepAliveComments: true }).generate(chat));
  assert.equal(textOf(chunks), tokens.join(''));
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'stop' });
});

test('stop sequences are applied by the server and end with reason stop', async () => {
  const chunks = await collect(provider({}, { tokens: ['one', '\n', '\n', 'two'] }).generate({ ...chat, stop: ['\n\n'] }));
  assert.equal(textOf(chunks), 'one');
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'stop' });
});

test('consecutive requests reuse the keep-alive connection', async () => {
  // A fresh origin, so the shared undici pool holds no other idle sockets for it.
  const own = new OpenAITestServer({ tokens: ['a', 'b'] });
  const url = await own.listen();
  try {
    const p = provider({ baseUrl: url });
    for (let i = 0; i < 6; i++) await collect(p.generate(chat));
    assert.equal(own.requests.length, 6);
    // undici frees a socket a moment after the body ends, so back-to-back requests may
    // alternate between two warm connections; what matters is that none opens a new one each time.
    assert.ok(new Set(own.requests.map((r) => r.remotePort)).size <= 2, 'connections are reused');
  } finally {
    await own.close();
  }
});

test('every fault yields its own distinct, user-safe error', async (t) => {
  const kinds = new Set<InferenceErrorKind>();
  const expectKind = async (name: string, p: OpenAICompatibleProvider, kind: InferenceErrorKind, check?: (e: InferenceError, text: string) => void): Promise<void> => {
    await t.test(name, async () => {
      const { error, text } = await failure(p);
      assert.equal(error.kind, kind, `${name}: ${error.message} / ${error.detail}`);
      assert.match(error.message, /Test AI/);
      check?.(error, text);
      kinds.add(kind);
    });
  };
  await expectKind('401 wrong key', provider({ apiKey: 'sk-wrong' }), 'auth', (e) => {
    assert.equal(e.status, 401);
    assert.match(e.detail ?? '', /Incorrect API key/);
  });
  await expectKind('429 with Retry-After', provider({}, { fault: { kind: 'rate_limit', retryAfterSeconds: 7 } }), 'rate_limited', (e) => {
    assert.equal(e.retryAfterMs, 7000);
    assert.equal(e.code, 'RATE_LIMITED');
    assert.match(e.message, /7 s/);
  });
  await expectKind('500', provider({}, { fault: { kind: 'server_error' } }), 'provider', (e) => assert.equal(e.status, 500));
  await expectKind('400 refused request', provider({}, { fault: { kind: 'server_error', status: 400 } }), 'bad_request');
  await expectKind('404 wrong base URL', provider({ baseUrl: baseUrl.replace('/v1', '/nope') }), 'not_found');
  await expectKind('malformed SSE line', provider({}, { tokens: ['a', 'b', 'c'], fault: { kind: 'malformed', afterTokens: 2 } }), 'malformed_stream', (_e, text) => {
    assert.equal(text, 'ab', 'text before the fault was delivered');
  });
  await expectKind('connection drop mid-stream', provider({}, { tokens: ['a', 'b', 'c'], fault: { kind: 'drop', afterTokens: 2 } }), 'connection_dropped', (_e, text) => {
    assert.equal(text, 'ab');
  });
  await expectKind('first-token timeout', provider({ timeouts: { firstTokenMs: 150 } }, { fault: { kind: 'stall', afterTokens: 0 } }), 'first_token_timeout');
  await expectKind('idle timeout mid-stream', provider({ timeouts: { idleMs: 150 } }, { tokens: ['a', 'b', 'c'], fault: { kind: 'stall', afterTokens: 2 } }), 'idle_timeout');
  await expectKind('nothing listening', provider({ baseUrl: `http://127.0.0.1:${await closedPort()}/v1` }), 'unreachable');
  await t.test('connect timeout (accepts, never answers)', async () => {
    const silent = await silentTcpServer();
    try {
      const { error } = await failure(provider({ baseUrl: `http://127.0.0.1:${silent.port}/v1`, timeouts: { connectMs: 150 } }));
      assert.equal(error.kind, 'connect_timeout');
      kinds.add(error.kind);
    } finally {
      await silent.close();
    }
  });
  await t.test('error event inside the stream', async () => {
    const { error } = await failure(provider({}, { tokens: ['a'], fault: { kind: 'error_event', afterTokens: 1 } }));
    assert.equal(error.kind, 'provider');
    assert.match(error.detail ?? '', /overloaded/);
  });
  assert.equal(kinds.size, 11);
});

test('the first-token timeout fires on time, not at the connect timeout', async () => {
  const p = provider({ timeouts: { connectMs: 5000, firstTokenMs: 200, idleMs: 5000 } }, { fault: { kind: 'stall', afterTokens: 0 } });
  const started = performance.now();
  const next = server.nextRequest();
  const { error } = await failure(p);
  const elapsed = performance.now() - started;
  assert.equal(error.kind, 'first_token_timeout');
  assert.match(error.message, /0\.2 s/);
  assert.ok(elapsed >= 190 && elapsed < 2000, `fired after ${elapsed.toFixed(0)} ms`);
  const closed = await server.waitForClose((await next).id);
  assert.equal(closed.outcome, 'closed_early', 'the stalled upstream request was closed');
});

test('aborting the signal ends the stream as cancelled and closes the upstream connection at once', async () => {
  const p = provider({}, { tokenCount: 100_000, tokensPerSecond: 2000 });
  const controller = new AbortController();
  const next = server.nextRequest();
  const chunks: InferenceChunk[] = [];
  let abortedAt = 0;
  for await (const c of p.generate(chat, controller.signal)) {
    chunks.push(c);
    if (chunks.length === 3) {
      abortedAt = performance.now();
      controller.abort();
    }
  }
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'cancelled' });
  const request = await server.waitForClose((await next).id);
  assert.equal(request.outcome, 'closed_early');
  assert.ok(request.closedAt! - abortedAt < 250, `closed ${(request.closedAt! - abortedAt).toFixed(1)} ms after abort`);
  assert.ok(request.tokensSent < 100_000);
});

test('aborting while waiting for the first token closes the connection too', async () => {
  const p = provider({}, { ttftMs: 10_000, tokens: ['late'] });
  const controller = new AbortController();
  const next = server.nextRequest();
  const consumed = collect(p.generate(chat, controller.signal));
  const request = await next;
  controller.abort();
  assert.deepEqual(await consumed, [{ type: 'finish', reason: 'cancelled' }]);
  assert.equal((await server.waitForClose(request.id)).outcome, 'closed_early');
});

test('breaking out of the loop closes the upstream connection', async () => {
  const p = provider({}, { tokenCount: 100_000, tokensPerSecond: 2000 });
  const next = server.nextRequest();
  for await (const c of p.generate(chat)) {
    if (c.type === 'text') break;
  }
  assert.equal((await server.waitForClose((await next).id)).outcome, 'closed_early');
});

test('an already-aborted signal yields only a cancelled finish and sends nothing', async () => {
  const before = server.requests.length;
  assert.deepEqual(await collect(provider().generate(chat, AbortSignal.abort())), [{ type: 'finish', reason: 'cancelled' }]);
  assert.equal(server.requests.length, before);
});

test('dispose cancels live streams and refuses new ones', async () => {
  const p = provider({}, { tokenCount: 100_000, tokensPerSecond: 2000 });
  const next = server.nextRequest();
  const chunks: InferenceChunk[] = [];
  for await (const c of p.generate(chat)) {
    chunks.push(c);
    if (chunks.length === 1) await p.dispose();
  }
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'cancelled' });
  assert.equal((await server.waitForClose((await next).id)).outcome, 'closed_early');
  await assert.rejects(collect(p.generate(chat)), (e: unknown) => e instanceof InferenceError && e.kind === 'disposed');
});

test('a server that ignores stream:true and answers with JSON still works', async () => {
  const http = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'whole answer' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 2 } }));
  });
  const port = await listen(http);
  try {
    const chunks = await collect(provider({ baseUrl: `http://127.0.0.1:${port}/v1` }).generate(chat));
    assert.deepEqual(chunks, [
      { type: 'text', text: 'whole answer', tokens: 2 },
      { type: 'usage', promptTokens: 3, completionTokens: 2 },
      { type: 'finish', reason: 'stop' },
    ]);
  } finally {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  }
});

test('Retry-After parsing: seconds, HTTP date, retry-after-ms, garbage', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': '3' }), now), 3000);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }), now), 10_000);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': '3', 'retry-after-ms': '250' }), now), 250);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now), undefined);
  assert.equal(parseRetryAfter(new Headers(), now), undefined);
});

async function listen(s: HttpServer | TcpServer): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

async function silentTcpServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const s = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const port = await listen(s);
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => s.close(r));
    },
  };
}
