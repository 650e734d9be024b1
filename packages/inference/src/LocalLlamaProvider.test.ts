import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { LocalLlamaProvider } from './LocalLlamaProvider.ts';
import { InferenceError } from './InferenceError.ts';
import type { InferenceChunk, InferenceRequest } from './types.ts';

// The fixture has random weights: it emits gibberish, so only mechanics are asserted.
const MODEL_PATH = fileURLToPath(new URL('../../../../shared/fixtures/models/llama-2-tiny-random.gguf', import.meta.url));
const chat: InferenceRequest = { mode: 'chat', messages: [{ role: 'user', content: 'Write a function.' }] };

let provider: LocalLlamaProvider;

before(async () => {
  provider = new LocalLlamaProvider({ kind: 'local-llama', id: 'local', label: 'Tiny', modelPath: MODEL_PATH, contextSize: 1024, fim: true });
  await provider.load();
});
after(() => provider.dispose());

async function collect(stream: AsyncIterable<InferenceChunk>): Promise<InferenceChunk[]> {
  const out: InferenceChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

test('loads the tiny model and streams tokens, usage and finish', async () => {
  assert.equal(provider.threads, 1, 'a tiny model runs on one thread');
  assert.deepEqual(provider.info, { id: 'local', label: 'Tiny', model: 'llama-2-tiny-random.gguf', kind: 'local-llama', fim: true, tools: false });
  const chunks = await collect(provider.generate({ ...chat, maxTokens: 40 }));
  const texts = chunks.filter((c) => c.type === 'text');
  assert.ok(texts.length > 0, 'some text streamed');
  const usage = chunks.find((c) => c.type === 'usage');
  assert.ok(usage && usage.type === 'usage');
  assert.ok(usage.completionTokens > 0 && usage.completionTokens <= 40, `completion tokens ${usage.completionTokens}`);
  assert.ok(usage.promptTokens > 0, 'prompt tokens were evaluated');
  const last = chunks.at(-1);
  assert.ok(last?.type === 'finish' && (last.reason === 'length' || last.reason === 'stop'), JSON.stringify(last));
});

test('aborting stops generation promptly with a cancelled finish', async () => {
  const controller = new AbortController();
  const chunks: InferenceChunk[] = [];
  let abortedAt = 0;
  for await (const c of provider.generate({ ...chat, maxTokens: 100_000 }, controller.signal)) {
    chunks.push(c);
    if (c.type === 'text' && abortedAt === 0) {
      abortedAt = performance.now();
      controller.abort();
    }
  }
  const stoppedAfter = performance.now() - abortedAt;
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'cancelled' });
  assert.ok(stoppedAfter < 500, `stopped ${stoppedAfter.toFixed(0)} ms after abort`);
  const generated = chunks.reduce((n, c) => n + (c.type === 'text' ? c.tokens : 0), 0);
  assert.ok(generated < 1000, `only ${generated} tokens generated`);
});

test('breaking out of the loop frees the model for the next request', async () => {
  for await (const c of provider.generate({ ...chat, maxTokens: 100_000 })) if (c.type === 'text') break;
  const started = performance.now();
  const chunks = await collect(provider.generate({ ...chat, maxTokens: 5 }));
  assert.ok(chunks.at(-1)?.type === 'finish');
  assert.ok(performance.now() - started < 2000, 'the abandoned generation did not keep running');
});

test('requests queue on the single sequence, and a queued request can be cancelled', async () => {
  const first = provider.generate({ ...chat, maxTokens: 30 })[Symbol.asyncIterator]();
  await first.next(); // the first request now holds the sequence
  const controller = new AbortController();
  const queued = collect(provider.generate({ ...chat, maxTokens: 30 }, controller.signal));
  controller.abort();
  assert.deepEqual(await queued, [{ type: 'finish', reason: 'cancelled' }]);
  for (let r = await first.next(); !r.done; r = await first.next()) { /* drain */ }
  const after = await collect(provider.generate({ ...chat, maxTokens: 3 }));
  assert.ok(after.at(-1)?.type === 'finish');
});

test('FIM on a model without FIM tokens (the tiny one) falls back to continuing the prefix; FIM turned off is refused', async () => {
  const chunks = await collect(provider.generate({ mode: 'fim', prefix: 'function add(a, b) {', suffix: '}', maxTokens: 4 }));
  assert.ok(chunks.some((c) => c.type === 'text'), 'text was generated');
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'length' });
  const noFim = new LocalLlamaProvider({ kind: 'local-llama', id: 'x', modelPath: MODEL_PATH });
  await assert.rejects(collect(noFim.generate({ mode: 'fim', prefix: 'a', suffix: 'b' })),
    (e: unknown) => e instanceof InferenceError && e.kind === 'unsupported');
  await noFim.dispose();
});

test('a missing model file is a model_load error that names no path in its message', async () => {
  const missing = new LocalLlamaProvider({ kind: 'local-llama', id: 'm', label: 'Missing', modelPath: '/nonexistent/model.gguf' });
  await assert.rejects(missing.load(), (e: unknown) => {
    assert.ok(e instanceof InferenceError);
    assert.equal(e.kind, 'model_load');
    assert.doesNotMatch(e.message, /nonexistent/);
    assert.match(e.detail ?? '', /nonexistent/);
    return true;
  });
  await missing.dispose();
});

test('unload frees the model and the next request reloads it; dispose is final', async () => {
  const own = new LocalLlamaProvider({ kind: 'local-llama', id: 'own', modelPath: MODEL_PATH, contextSize: 256 });
  assert.ok((await collect(own.generate({ ...chat, maxTokens: 3 }))).at(-1)?.type === 'finish');
  await own.unload();
  assert.ok((await collect(own.generate({ ...chat, maxTokens: 3 }))).at(-1)?.type === 'finish');
  await own.dispose();
  await assert.rejects(collect(own.generate(chat)), (e: unknown) => e instanceof InferenceError && e.kind === 'disposed');
});

test('says clearly that the in-process model cannot call tools', async () => {
  const tools = [{ name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: {} } }];
  await assert.rejects(collect(provider.generate({ ...chat, tools })), (e: unknown) => {
    assert.ok(e instanceof InferenceError);
    assert.equal(e.kind, 'unsupported');
    assert.match(e.message, /cannot call tools/);
    return true;
  });
});
