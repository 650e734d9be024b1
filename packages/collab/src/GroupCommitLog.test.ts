import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommitLog } from './GroupCommitLog.ts';
import { ManualTimers } from './testing/ManualTimers.ts';

/** An append the test completes by hand, to hold a batch "in flight". */
class HandCompletedStore {
  readonly batches: number[][] = [];
  private pending: { resolve: (cursor: number) => void; reject: (e: Error) => void }[] = [];

  append = (updates: Uint8Array[]): Promise<number> => {
    this.batches.push(updates.map((u) => u[0]!));
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  };

  complete(cursor: number): void {
    this.pending.shift()!.resolve(cursor);
  }

  failNext(): void {
    this.pending.shift()!.reject(new Error('disk full'));
  }

  get inFlight(): number {
    return this.pending.length;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const u = (n: number) => new Uint8Array([n]);

function makeLog(store: HandCompletedStore, timers: ManualTimers, retryDelaysMs: number[] = []) {
  const committed: { origins: string[]; cursor: number }[] = [];
  const failures: unknown[] = [];
  const log = new GroupCommitLog<string>({
    append: store.append,
    committed: (batch, cursor) => committed.push({ origins: batch.map((e) => e.origin), cursor }),
    failed: (error) => failures.push(error),
    timers,
    windowMs: 0,
    retryDelaysMs,
  });
  return { log, committed, failures };
}

test('updates arriving while an append is in flight form the next batch; releases are in order', async () => {
  const store = new HandCompletedStore();
  const { log, committed } = makeLog(store, new ManualTimers());
  log.enqueue({ update: u(1), origin: 'a' });
  log.enqueue({ update: u(2), origin: 'b' });
  await tick();
  assert.deepEqual(store.batches, [[1, 2]], 'same-tick updates share one append');
  log.enqueue({ update: u(3), origin: 'a' });
  log.enqueue({ update: u(4), origin: 'c' });
  const durable = log.whenDurable();
  let durableResolved = false;
  void durable.then(() => (durableResolved = true));
  await tick();
  assert.equal(store.inFlight, 1, 'one append at a time');
  assert.deepEqual(committed, [], 'nothing released before the store answered');
  store.complete(10);
  await tick();
  assert.deepEqual(committed, [{ origins: ['a', 'b'], cursor: 10 }]);
  assert.deepEqual(store.batches, [[1, 2], [3, 4]], 'the waiting updates went out as one batch');
  assert.equal(durableResolved, false);
  store.complete(12);
  await durable;
  assert.deepEqual(committed.at(-1), { origins: ['a', 'c'], cursor: 12 });
  assert.equal(log.busy, false);
});

test('a failing append is retried in place (order kept); exhausting retries fails the log once', async () => {
  const store = new HandCompletedStore();
  const timers = new ManualTimers();
  const { log, committed, failures } = makeLog(store, timers, [100]);
  log.enqueue({ update: u(1), origin: 'a' });
  await tick();
  store.failNext();
  await tick();
  log.enqueue({ update: u(2), origin: 'a' });
  timers.advance(100);
  await tick();
  assert.deepEqual(store.batches, [[1], [1]], 'the same batch is retried; later updates wait');
  store.complete(1);
  await tick();
  assert.deepEqual(store.batches, [[1], [1], [2]]);
  store.failNext();
  await tick();
  timers.advance(100);
  await tick();
  const waiting = log.whenDurable();
  store.failNext();
  await assert.rejects(waiting, /disk full/);
  assert.equal(failures.length, 1);
  assert.deepEqual(committed.map((c) => c.origins), [['a']]);
  log.enqueue({ update: u(3), origin: 'a' });
  await tick();
  assert.equal(store.batches.length, 4, 'a failed log accepts nothing');
});
