import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescedWrite } from './CoalescedWrite.ts';

test('asks made while a write runs share one next write, which stores the state as it is then', async () => {
  let state = 0;
  const stored: number[] = [];
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const firstStarted = new Promise<void>((r) => (started = r));
  const writer = new CoalescedWrite(async () => {
    const value = state;
    started();
    await gate;
    stored.push(value);
  });
  state = 1;
  const first = writer.request();
  await firstStarted;
  state = 2;
  const second = writer.request();
  state = 3;
  const third = writer.request();
  assert.equal(second, third, 'asks while a write runs share the next one');
  const gateOne = release;
  gate = new Promise<void>((r) => (release = r));
  gateOne();
  await first;
  assert.deepEqual(stored, [1]);
  release();
  await third;
  assert.deepEqual(stored, [1, 3], 'two writes for three asks; the second stored the latest state');
});

test('a write does not start in the asker\'s own turn of the event loop', async () => {
  let writes = 0;
  const writer = new CoalescedWrite(async () => {
    writes++;
  });
  const done = writer.request();
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(writes, 0, 'the asker\'s next steps (its microtasks) go first');
  await done;
  assert.equal(writes, 1);
});

test('an ask after everything finished writes again', async () => {
  let writes = 0;
  const writer = new CoalescedWrite(async () => {
    writes++;
  });
  await writer.request();
  await writer.request();
  assert.equal(writes, 2);
  const pending = writer.request();
  await writer.settled();
  assert.equal(writes, 3, 'settled waits for the write asked for');
  await pending;
});

test('a write starts no sooner than the gap after the one before it; asks during the gap share it', async () => {
  const starts: number[] = [];
  const writer = new CoalescedWrite(async () => {
    starts.push(performance.now());
  }, () => 100);
  await writer.request();
  const second = writer.request();
  const third = writer.request();
  assert.equal(second, third);
  await third;
  assert.equal(starts.length, 2);
  // (Timers run on the event loop's millisecond clock: a 100 ms gap can measure 98.x ms here.)
  assert.ok(starts[1]! - starts[0]! >= 95, `started ${starts[1]! - starts[0]!} ms after the first`);
});
