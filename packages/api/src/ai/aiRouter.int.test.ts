// The AI router through createCaller on a real database, against the OpenAI test double: roles,
// streaming to the caller's tab, cancellation reaching the upstream socket, every fault becoming
// a distinct error event with nothing left in flight, rate limits, and provider selection.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { createProvidersFromConfig, type ProviderConfig } from '@tandem/inference';
import { OpenAITestServer, type OpenAITestServerOptions } from '@tandem/inference/testing';
import type { PublicUser } from '@tandem/auth';
import { callerFactory, RecordedEvents } from '../testing.ts';
import { EventHub } from '../EventHub.ts';
import { AiService, type AiLimits } from './AiService.ts';
import { TabListener } from './TabListener.ts';
import type { CompletionEvent } from './completionEvents.ts';

let db: TestDatabase;
let upstream: OpenAITestServer;
const services: AiService[] = [];
const listeners: TabListener[] = [];

before(async () => {
  db = await createPGliteTestDatabase();
  upstream = new OpenAITestServer();
  await upstream.listen();
});
after(async () => {
  await Promise.all(services.map((s) => s.close()));
  await upstream.close();
  await db.destroy();
});
afterEach(() => {
  for (const l of listeners.splice(0)) l.close();
  upstream.configure({ fault: null, ttftMs: 0, tokensPerSecond: 1000, tokens: [], tokenCount: undefined });
});

const HINT = 'No AI provider is configured. Set OPENAI_BASE_URL and OPENAI_MODEL on the server.';

/** A caller factory whose AiService talks to the test double with the given providers. */
function world(opts: { providers?: ProviderConfig[]; limits?: Partial<AiLimits> } = {}) {
  const hub = new EventHub();
  const providers = opts.providers ?? [{ kind: 'openai-compatible', id: 'test', label: 'Test model', baseUrl: upstream.url, model: 'm', fim: true, timeouts: { firstTokenMs: 300, idleMs: 300 } }];
  const ai = new AiService({ registry: createProvidersFromConfig({ providers }), hub, notConfiguredHint: HINT, limits: opts.limits });
  services.push(ai);
  const t = callerFactory(db.prisma, undefined, new RecordedEvents(), { hub, ai });
  const listen = async (user: PublicUser, projectId: string) => {
    const l = await TabListener.open((signal) => t.callerFor(user, '127.0.0.1', signal), projectId, randomUUID(), () => hub.subscriberCount());
    listeners.push(l);
    return l;
  };
  return { ...t, ai, hub, listen };
}

async function projectWith(w: ReturnType<typeof world>, roles: Record<string, 'editor' | 'viewer'>) {
  const owner = await w.signUp('Owner');
  const p = await w.callerFor(owner).projects.create({ name: 'AI', template: 'node' });
  const users: Record<string, PublicUser> = { owner };
  for (const [name, role] of Object.entries(roles)) {
    const u = await w.signUp(name);
    const inv = await w.callerFor(owner).invites.create({ projectId: p.id, role });
    await w.callerFor(u).invites.accept({ token: inv.token });
    users[name] = u;
  }
  return { projectId: p.id, users };
}

const context = { path: 'src/sum.ts', language: 'typescript', prefix: 'export function sum(a: number, b: number) {\n  return ', suffix: '\n}\n', related: [{ path: 'src/index.ts', text: "import { sum } from './sum';" }] };

function text(events: CompletionEvent[]): string {
  return events.map((e) => (e.kind === 'delta' ? e.text : '')).join('');
}
function final(events: CompletionEvent[]): CompletionEvent {
  return events[events.length - 1]!;
}

describe('who may use AI', () => {
  test('a viewer cannot request completions; a non-member gets NOT_FOUND; an editor can', async () => {
    const w = world();
    const { projectId, users } = await projectWith(w, { Vic: 'viewer', Ed: 'editor' });
    const stranger = await w.signUp('Stranger');
    const input = (tabId: string) => ({ projectId, tabId, requestId: randomUUID(), ...context });
    await assert.rejects(w.callerFor(users.Vic!).ai.complete(input('t1')), { code: 'FORBIDDEN' });
    await assert.rejects(w.callerFor(stranger).ai.complete(input('t1')), { code: 'NOT_FOUND' });
    await assert.rejects(w.callerFor(stranger).ai.status({ projectId }), { code: 'NOT_FOUND' });
    const viewerStatus = await w.callerFor(users.Vic!).ai.status({ projectId });
    assert.equal(viewerStatus.canComplete, false);
    assert.equal(viewerStatus.effective?.id, 'test');
    const tab = await w.listen(users.Ed!, projectId);
    const { requestId } = await w.callerFor(users.Ed!).ai.complete(input(tab.tabId));
    const events = await tab.finished(requestId);
    assert.match(text(events), /^ t0 t1 t2 .* t255$/);
    const done = final(events);
    assert.ok(done.kind === 'done' && done.metrics.completionTokens === 256, 'bounded by maxCompletionTokens (256)');
  });

  test('only the owner chooses the provider; an unknown id is refused; status reflects the choice', async () => {
    const w = world({ providers: [
      { kind: 'openai-compatible', id: 'test', label: 'Test model', baseUrl: upstream.url, model: 'm' },
      { kind: 'openai-compatible', id: 'second', label: 'Second', baseUrl: upstream.url, model: 'other-model' },
    ] });
    const { projectId, users } = await projectWith(w, { Ed: 'editor' });
    await assert.rejects(w.callerFor(users.Ed!).ai.setProvider({ projectId, providerId: 'second' }), { code: 'FORBIDDEN' });
    await assert.rejects(w.callerFor(users.owner!).ai.setProvider({ projectId, providerId: 'nope' }), { code: 'BAD_REQUEST' });
    assert.equal((await w.callerFor(users.owner!).ai.status({ projectId })).effective?.id, 'test', 'default: the first provider');
    const reachedUpstream = upstream.nextRequest();
    const before = await w.callerFor(users.Ed!).ai.complete({ projectId, tabId: randomUUID(), requestId: randomUUID(), ...context });
    assert.equal(before.provider.id, 'test');
    assert.equal((await reachedUpstream).body?.model, 'm');
    await w.callerFor(users.owner!).ai.setProvider({ projectId, providerId: 'second' });
    const status = await w.callerFor(users.Ed!).ai.status({ projectId });
    assert.deepEqual([status.selectedProviderId, status.effective?.id, status.canChoose, status.canComplete], ['second', 'second', false, true]);
    const tab = await w.listen(users.Ed!, projectId);
    const wait = upstream.nextRequest();
    const { requestId, provider } = await w.callerFor(users.Ed!).ai.complete({ projectId, tabId: tab.tabId, requestId: randomUUID(), ...context });
    assert.equal(provider.id, 'second');
    assert.equal((await wait).body?.model, 'other-model');
    await tab.finished(requestId);
  });

  test('a project whose chosen provider is no longer configured says so instead of using another', async () => {
    const w = world();
    const { projectId, users } = await projectWith(w, {});
    await db.prisma.project.update({ where: { id: projectId }, data: { aiProvider: 'removed-local-model' } });
    w.ai.settingsChangedHere(projectId); // changed behind the service's back (as a config change would be)
    const status = await w.callerFor(users.owner!).ai.status({ projectId });
    assert.equal(status.effective, null);
    assert.match(status.problem!, /"removed-local-model".*no longer has.*owner can choose another/);
    await assert.rejects(w.callerFor(users.owner!).ai.complete({ projectId, tabId: 't', requestId: randomUUID(), ...context }), { code: 'SERVICE_UNAVAILABLE', message: /removed-local-model/ });
  });

  test('with no provider configured, status and requests say exactly what to configure', async () => {
    const w = world({ providers: [] });
    const { projectId, users } = await projectWith(w, {});
    const status = await w.callerFor(users.owner!).ai.status({ projectId });
    assert.deepEqual([status.providers, status.effective, status.problem], [[], null, HINT]);
    await assert.rejects(w.callerFor(users.owner!).ai.complete({ projectId, tabId: 't', requestId: randomUUID(), ...context }), { code: 'SERVICE_UNAVAILABLE', message: HINT });
    assert.equal(w.ai.inFlightCount(), 0);
  });
});

describe('streaming to the caller\'s tab', () => {
  test('deltas reach the tab before the model finishes; the request is FIM with path and other files', async () => {
    upstream.configure({ tokensPerSecond: 20, tokens: ['a', ' +', ' b', ';', '\n', '// done'] });
    const w = world();
    const { projectId, users } = await projectWith(w, {});
    const tab = await w.listen(users.owner!, projectId);
    const other = await w.listen(users.owner!, projectId); // another tab of the same user
    const nextRequest = upstream.nextRequest();
    const { requestId } = await w.callerFor(users.owner!).ai.complete({ projectId, tabId: tab.tabId, requestId: randomUUID(), ...context });
    const request = await nextRequest;
    const first = await tab.waitFor(requestId, (es) => es.length > 0);
    assert.equal(first[0]!.kind, 'delta');
    assert.equal(request.outcome, 'pending', 'the first text arrived while the model was still generating');
    assert.equal(request.path, '/v1/completions');
    assert.match(String(request.body?.prompt), /^\/\/ Path: src\/sum\.ts\n\/\/ Compare this snippet from src\/index\.ts:\n\/\/ import \{ sum \}.*\n[^]*return $/);
    assert.equal(request.body?.suffix, '\n}\n');
    const events = await tab.finished(requestId);
    assert.equal(text(events), 'a + b;\n// done');
    const done = final(events);
    assert.ok(done.kind === 'done' && done.finishReason === 'stop');
    assert.equal(done.metrics.outcome, 'ok');
    assert.equal(done.metrics.completionTokens, 6);
    assert.ok(done.metrics.ttftMs !== null && done.metrics.ttftMs >= 0);
    assert.ok(done.metrics.tokensPerSecond! > 5 && done.metrics.tokensPerSecond! < 40, `tok/s ${done.metrics.tokensPerSecond}`);
    const delta = events.find((e) => e.kind === 'delta')!;
    assert.equal(delta.metrics.outcome, 'streaming', 'live metrics travel with each delta');
    assert.equal(other.of(requestId).length, 0, 'completions are private to the requesting tab');
    assert.equal(w.ai.inFlightCount(), 0);
  });

  test('cancel ends the stream and closes the upstream connection at once', async () => {
    upstream.configure({ tokensPerSecond: 50, tokenCount: 500 });
    const w = world();
    const { projectId, users } = await projectWith(w, { Ed: 'editor' });
    const tab = await w.listen(users.Ed!, projectId);
    const nextRequest = upstream.nextRequest();
    const { requestId } = await w.callerFor(users.Ed!).ai.complete({ projectId, tabId: tab.tabId, requestId: randomUUID(), ...context });
    const request = await nextRequest;
    await tab.waitFor(requestId, (es) => es.length > 0);
    assert.deepEqual(await w.callerFor(users.owner!).ai.cancel({ requestId }), { cancelled: false }, 'nobody cancels another user\'s request');
    assert.deepEqual(await w.callerFor(users.Ed!).ai.cancel({ requestId }), { cancelled: true });
    const closed = await upstream.waitForClose(request.id, 2000);
    assert.equal(closed.outcome, 'closed_early');
    assert.ok(closed.tokensSent < 500);
    const done = final(await tab.finished(requestId));
    assert.ok(done.kind === 'done' && done.finishReason === 'cancelled');
    assert.equal(done.metrics.outcome, 'cancelled');
    assert.equal(w.ai.inFlightCount(), 0);
  });

  test('a new request from the same tab aborts the previous one upstream', async () => {
    upstream.configure({ tokensPerSecond: 50, tokenCount: 500 });
    const w = world();
    const { projectId, users } = await projectWith(w, {});
    const tab = await w.listen(users.owner!, projectId);
    const owner = w.callerFor(users.owner!);
    const firstRequest = upstream.nextRequest();
    const a = await owner.ai.complete({ projectId, tabId: tab.tabId, requestId: randomUUID(), ...context });
    const upstreamA = await firstRequest;
    await tab.waitFor(a.requestId, (es) => es.length > 0);
    upstream.configure({ tokensPerSecond: 1000, tokenCount: 3 });
    const b = await owner.ai.complete({ projectId, tabId: tab.tabId, requestId: randomUUID(), ...context, prefix: context.prefix + 'x' });
    assert.equal((await upstream.waitForClose(upstreamA.id, 2000)).outcome, 'closed_early');
    const aFinal = final(await tab.finished(a.requestId));
    assert.ok(aFinal.kind === 'done' && aFinal.finishReason === 'cancelled');
    assert.equal(text(await tab.finished(b.requestId)), ' t0 t1 t2');
    assert.equal(w.ai.inFlightCount(), 0);
  });

  test('a chat-only provider gets the cursor marked in a chat request, and Markdown fences are stripped', async () => {
    upstream.configure({ tokens: ['```', 'ts\n', 'a', ' + b', ';\n', '```', '\nExplanation: adds.'] });
    const w = world({ providers: [{ kind: 'openai-compatible', id: 'chat', baseUrl: upstream.url, model: 'chat-model' }] });
    const { projectId, users } = await projectWith(w, {});
    const tab = await w.listen(users.owner!, projectId);
    const nextRequest = upstream.nextRequest();
    const { requestId } = await w.callerFor(users.owner!).ai.complete({ projectId, tabId: tab.tabId, requestId: randomUUID(), ...context });
    const request = await nextRequest;
    assert.equal(request.path, '/v1/chat/completions');
    const messages = request.body?.messages as { role: string; content: string }[];
    assert.match(messages[1]!.content, /File: src\/sum\.ts \(typescript\)[^]*return <\|cursor\|>\n\}/);
    const events = await tab.finished(requestId);
    assert.equal(text(events), 'a + b;');
    const done = final(events);
    assert.ok(done.kind === 'done' && done.finishReason === 'stop' && done.metrics.outcome === 'ok');
  });
});

describe('faults: each is a distinct error event, and nothing stays in flight', () => {
  const cases: { name: string; options: OpenAITestServerOptions; kind: string; code: string; message: RegExp; retryAfterMs?: number }[] = [
    { name: '429 with Retry-After', options: { fault: { kind: 'rate_limit', retryAfterSeconds: 2 } }, kind: 'rate_limited', code: 'RATE_LIMITED', message: /Test model/, retryAfterMs: 2000 },
    { name: '500', options: { fault: { kind: 'server_error' } }, kind: 'provider', code: 'UNAVAILABLE', message: /Test model/ },
    { name: 'no first token in time', options: { fault: { kind: 'stall', afterTokens: 0 } }, kind: 'first_token_timeout', code: 'UNAVAILABLE', message: /Test model/ },
    { name: 'malformed SSE', options: { fault: { kind: 'malformed', afterTokens: 2 } }, kind: 'malformed_stream', code: 'UNAVAILABLE', message: /Test model/ },
    { name: 'connection dropped mid-stream', options: { fault: { kind: 'drop', afterTokens: 3 } }, kind: 'connection_dropped', code: 'UNAVAILABLE', message: /Test model/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      upstream.configure({ ...c.options, tokenCount: 10 });
      const w = world();
      const { projectId, users } = await projectWith(w, {});
      const tab = await w.listen(users.owner!, projectId);
      const nextRequest = upstream.nextRequest();
      const { requestId } = await w.callerFor(users.owner!).ai.complete({ projectId, tabId: tab.tabId, requestId: randomUUID(), ...context });
      const request = await nextRequest;
      const events = await tab.finished(requestId);
      const last = final(events);
      assert.equal(last.kind, 'error', JSON.stringify(events));
      if (last.kind !== 'error') return;
      assert.equal(last.error.kind, c.kind);
      assert.equal(last.error.code, c.code);
      assert.match(last.error.message, c.message);
      assert.equal(last.error.retryAfterMs, c.retryAfterMs ?? null);
      assert.equal(last.metrics.outcome, 'error');
      assert.equal(events.filter((e) => e.kind !== 'delta').length, 1, 'exactly one final event');
      assert.equal(w.ai.inFlightCount(), 0, 'the in-flight registry is empty');
      await upstream.waitForClose(request.id, 2000); // and the upstream connection is gone
    });
  }
});

describe('rate limits', () => {
  test('AI requests are limited per user and per project', async () => {
    upstream.configure({ tokenCount: 1 });
    const w = world({ limits: { perUser: { limit: 3, windowMs: 60_000 }, perProject: { limit: 5, windowMs: 60_000 } } });
    const { projectId, users } = await projectWith(w, { Ed: 'editor' });
    const start = (user: PublicUser) => w.callerFor(user).ai.complete({ projectId, tabId: randomUUID(), requestId: randomUUID(), ...context });
    for (let i = 0; i < 3; i++) await start(users.owner!);
    await assert.rejects(start(users.owner!), { code: 'TOO_MANY_REQUESTS', message: /from you; try again in \d+ s/ });
    await start(users.Ed!);
    await start(users.Ed!);
    await assert.rejects(start(users.Ed!), { code: 'TOO_MANY_REQUESTS', message: /in this project/ });
    await w.ai.settled();
    assert.equal(w.ai.inFlightCount(), 0);
  });
});
