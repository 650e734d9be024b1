// The dedicated `stream.events` writer writes the same bytes as tRPC's own SSE response (so the
// browser's httpSubscriptionLink is unchanged): compared byte for byte on one hub.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import type { PublicUser } from '@tandem/auth';
import { appRouter } from '../root.ts';
import { projectChannel } from '../EventHub.ts';
import { callerFactory } from '../testing.ts';
import type { Context } from '../trpc.ts';
import { writeEventStream, type SseResponse } from './EventStreamWriter.ts';

let db: TestDatabase;
let t: ReturnType<typeof callerFactory>;
let owner: PublicUser;
let outsider: PublicUser;
let projectId: string;
before(async () => {
  db = await createPGliteTestDatabase();
  t = callerFactory(db.prisma);
  owner = await t.signUp('Owner');
  outsider = await t.signUp('Outsider');
  projectId = (await t.callerFor(owner).projects.create({ name: 'P', template: 'node' })).id;
});
after(() => db.destroy());

const ctxOf = (user: PublicUser): Context => ({ prisma: db.prisma, auth: t.auth, events: t.events, services: t.services, user, credential: null, ip: '127.0.0.1', origin: 'http://localhost:3000' });
const until = async (cond: () => boolean) => {
  for (let i = 0; !cond(); i++) {
    if (i > 500) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** tRPC's own response to the same request, read as text as it arrives. */
function viaTrpc(user: PublicUser, input: unknown, lastEventId?: string) {
  const abort = new AbortController();
  const headers: Record<string, string> = lastEventId ? { 'last-event-id': lastEventId } : {};
  const req = new Request(`http://x/api/trpc/stream.events?input=${encodeURIComponent(JSON.stringify(input))}`, { headers, signal: abort.signal });
  const out = { text: '', ended: false, close: () => abort.abort() };
  void (async () => {
    const res = await fetchRequestHandler({ endpoint: '/api/trpc', req, router: appRouter, createContext: () => ctxOf(user) });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        out.text += decoder.decode(value, { stream: true });
      }
    } catch {
      // aborted
    }
    out.ended = true;
  })();
  return out;
}

/** The dedicated writer, into a response that records what it is given. */
function viaWriter(user: PublicUser, input: unknown, lastEventId?: string, writableLength = 0) {
  const abort = new AbortController();
  const out = { text: '', ended: false, destroyed: false, close: () => abort.abort() };
  const res: SseResponse = {
    writeHead: () => res,
    write: (chunk) => ((out.text += chunk), true),
    end: () => (out.ended = true),
    destroy: () => (out.destroyed = true),
    writableLength,
  };
  void writeEventStream({ ctx: ctxOf(user), rawInput: JSON.stringify(input), lastEventId: lastEventId ?? null, res, signal: abort.signal });
  return out;
}

const CONNECTED = 'event: connected\ndata: {"reconnectAfterInactivityMs":25000}\n\n\n';

test('events and resume by lastEventId: the same bytes as tRPC writes; removal from the project ends it with FORBIDDEN', async () => {
  const input = { projectId, tabId: 't1' };
  const subs = () => t.services.hub.subscriberCount();
  const base = subs();
  const trpc = viaTrpc(owner, input);
  const mine = viaWriter(owner, input);
  await until(() => subs() === base + 2 && trpc.text.length > 0 && mine.text.length > 0);
  assert.equal(mine.text, CONNECTED);
  t.services.hub.publish(projectChannel(projectId), 'presence.changed' as never, { n: 1, s: 'a\nb' } as never);
  t.services.hub.publish(projectChannel(projectId), 'presence.changed' as never, { n: 2 } as never);
  t.services.hub.publish(projectChannel(projectId), 'presence.changed' as never, { n: 3 } as never);
  await until(() => trpc.text.split('id: ').length === 4 && mine.text.split('id: ').length === 4);
  assert.equal(mine.text, trpc.text);
  assert.match(mine.text, /^data: \{"channel":"project:[^"]+","type":"presence.changed","data":\{"n":1,"s":"a\\nb"\}\}\nid: \w+\.\d+\n\n\n/m);

  // Resuming after the first event replays the other two, through the header or the input.
  const firstId = /id: (\S+)/.exec(mine.text)![1]!;
  const trpcResumed = viaTrpc(owner, input, firstId);
  const mineResumed = viaWriter(owner, input, firstId);
  const mineResumedByInput = viaWriter(owner, { ...input, lastEventId: firstId });
  await until(() => [trpcResumed, mineResumed, mineResumedByInput].every((s) => s.text.split('id: ').length === 3));
  assert.equal(mineResumed.text, trpcResumed.text);
  assert.equal(mineResumedByInput.text, trpcResumed.text);
  assert.doesNotMatch(mineResumed.text, /"n":1/);

  // Removed from the project: the stream ends with a serialized error that says so (tRPC's own
  // handler would send it as INTERNAL_SERVER_ERROR, which the browser retries).
  t.services.hub.revoke(projectId, owner.id);
  await until(() => [trpc, mine, trpcResumed, mineResumed].every((s) => s.ended));
  const errorOf = (text: string) => {
    const m = /\n\n\nevent: serialized-error\ndata: (\{.*\})\n\n\n$/.exec(text);
    assert.ok(m, text.slice(-300));
    return JSON.parse(m[1]!) as { message: string; data: { code: string } };
  };
  assert.deepEqual([errorOf(mine.text).data.code, errorOf(mine.text).message], ['FORBIDDEN', 'You no longer have access to this project.']);
  const beforeError = (text: string) => text.slice(0, text.lastIndexOf('event: serialized-error'));
  assert.equal(beforeError(mine.text), beforeError(trpc.text));
  assert.equal(beforeError(mineResumed.text), beforeError(trpcResumed.text));
  assert.equal(errorOf(mineResumed.text).data.code, 'FORBIDDEN');
  mineResumedByInput.close();
  await until(() => mineResumedByInput.ended);
  assert.equal(subs(), base);
});

test('a non-member, or a bad input, gets the same serialized error as from tRPC (NOT_FOUND, not subscribed)', async () => {
  const base = t.services.hub.subscriberCount();
  for (const [user, input] of [
    [outsider, { projectId, tabId: 't2' }],
    [owner, { projectId, tabId: 'x'.repeat(500) }],
  ] as const) {
    const trpc = viaTrpc(user, input);
    const mine = viaWriter(user, input);
    await until(() => trpc.ended && mine.ended);
    assert.equal(mine.text, trpc.text);
    assert.ok(mine.text.startsWith(`${CONNECTED}event: serialized-error\ndata: `));
    if (user === outsider) assert.match(mine.text, /"code":-32004.*"NOT_FOUND"/);
  }
  assert.equal(t.services.hub.subscriberCount(), base);
});

test('a consumer whose unsent bytes pass the cap is dropped (it reconnects and resumes); the hub forgets it', async () => {
  const base = t.services.hub.subscriberCount();
  const slow = viaWriter(owner, { projectId, tabId: 't4' }, undefined, 64 * 1024 * 1024);
  await until(() => t.services.hub.subscriberCount() === base + 1);
  t.services.hub.publish(projectChannel(projectId), 'presence.changed' as never, { n: 4 } as never);
  await until(() => slow.destroyed);
  assert.equal(t.services.hub.subscriberCount(), base);
  assert.doesNotMatch(slow.text, /serialized-error/);
});
