import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventHub, projectChannel, tabChannel, type HubEvent } from './EventHub.ts';

// Test-only event names on the stream's map (the hub carries any payload the map declares).
declare module '@tandem/protocol' {
  interface ProjectStreamEvents {
    e: unknown;
    tab: unknown;
    run: unknown;
    hello: unknown;
    t: unknown;
  }
}

const P = projectChannel('p1');
const T = tabChannel('u1', 't1');
const owner = { projectId: 'p1', userId: 'u1' };

async function take(it: AsyncGenerator<HubEvent>, n: number): Promise<HubEvent[]> {
  const out: HubEvent[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

test('a tab receives its project channel and its own tab channel, in order, and nothing else', async () => {
  const hub = new EventHub();
  const it = hub.subscribe([P, T], owner);
  const first = it.next(); // subscribe
  hub.publish(P, 'e', 1);
  hub.publish(tabChannel('u2', 't1'), 'tab', 'not yours');
  hub.publish(projectChannel('p2'), 'run', 'other project');
  hub.publish(T, 'tab', 2);
  const events = [(await first).value as HubEvent, ...(await take(it, 1))];
  assert.deepEqual(events.map((e) => [e.type, e.data]), [['e', 1], ['tab', 2]]);
  await it.return(undefined);
  assert.equal(hub.subscriberCount(), 0);
});

test('resuming after a reconnect replays exactly what was missed', async () => {
  const hub = new EventHub();
  const it = hub.subscribe([P], owner);
  const p = it.next();
  hub.publish(P, 'e', 'a');
  const a = (await p).value as HubEvent;
  await it.return(undefined);
  hub.publish(P, 'e', 'b');
  hub.publish(P, 'e', 'c');
  const again = hub.subscribe([P], { ...owner, lastEventId: a.id });
  assert.deepEqual((await take(again, 2)).map((e) => e.data), ['b', 'c']);
  await again.return(undefined);
});

test('an id from another process, or one out of the buffer, yields resync', async () => {
  const hub = new EventHub({ replayPerChannel: 4 });
  const it = hub.subscribe([P], { ...owner, lastEventId: 'deadbeef.3' });
  assert.equal((await take(it, 1))[0]!.type, 'resync');
  await it.return(undefined);
  const it2 = hub.subscribe([P], owner);
  const p = it2.next();
  hub.publish(P, 'e', 0);
  const first = (await p).value as HubEvent;
  await it2.return(undefined);
  for (let i = 1; i < 20; i++) hub.publish(P, 'e', i);
  const late = hub.subscribe([P], { ...owner, lastEventId: first.id });
  assert.equal((await take(late, 1))[0]!.type, 'resync');
  await late.return(undefined);
});

test('revoking a member ends their subscription with FORBIDDEN; others continue', async () => {
  const hub = new EventHub();
  const mine = hub.subscribe([P], owner);
  const theirs = hub.subscribe([P], { projectId: 'p1', userId: 'u2' });
  const pending = mine.next();
  const pendingTheirs = theirs.next();
  hub.revoke('p1', 'u1');
  await assert.rejects(pending, { code: 'FORBIDDEN' });
  hub.publish(P, 'e', 'still here');
  assert.equal(((await pendingTheirs).value as HubEvent).data, 'still here');
  await theirs.return(undefined);
});

test('abort ends the stream; a consumer too far behind is cut off', async () => {
  const hub = new EventHub({ maxQueuedPerSubscriber: 10 });
  const ac = new AbortController();
  const it = hub.subscribe([P], { ...owner, signal: ac.signal });
  const p = it.next();
  ac.abort();
  assert.equal((await p).done, true);
  const slow = hub.subscribe([P], owner);
  const first = slow.next();
  for (let i = 0; i < 50; i++) hub.publish(P, 'e', i);
  await first;
  await assert.rejects(take(slow, 100), { code: 'UNAVAILABLE' });
});

test('with a bus, publishing goes through the bus (other nodes) and comes back', async () => {
  const handlers: ((m: { channel: string; type: string; data: unknown }) => void)[] = [];
  const bus = { publish: (m: { channel: string; type: string; data: unknown }) => handlers.forEach((h) => h(m)), onMessage: (h: (m: { channel: string; type: string; data: unknown }) => void) => void handlers.push(h) };
  const a = new EventHub({ bus });
  const b = new EventHub({ bus });
  const it = b.subscribe([P], owner);
  const p = it.next();
  a.publish(P, 'e', 'cross-node');
  assert.equal(((await p).value as HubEvent).data, 'cross-node');
  await it.return(undefined);
});

test('stream.events refuses a non-member with NOT_FOUND before streaming', async () => {
  const { createPGliteTestDatabase } = await import('@tandem/db/testing');
  const { callerFactory } = await import('./testing.ts');
  const db = await createPGliteTestDatabase();
  try {
    const t = callerFactory(db.prisma);
    const owner = await t.signUp('Owner');
    const stranger = await t.signUp('Stranger');
    const p = await t.callerFor(owner).projects.create({ name: 'S' });
    await assert.rejects(t.callerFor(stranger).stream.events({ projectId: p.id, tabId: 't1' }), { code: 'NOT_FOUND' });
    const it = (await t.callerFor(owner).stream.events({ projectId: p.id, tabId: 't1' })) as AsyncIterable<unknown>;
    const iter = it[Symbol.asyncIterator]();
    const next = iter.next();
    t.services.hub.publish(`project:${p.id}`, 'hello', 1);
    const [, event] = (await next).value as [string, { type: string; data: unknown }]; // a tracked() envelope
    assert.deepEqual([event.type, event.data], ['hello', 1]);
    await iter.return?.();
    assert.equal(t.services.hub.subscriberCount(), 0);
  } finally {
    await db.destroy();
  }
});

test('replay buffers of idle, unwatched channels are dropped; watched ones are kept', async () => {
  const hub = new EventHub({ replayRetentionMs: 1000 });
  const watched = hub.subscribe([P], owner);
  const first = watched.next();
  hub.publish(P, 'e', 1);
  for (let i = 0; i < 50; i++) hub.publish(tabChannel('u1', `gone-${i}`), 'tab', i);
  await first;
  assert.equal(hub.bufferedChannels(), 51);
  hub.sweep(Date.now() + 5000);
  assert.equal(hub.bufferedChannels(), 1, 'only the watched project channel keeps its buffer');
  await watched.return(undefined);
});

test('a subscription listens from the call on, before it is first read; aborted unread, it is removed', async () => {
  const hub = new EventHub();
  const it = hub.subscribe([P], owner);
  // The tab is told it is connected (and fetches its state) before tRPC reads the stream.
  hub.publish(P, 'run', 'started meanwhile');
  const first = it.next();
  hub.publish(P, 'run', 'later');
  assert.deepEqual([((await first).value as HubEvent).data, ...(await take(it, 1)).map((e) => e.data)], ['started meanwhile', 'later']);
  await it.return(undefined);

  const ac = new AbortController();
  hub.subscribe([P], { ...owner, signal: ac.signal });
  assert.equal(hub.subscriberCount(), 1);
  ac.abort();
  assert.equal(hub.subscriberCount(), 0);
  const late = hub.subscribe([P], { ...owner, signal: ac.signal });
  assert.equal(hub.subscriberCount(), 0, 'an already aborted request does not subscribe');
  assert.equal((await late.next()).done, true);
});

test('a stream ends when its credential is revoked or expires; others keep going', async () => {
  const hub = new EventHub();
  const keepAlive = setTimeout(() => {}, 10_000); // the expiry timer is unref'd
  const read = async (stream: AsyncGenerator<unknown>) => {
    try {
      for await (const _ of stream) void _;
      return 'ended';
    } catch (e) {
      return (e as { code?: string }).code;
    }
  };
  const revoked = read(hub.subscribe(['c'], { projectId: 'p', userId: 'u', credential: { id: 's1', expiresAt: null } }));
  const expiring = read(hub.subscribe(['c'], { projectId: 'p', userId: 'u', credential: { id: 's2', expiresAt: new Date(Date.now() + 50) } }));
  const ac = new AbortController();
  const other = hub.subscribe(['c'], { projectId: 'p', userId: 'u', credential: { id: 's3', expiresAt: null }, signal: ac.signal });
  hub.revokeCredentials(['s1']);
  assert.equal(await revoked, 'UNAUTHENTICATED');
  assert.equal(await expiring, 'UNAUTHENTICATED');
  hub.publish('c', 't', 1);
  assert.equal(((await other.next()).value as { data: number }).data, 1);
  ac.abort();
  clearTimeout(keepAlive);
});
