import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputBudget } from './OutputBudget.ts';

test('output within the burst passes untouched', () => {
  const b = new OutputBudget(1000, 100, 0);
  assert.equal(b.take('a'.repeat(60), 0), 'a'.repeat(60));
  assert.equal(b.take('b'.repeat(40), 0), 'b'.repeat(40));
  assert.equal(b.droppedChars, 0);
});

test('past the burst the rest is dropped, then a notice says how much once output flows again', () => {
  const b = new OutputBudget(1000, 2000, 0);
  assert.equal(b.take('x'.repeat(2500), 0), 'x'.repeat(2000));
  assert.equal(b.take('y'.repeat(100), 10), 'y'.repeat(10), 'only the 10 characters refilled in 10 ms');
  assert.equal(b.droppedChars, 590);
  const after = b.take('z', 2000);
  assert.match(after, /590 characters of output not shown/);
  assert.ok(after.endsWith('z'));
  assert.equal(b.droppedChars, 0);
});

test('a sustained flood is held to the rate', () => {
  const b = new OutputBudget(256 * 1024, 64 * 1024, 0);
  let shown = 0;
  for (let t = 0; t <= 10_000; t += 16) shown += b.take('f'.repeat(64 * 1024), t).length;
  // 10 s at 256 K/s plus the initial burst (and a few notices).
  assert.ok(shown <= 10 * 256 * 1024 + 64 * 1024 + 10_000, `shown ${shown}`);
  assert.ok(shown >= 9 * 256 * 1024, `shown ${shown}`);
});

test('the clock going backwards refills nothing', () => {
  const b = new OutputBudget(1000, 10, 1000);
  assert.equal(b.take('a'.repeat(10), 1000), 'a'.repeat(10));
  assert.equal(b.take('b', 500), '');
});
