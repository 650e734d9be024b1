import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meter, type StreamMetrics } from './MeteredStream.ts';
import { InferenceError } from './InferenceError.ts';
import type { InferenceChunk } from './types.ts';

/** A manual clock and a source that advances it by `dt` before yielding each chunk. */
function scripted(steps: ReadonlyArray<{ dt: number; chunk?: InferenceChunk; error?: Error }>) {
  let now = 1000;
  const clock = (): number => now;
  async function* source(): AsyncGenerator<InferenceChunk> {
    for (const step of steps) {
      now += step.dt;
      if (step.error) throw step.error;
      if (step.chunk) yield step.chunk;
    }
  }
  return { clock, source };
}

const text = (t: string, tokens = 1): InferenceChunk => ({ type: 'text', text: t, tokens });

test('records TTFT, tokens, tokens/s and ok outcome with an injected clock', async () => {
  const { clock, source } = scripted([
    { dt: 120, chunk: text('a', 2) }, // first text at +120 ms, carrying 2 tokens
    { dt: 10, chunk: text('b', 5) },
    { dt: 10, chunk: text('c', 5) }, // 10 tokens after the first chunk in 20 ms = 500 tok/s
    { dt: 5, chunk: { type: 'usage', promptTokens: 40, completionTokens: 12 } },
    { dt: 0, chunk: { type: 'finish', reason: 'stop' } },
  ]);
  const updates: StreamMetrics[] = [];
  const stream = meter(source(), { now: clock, onUpdate: (m) => updates.push(m) });
  const seen: InferenceChunk[] = [];
  for await (const c of stream) seen.push(c);
  assert.equal(seen.length, 5, 'chunks pass through unchanged');
  const m = await stream.done;
  assert.deepEqual(m, {
    outcome: 'ok',
    ttftMs: 120,
    durationMs: 145,
    completionTokens: 12,
    promptTokens: 40,
    tokensPerSecond: 500,
    finishReason: 'stop',
    errorKind: null,
  });
  // Live updates: streaming while chunks flow, with a running token count.
  assert.equal(updates[0]!.outcome, 'streaming');
  assert.equal(updates[0]!.ttftMs, 120);
  assert.equal(updates[1]!.completionTokens, 7);
  assert.equal(updates[1]!.tokensPerSecond, 500);
  assert.equal(updates.at(-1)!.outcome, 'ok');
});

test('a cancelled finish, or the consumer breaking out, counts as cancelled', async () => {
  {
    const { clock, source } = scripted([{ dt: 50, chunk: text('a') }, { dt: 1, chunk: { type: 'finish', reason: 'cancelled' } }]);
    const stream = meter(source(), { now: clock });
    for await (const _ of stream) { /* drain */ }
    assert.equal((await stream.done).outcome, 'cancelled');
  }
  {
    const { clock, source } = scripted([{ dt: 50, chunk: text('a') }, { dt: 10, chunk: text('b') }, { dt: 10, chunk: text('c') }]);
    const stream = meter(source(), { now: clock });
    for await (const c of stream) if (c.type === 'text' && c.text === 'b') break;
    const m = await stream.done;
    assert.equal(m.outcome, 'cancelled');
    assert.equal(m.completionTokens, 2);
    assert.equal(m.durationMs, 60);
  }
});

test('errors are recorded with their kind and rethrown', async () => {
  const { clock, source } = scripted([
    { dt: 30, chunk: text('a') },
    { dt: 70, error: new InferenceError('connection_dropped', 'dropped') },
  ]);
  const stream = meter(source(), { now: clock });
  await assert.rejects(async () => {
    for await (const _ of stream) { /* drain */ }
  }, (e: unknown) => e instanceof InferenceError && e.kind === 'connection_dropped');
  const m = await stream.done;
  assert.equal(m.outcome, 'error');
  assert.equal(m.errorKind, 'connection_dropped');
  assert.equal(m.ttftMs, 30);
  assert.equal(m.durationMs, 100);
  assert.equal(m.tokensPerSecond, null, 'one chunk gives no rate');
});

test('no text at all leaves TTFT and rate null', async () => {
  const { clock, source } = scripted([{ dt: 5, chunk: { type: 'finish', reason: 'stop' } }]);
  const stream = meter(source(), { now: clock });
  for await (const _ of stream) { /* drain */ }
  const m = await stream.done;
  assert.equal(m.ttftMs, null);
  assert.equal(m.tokensPerSecond, null);
  assert.equal(m.completionTokens, 0);
});
