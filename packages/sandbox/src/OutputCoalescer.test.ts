import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutputCoalescer, type OutputChunk } from './OutputCoalescer.ts';

function harness(intervalMs = 30, maxPendingChars = 100) {
  const emissions: OutputChunk[][] = [];
  const flow: string[] = [];
  const c = new OutputCoalescer({
    intervalMs, maxPendingChars,
    emit: (chunks) => emissions.push(chunks),
    pause: () => flow.push('pause'),
    resume: () => flow.push('resume'),
  });
  return { c, emissions, flow };
}

test('first write after a quiet period is emitted at once (no added latency)', () => {
  const { c, emissions } = harness();
  c.push('pty', 'a');
  assert.deepEqual(emissions, [[{ stream: 'pty', text: 'a' }]]);
  c.close();
});

test('a burst is merged into one emission per interval, order and streams kept', async () => {
  const { c, emissions } = harness(30);
  c.push('stdout', 'a');
  for (let i = 0; i < 1000; i++) c.push('stdout', 'x');
  c.push('stderr', 'E');
  c.push('stdout', 'y');
  assert.equal(emissions.length, 1);
  await sleep(60);
  assert.equal(emissions.length, 2);
  assert.deepEqual(emissions[1], [
    { stream: 'stdout', text: 'x'.repeat(1000) },
    { stream: 'stderr', text: 'E' },
    { stream: 'stdout', text: 'y' },
  ]);
  c.close();
});

test('pauses the source past maxPendingChars and resumes when drained', async () => {
  const { c, flow, emissions } = harness(20, 100);
  c.push('stdout', 'first');
  c.push('stdout', 'z'.repeat(150));
  assert.deepEqual(flow, ['pause']);
  await sleep(50);
  assert.deepEqual(flow, ['pause', 'resume']);
  assert.equal(emissions.flat().map((x) => x.text).join(''), 'first' + 'z'.repeat(150));
  c.close();
});

test('close flushes what is pending and ignores later writes', () => {
  const { c, emissions } = harness(1000);
  c.push('stdout', 'a');
  c.push('stdout', 'b');
  c.close();
  c.push('stdout', 'c');
  assert.deepEqual(emissions.flat(), [{ stream: 'stdout', text: 'a' }, { stream: 'stdout', text: 'b' }]);
});
