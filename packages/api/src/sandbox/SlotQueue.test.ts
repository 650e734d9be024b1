import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotQueue, type SlotGrant } from './SlotQueue.ts';

/** A host with `capacity` slots; a started session holds one until `end`. */
function host(capacity: number) {
  const sessions: string[] = [];
  let queue!: SlotQueue;
  const h = {
    sessions,
    queue: (opts: { maxWaiting?: number; timeoutMs?: number } = {}) => (queue = new SlotQueue({
      free: () => capacity - sessions.length,
      held: (u) => sessions.filter((s) => s === u).length,
      maxWaiting: opts.maxWaiting ?? 10, timeoutMs: opts.timeoutMs ?? 60_000,
    })),
    /** Takes a slot for `user` and starts a session once granted. */
    start: async (user: string, positions: number[] = []) => {
      const grant: SlotGrant = await queue.acquire(user, (p) => positions.push(p));
      sessions.push(user);
      grant();
    },
    end: (user: string) => {
      sessions.splice(sessions.indexOf(user), 1);
      queue.pump();
    },
  };
  return h;
}

const tick = () => new Promise((r) => setImmediate(r));

test('starts go through while there is room, then wait; a freed slot goes to the user holding fewest', async () => {
  const h = host(2);
  h.queue();
  await h.start('hog');
  await h.start('hog');
  const hogPositions: number[][] = [[], []];
  const hogWaits = [h.start('hog', hogPositions[0]), h.start('hog', hogPositions[1])];
  await tick();
  assert.deepEqual(hogPositions, [[1], [2]]);
  const otherPositions: number[] = [];
  let otherStarted = false;
  const other = h.start('other', otherPositions).then(() => (otherStarted = true));
  await tick();
  // Other holds nothing, the hog holds two: other goes first although it came last.
  assert.deepEqual(otherPositions, [1]);
  assert.deepEqual(hogPositions, [[1, 2], [2, 3]]);
  h.end('hog');
  await other;
  assert.ok(otherStarted);
  assert.deepEqual(h.sessions.sort(), ['hog', 'other']);
  // Then the hog's waits are served in order as slots free.
  h.end('other');
  await hogWaits[0];
  h.end('hog');
  await hogWaits[1];
  assert.deepEqual(h.sessions, ['hog', 'hog']);
});

test('users take turns: two users queuing several starts each alternate', async () => {
  const h = host(1);
  h.queue();
  await h.start('x');
  const order: string[] = [];
  const waits = ['a', 'a', 'a', 'b', 'b'].map((u) => h.start(u).then(() => order.push(u)));
  await tick();
  for (let i = 0; i < 5; i++) {
    h.end(h.sessions[0]!);
    await tick();
  }
  await Promise.all(waits);
  assert.deepEqual(order, ['a', 'b', 'a', 'b', 'a']);
});

test('the queue is capped and a wait times out, each with a message', async () => {
  const keepAlive = setInterval(() => {}, 1000); // the queue's own timers do not hold the process
  const h = host(1);
  h.queue({ maxWaiting: 1, timeoutMs: 200 });
  await h.start('a');
  const waiting = h.start('b');
  await assert.rejects(h.start('c'), /all sandboxes are in use and 1 starts are already waiting/);
  await assert.rejects(waiting, /The server stayed busy for 0 s \(all sandboxes in use\), so this did not start/);
  // After the timeout the queue is empty again and a freed slot is free for the next caller.
  h.end('a');
  await h.start('c');
  assert.deepEqual(h.sessions, ['c']);
  clearInterval(keepAlive);
});
