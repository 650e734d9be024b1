import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaCoalescer } from './DeltaCoalescer.ts';

const turn = () => new Promise<void>((r) => setImmediate(r));

test('the first text is emitted synchronously; later text in one turn becomes one event', async () => {
  const out: string[] = [];
  const c = new DeltaCoalescer((t) => out.push(t));
  c.push('a');
  assert.deepEqual(out, ['a'], 'no delay for the first characters');
  c.push('b');
  c.push('c');
  c.push('');
  assert.deepEqual(out, ['a']);
  await turn();
  assert.deepEqual(out, ['a', 'bc']);
  c.push('d');
  await turn();
  c.push('e');
  c.flush();
  assert.deepEqual(out, ['a', 'bc', 'd', 'e'], 'text in separate turns is not held back');
  await turn();
  assert.equal(out.length, 4, 'flush cancelled the scheduled send');
});

test('discard drops pending text', async () => {
  const out: string[] = [];
  const c = new DeltaCoalescer((t) => out.push(t));
  c.push('a');
  c.push('b');
  c.discard();
  await turn();
  assert.deepEqual(out, ['a']);
});
