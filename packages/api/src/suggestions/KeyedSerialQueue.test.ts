import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSerialQueue } from './KeyedSerialQueue.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

test('tasks of one key run one at a time in call order, other keys run alongside; a failure does not block the queue', async () => {
  const queue = new KeyedSerialQueue();
  const log: string[] = [];
  const task = (name: string, fail = false) => async () => {
    log.push(`${name}:start`);
    await tick();
    log.push(`${name}:end`);
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([queue.run('a', task('a1', true)), queue.run('a', task('a2')), queue.run('b', task('b1'))]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled', 'fulfilled']);
  assert.ok(log.indexOf('a1:end') < log.indexOf('a2:start'), log.join(' '));
  assert.ok(log.indexOf('b1:start') < log.indexOf('a1:end'), 'another key is not blocked');
  await tick();
  assert.equal(queue.size, 0, 'nothing left behind');
});
