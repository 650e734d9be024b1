// Rate limits while Redis comes and goes: counters are shared through the real Redis; when Redis
// cannot be reached (its connection cut by a TCP relay we control), the limits keep counting on
// this node instead of failing the calls they guard, and are shared again once Redis is back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisRateStore } from './RedisRateStore.ts';

/** A TCP relay to the local Redis that can be stopped (every connection cut) and started again on its port. */
class Relay {
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(6379, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  }
}

const relay = new Relay();
const direct = new Redis(6379, '127.0.0.1', { maxRetriesPerRequest: 1 });
let viaRelay: Redis | null = null;
after(async () => {
  viaRelay?.disconnect();
  direct.disconnect();
  await relay.stop();
});

test('counters live in Redis; while it is unreachable they count on this node, then Redis is used again', async () => {
  await relay.start();
  viaRelay = new Redis(relay.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  viaRelay.on('error', () => {});
  const prefix = `test-${randomBytes(4).toString('hex')}:`;
  const warnings: string[] = [];
  const store = new RedisRateStore(viaRelay, prefix, (m) => warnings.push(m));

  assert.equal((await store.increment('signin:ada', 60_000)).count, 1);
  assert.equal(await direct.get(`${prefix}rate:signin:ada`), '1', 'the counter is in Redis, for every node');
  assert.equal(await store.claim('lock', 60_000), true);
  assert.equal(await store.claim('lock', 60_000), false);

  await relay.stop();
  // Redis is gone: no call fails, and the limit still counts (on this node).
  const counts = [];
  for (let i = 0; i < 3; i++) counts.push((await store.increment('signin:bob', 60_000)).count);
  assert.deepEqual(counts, [1, 2, 3]);
  assert.equal((await store.peek('signin:bob')).count, 3);
  await store.decrement('signin:bob');
  assert.equal((await store.peek('signin:bob')).count, 2);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /unreachable.*counted on this node/);

  await relay.start();
  let back = false;
  for (let i = 0; i < 100 && !back; i++) {
    await new Promise((r) => setTimeout(r, 50));
    back = viaRelay.status === 'ready';
  }
  assert.ok(back, 'the client reconnected through the relay');
  assert.equal((await store.increment('signin:ada', 60_000)).count, 2, 'counting in Redis again, where it left off');
  assert.equal(await direct.get(`${prefix}rate:signin:ada`), '2');
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!, /answers again/);
  await direct.del(`${prefix}rate:signin:ada`, `${prefix}rate:lock`);
});
