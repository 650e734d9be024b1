// Shared AI edits end to end, in-process: the real server (tRPC over HTTP, sync endpoint, PGlite),
// the OpenAI test double as the provider (configured through env), participants reading
// `stream.events` over real SSE and editing through stock y-websocket clients.
import { test, before, after, afterEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { createTRPCClient, httpLink } from '@trpc/client';
import { FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { AppRouter, SuggestionFrame, SuggestionView } from '@tandem/api';
import { OpenAITestServer, type RecordedRequest } from '@tandem/inference/testing';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { connectSync, signUpOverHttp, waitFor, type Api, type SignedIn, type SyncClient } from './testing/clients.ts';
import { HttpSubscription, type SseMessage } from './testing/HttpSubscription.ts';

let dataDir: string;
let upstream: OpenAITestServer;
let server: TandemServer;
let owner: SignedIn;
let editor: SignedIn;
let editor2: SignedIn;
let viewer: SignedIn;
let projectId: string;
const clients: SyncClient[] = [];
const subscriptions: HttpSubscription[] = [];

const FILE = 'function one() {\n  return 1;\n}\n\nfunction two() {\n  return 2;\n}\n';
/** What the model does to the selected code in most tests: two separate changes, so two hunks. */
const TWO_CHANGES = (code: string) => code.replace('return 1;', 'return 10;').replace('return 2;', 'return 20;');
let rewrite: (selected: string) => string = TWO_CHANGES;

function env() {
  return loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false',
    OPENAI_BASE_URL: upstream.url, OPENAI_MODEL: 'edit-model', OPENAI_LABEL: 'Test AI',
  }, []);
}

/** The selected code the server put in the prompt. */
function selectedOf(request: RecordedRequest): string {
  const messages = request.body?.messages as { content: string }[];
  return /<selected>\n([\s\S]*)<\/selected>/.exec(messages.at(-1)!.content)![1]!;
}

/** Model-like tokens: a few characters each, the code wrapped in a Markdown fence as models often do. */
function tokensFor(code: string): string[] {
  const text = '```js\n' + code + '```';
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 3) out.push(text.slice(i, i + 3));
  return out;
}

async function member(name: string, role: 'editor' | 'viewer'): Promise<SignedIn> {
  const user = await signUpOverHttp(server.url, name);
  const invite = await owner.api.invites.create.mutate({ projectId, role });
  await user.api.invites.accept.mutate({ token: invite.token });
  return user;
}

/** A new file in the project with `content` (written on the server's behalf); returns its id. */
async function createFile(content: string): Promise<string> {
  const fileId = randomUUID();
  await server.sync.editDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).set(fileId, { path: `src/${fileId.slice(0, 8)}.js`, kind: 'file' }));
  await server.sync.editDocument(fileDocName(projectId, fileId), (doc) => doc.getText(FILE_TEXT).insert(0, content));
  return fileId;
}

/** A tRPC client for `baseUrl` with an existing session cookie (after a restart on a new port). */
function apiFor(baseUrl: string, cookie: string): Api {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/api/trpc`, headers: { cookie } })] });
}

async function open(who: SignedIn, fileId: string): Promise<SyncClient> {
  const client = connectSync(server.url, fileDocName(projectId, fileId), { cookie: who.cookie });
  clients.push(client);
  await client.synced;
  return client;
}

async function subscribe(who: SignedIn): Promise<HttpSubscription> {
  const sub = await HttpSubscription.open(server.url, 'stream.events', { projectId, tabId: randomUUID() }, { cookie: who.cookie });
  subscriptions.push(sub);
  return sub;
}

type Envelope = { type: string; data: unknown };
const envelope = (m: SseMessage) => m.data as Envelope | null;
const snapshotOf = (id: string, status?: string) => (m: SseMessage) => {
  const e = envelope(m);
  return e?.type === 'suggestion' && (e.data as SuggestionView).id === id && (status === undefined || (e.data as SuggestionView).status === status);
};
const isFrameOf = (id: string) => (m: SseMessage) => envelope(m)?.type === 'suggestion.frame' && (envelope(m)!.data as SuggestionFrame).id === id;
const view = (m: SseMessage) => envelope(m)!.data as SuggestionView;
const framesOf = (sub: HttpSubscription, id: string) =>
  sub.messages.filter((m) => envelope(m)?.type === 'suggestion.frame' && (envelope(m)!.data as SuggestionFrame).id === id).map((m) => envelope(m)!.data as SuggestionFrame);

async function requestWhole(who: SignedIn, fileId: string, instruction = 'make the numbers bigger'): Promise<SuggestionView> {
  const text = (await open(who, fileId)).text.toString();
  return who.api.suggestions.request.mutate({ projectId, fileId, instruction, range: { kind: 'offsets', start: 0, end: text.length } });
}

async function untilStatus(who: SignedIn, id: string, status: string): Promise<SuggestionView> {
  let found: SuggestionView | undefined;
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    found = (await who.api.suggestions.list.query({ projectId })).find((s) => s.id === id);
    if (found?.status === status) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`suggestion ${id} did not become ${status} (is ${found?.status ?? 'gone'})`);
}

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    const err = e as { data?: { code?: string }; message: string };
    assert.equal(err.data?.code, code, `${err.data?.code}: ${err.message}`);
    if (message) assert.match(err.message, message);
    return true;
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-suggestions-'));
  upstream = new OpenAITestServer({ tokensPerSecond: 4000, tokens: (r) => tokensFor(rewrite(selectedOf(r))) });
  await upstream.listen();
  server = await startTandemServer(env(), { withWeb: false });
  owner = await signUpOverHttp(server.url, 'Olivia');
  projectId = (await owner.api.projects.create.mutate({ name: 'Review', template: 'empty' })).id;
  editor = await member('Eddie', 'editor');
  editor2 = await member('Erin', 'editor');
  viewer = await member('Vera', 'viewer');
});

afterEach(() => {
  for (const s of subscriptions.splice(0)) s.close();
  for (const c of clients.splice(0)) c.destroy();
});

after(async () => {
  for (const s of subscriptions) s.close();
  for (const c of clients) c.destroy();
  await server?.close();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('streaming into the shared session', () => {
  test('every participant (viewers too) receives the suggestion over SSE as it streams; the document is untouched until accepted', async () => {
    upstream.configure({ tokensPerSecond: 300 });
    try {
      const fileId = await createFile(FILE);
      const subs = await Promise.all([owner, editor, viewer].map(subscribe));
      const watcher = await open(viewer, fileId);
      const updatesBefore = await server.db.prisma.documentUpdate.count({ where: { documentName: fileDocName(projectId, fileId) } });
      const nextRequest = upstream.nextRequest();
      const requested = await requestWhole(editor, fileId);
      assert.equal(requested.status, 'requested');
      assert.deepEqual([requested.requester.name, requested.model, requested.providerLabel], ['Eddie', 'edit-model', 'Test AI']);
      const request = await nextRequest;

      for (const sub of subs) {
        await sub.waitFor(snapshotOf(requested.id, 'requested'));
        await sub.waitFor(isFrameOf(requested.id), 3000);
      }
      assert.equal(request.outcome, 'pending', 'the first frames arrived while the model was still generating');
      assert.equal(watcher.text.toString(), FILE, 'streaming never writes into the document');

      const ready = view(await subs[2]!.waitFor(snapshotOf(requested.id, 'ready'), 10_000));
      assert.equal(ready.proposedText, TWO_CHANGES(FILE), 'fences stripped, code only');
      assert.deepEqual(ready.hunks.map((h) => [h.removed, h.inserted, h.decision]), [
        ['  return 1;\n', '  return 10;\n', 'pending'],
        ['  return 2;\n', '  return 20;\n', 'pending'],
      ]);
      assert.ok(ready.metrics.ttftMs !== null && ready.metrics.tokens > 10 && ready.metrics.tokensPerSecond! > 100, JSON.stringify(ready.metrics));
      for (const sub of subs) {
        const frames = framesOf(sub, requested.id);
        assert.ok(frames.length >= 3, `several frames at 300 tok/s (got ${frames.length})`);
        // The closing fence took the last newline with it; the final code gets the base's ending back.
        assert.equal(frames.map((f) => f.text).join('') + '\n', ready.proposedText, 'frames carry the code in order, nothing lost or repeated');
        frames.forEach((f, i) => assert.equal(f.offset, frames.slice(0, i).reduce((n, g) => n + g.text.length, 0)));
        assert.ok(frames.at(-1)!.metrics.ttftMs !== null);
      }
      assert.equal(watcher.text.toString(), FILE);
      const updatesAfter = await server.db.prisma.documentUpdate.count({ where: { documentName: fileDocName(projectId, fileId) } });
      assert.equal(updatesAfter, updatesBefore, 'no document history for a streamed suggestion');
    } finally {
      upstream.configure({ tokensPerSecond: 4000 });
    }
  });

  test('a request anchored with relative positions on code the requester just typed waits for that code to arrive', async () => {
    const fileId = await createFile(FILE);
    const mine = await open(editor, fileId);
    mine.provider.disconnect(); // the new code stays local for a moment
    const added = 'function three() {\n  return 3;\n}\n';
    mine.text.insert(FILE.length, added);
    const encode = (index: number, assoc: number) =>
      Buffer.from(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(mine.text, index, assoc))).toString('base64');
    const pending = editor.api.suggestions.request.mutate({
      projectId, fileId, instruction: 'bigger',
      range: { kind: 'anchor', start: encode(FILE.length, 0), end: encode(mine.text.length, -1) },
    });
    await new Promise((r) => setTimeout(r, 150));
    rewrite = (code) => code.replace('return 3;', 'return 30;');
    try {
      mine.provider.connect();
      const s = await pending;
      assert.deepEqual([s.baseText, s.startLine, s.endLine], [added, 8, 10], 'the selected range, resolved once the code it names arrived');
      const ready = await untilStatus(editor, s.id, 'ready');
      assert.deepEqual(ready.hunks.map((h) => h.inserted), ['  return 30;\n']);
    } finally {
      rewrite = TWO_CHANGES;
    }
  });
});

describe('review', () => {
  test('accepting one hunk changes every participant’s text at the anchor; typing elsewhere keeps it anchored', async () => {
    const fileId = await createFile(FILE);
    const a = await open(owner, fileId);
    const b = await open(editor, fileId);
    const s = await requestWhole(editor, fileId);
    await untilStatus(editor, s.id, 'ready');
    a.text.insert(0, '// top, typed by A\n');
    b.text.insert(b.text.length, '// bottom, typed by B\n');
    await waitFor(() => a.text.toString() === b.text.toString() && b.text.toString().startsWith('// top'), 'clients converge');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await untilStatus(editor, s.id, 'ready')).status, 'ready', 'edits outside the range keep it intact');

    const sub = await subscribe(editor2);
    const afterFirst = await editor2.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 1 });
    assert.equal(afterFirst.status, 'ready');
    assert.deepEqual(afterFirst.hunks.map((h) => [h.decision, h.decidedBy?.name ?? null]), [['pending', null], ['accepted', 'Erin']]);
    const expectedOne = '// top, typed by A\n' + FILE.replace('return 2;', 'return 20;') + '// bottom, typed by B\n';
    await waitFor(() => a.text.toString() === expectedOne && b.text.toString() === expectedOne, 'hunk 1 applied for everyone');
    await sub.waitFor((m) => snapshotOf(s.id)(m) && view(m).hunks[1]!.decision === 'accepted', 3000);

    const done = await owner.api.suggestions.rejectHunk.mutate({ projectId, suggestionId: s.id, hunk: 0 });
    assert.equal(done.status, 'partially_accepted');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(a.text.toString(), expectedOne, 'rejecting changes nothing');
    assert.equal((await owner.api.suggestions.list.query({ projectId })).some((x) => x.id === s.id), false, 'decided suggestions leave the open list');

    const [entry] = (await viewer.api.suggestions.activity.query({ projectId })).filter((e) => e.id === s.id);
    assert.ok(entry);
    assert.deepEqual(entry.hunks.map((h) => [h.decision, h.decidedBy?.name, typeof h.decidedAt]), [['rejected', 'Olivia', 'string'], ['accepted', 'Erin', 'string']]);
    assert.deepEqual(entry.events.map((e) => [e.kind, e.user?.name ?? null, e.hunkIndex]), [
      ['requested', 'Eddie', null], ['completed', null, null], ['accepted', 'Erin', 1], ['rejected', 'Olivia', 0],
    ]);
    assert.deepEqual([entry.requester.name, entry.model, entry.providerId, entry.tokens > 0, entry.ttftMs !== null], ['Eddie', 'edit-model', 'openai', true, true]);
  });

  test('accept all applies every hunk in one transaction at the moved anchor', async () => {
    const fileId = await createFile(FILE);
    const a = await open(owner, fileId);
    const s = await requestWhole(editor, fileId);
    await untilStatus(editor, s.id, 'ready');
    a.text.insert(0, 'const before = true;\n');
    await new Promise((r) => setTimeout(r, 50));
    const done = await editor.api.suggestions.acceptAll.mutate({ projectId, suggestionId: s.id });
    assert.equal(done.status, 'accepted');
    await waitFor(() => a.text.toString() === 'const before = true;\n' + TWO_CHANGES(FILE), 'applied');
  });

  test('typing inside one hunk stales only that hunk (never applied to other text); once only stale ones are left, regenerate starts over on the current code', async () => {
    const fileId = await createFile(FILE);
    const a = await open(owner, fileId);
    const sub = await subscribe(viewer);
    const s = await requestWhole(editor, fileId);
    await untilStatus(editor, s.id, 'ready');
    a.text.insert(FILE.indexOf('return 1') + 'return 1'.length, '1'); // return 11;
    const seen = view(await sub.waitFor((m) => snapshotOf(s.id)(m) && view(m).hunks[0]?.stale === true, 5000));
    assert.deepEqual([seen.status, seen.hunks.map((h) => h.stale)], ['ready', [true, false]]);
    assert.deepEqual(seen.display.map((d) => [d.index, d.stale]), [[0, true], [1, false]]);
    await rejects(editor.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 0 }), 'CONFLICT', /stale/);
    assert.equal(a.text.toString(), FILE.replace('return 1;', 'return 11;'), 'nothing applied');
    const rest = await editor.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 1 });
    assert.equal(rest.status, 'stale', 'only the stale hunk is left');
    await waitFor(() => a.text.toString() === FILE.replace('return 1;', 'return 11;').replace('return 2;', 'return 20;'), 'the intact hunk applied');

    rewrite = (code) => code.replace('return 11;', 'return 111;');
    try {
      const again = await editor.api.suggestions.regenerate.mutate({ projectId, suggestionId: s.id });
      assert.deepEqual([again.status, again.attempt, again.baseText], ['requested', 2, FILE.replace('return 1;', 'return 11;').replace('return 2;', 'return 20;')]);
      const ready = await untilStatus(editor, s.id, 'ready');
      assert.deepEqual(ready.hunks.map((h) => h.inserted), ['  return 111;\n']);
      await editor.api.suggestions.acceptAll.mutate({ projectId, suggestionId: s.id });
      await waitFor(() => a.text.toString() === FILE.replace('return 1;', 'return 111;').replace('return 2;', 'return 20;'), 'regenerated edit applied');
    } finally {
      rewrite = TWO_CHANGES;
    }
  });

  test('one edit inside a 6-hunk suggestion stales exactly that hunk; the other 5 apply where they belong; the stale one is rejected on its own', async () => {
    const six = Array.from({ length: 6 }, (_, i) => `function f${i}() {\n  return ${i};\n}\n`).join('\n');
    const tenfold = (code: string) => code.replace(/return (\d);/g, (_, n: string) => `return ${Number(n) * 10 + 5};`);
    rewrite = tenfold;
    try {
      const fileId = await createFile(six);
      const a = await open(owner, fileId);
      const sub = await subscribe(editor2);
      const s = await requestWhole(editor, fileId);
      const ready = await untilStatus(editor, s.id, 'ready');
      assert.equal(ready.hunks.length, 6);
      // Between hunks (a blank line, and a closing brace) touches none of them.
      a.text.insert(a.text.toString().indexOf('}\n\nfunction f2') + 2, '// note\n');
      a.text.insert(a.text.toString().indexOf('}\n\nfunction f4') + 1, ' // end of f3');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual((await untilStatus(editor, s.id, 'ready')).hunks.map((h) => h.stale), [false, false, false, false, false, false]);

      const at = a.text.toString().indexOf('return 3;') + 'return 3'.length;
      a.text.insert(at, '3'); // someone changes f3 themselves: return 33;
      const seen = view(await sub.waitFor((m) => snapshotOf(s.id)(m) && view(m).hunks.some((h) => h.stale), 5000));
      assert.deepEqual(seen.hunks.map((h) => h.stale), [false, false, false, true, false, false]);
      assert.equal(seen.status, 'ready');

      const done = await editor2.api.suggestions.acceptAll.mutate({ projectId, suggestionId: s.id });
      assert.deepEqual(done.hunks.map((h) => h.decision), ['accepted', 'accepted', 'accepted', 'pending', 'accepted', 'accepted']);
      assert.equal(done.status, 'stale', 'the stale hunk waits: reject it or regenerate');
      const expected = tenfold(six).replace('return 35;', 'return 33;')
        .replace('}\n\nfunction f2', '}\n// note\n\nfunction f2').replace('}\n\nfunction f4', '} // end of f3\n\nfunction f4');
      await waitFor(() => a.text.toString() === expected, 'five hunks applied at their own lines; the edited one untouched');

      // Only the stale hunk is left: it cannot be accepted, but it can be rejected on its own (R8), which settles the suggestion.
      await rejects(editor2.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 3 }), 'CONFLICT', /stale/);
      const closed = await editor2.api.suggestions.rejectHunk.mutate({ projectId, suggestionId: s.id, hunk: 3 });
      assert.equal(closed.status, 'partially_accepted');
      assert.equal(closed.hunks[3]!.decision, 'rejected');
      const [entry] = (await owner.api.suggestions.activity.query({ projectId })).filter((e) => e.id === s.id);
      assert.deepEqual(entry!.events.filter((e) => e.kind === 'stale').map((e) => e.hunkIndex), [3]);
      assert.deepEqual(entry!.events.filter((e) => e.kind === 'rejected').map((e) => e.hunkIndex), [3]);
      assert.equal(a.text.toString(), expected, 'rejecting the stale hunk changes nothing');
    } finally {
      rewrite = TWO_CHANGES;
    }
  });

  test('typing inside while it streams makes it stale and stops the upstream request', async () => {
    upstream.configure({ tokensPerSecond: 50 });
    try {
      const fileId = await createFile(FILE);
      const a = await open(owner, fileId);
      const sub = await subscribe(owner);
      const nextRequest = upstream.nextRequest();
      const s = await requestWhole(editor, fileId);
      const request = await nextRequest;
      await sub.waitFor(isFrameOf(s.id), 3000);
      a.text.insert(FILE.indexOf('return 2'), 'x');
      await sub.waitFor(snapshotOf(s.id, 'stale'), 5000);
      assert.equal((await upstream.waitForClose(request.id, 3000)).outcome, 'closed_early');
    } finally {
      upstream.configure({ tokensPerSecond: 4000 });
    }
  });

  test('deleting the whole range makes it a conflict', async () => {
    const fileId = await createFile(FILE);
    const a = await open(owner, fileId);
    const start = FILE.indexOf('function two');
    const s = await editor.api.suggestions.request.mutate({ projectId, fileId, instruction: 'x', range: { kind: 'offsets', start, end: FILE.length } });
    await untilStatus(editor, s.id, 'ready');
    const sub = await subscribe(owner);
    a.text.delete(start - 1, FILE.length - start + 1);
    await sub.waitFor(snapshotOf(s.id, 'conflict'), 5000);
    const [entry] = (await owner.api.suggestions.activity.query({ projectId })).filter((e) => e.id === s.id);
    assert.equal(entry!.status, 'conflict');
    await rejects(editor.api.suggestions.acceptAll.mutate({ projectId, suggestionId: s.id }), 'CONFLICT', /already conflict/);
  });

  test('cancel aborts the upstream request (the provider sees the connection close)', async () => {
    upstream.configure({ tokensPerSecond: 40 });
    try {
      const fileId = await createFile(FILE);
      const nextRequest = upstream.nextRequest();
      const s = await requestWhole(editor, fileId);
      const request = await nextRequest;
      await rejects(viewer.api.suggestions.cancel.mutate({ projectId, suggestionId: s.id }), 'FORBIDDEN');
      await waitFor(() => request.tokensSent > 0, 'first tokens sent');
      const cancelled = await editor.api.suggestions.cancel.mutate({ projectId, suggestionId: s.id });
      assert.equal(cancelled.status, 'cancelled');
      assert.equal((await upstream.waitForClose(request.id, 2000)).outcome, 'closed_early');
      let entry: { status: string; ttftMs: number | null; events: { kind: string }[] } | undefined;
      for (let i = 0; i < 50 && entry?.ttftMs == null; i++) {
        [entry] = (await owner.api.suggestions.activity.query({ projectId })).filter((e) => e.id === s.id);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(entry!.status, 'cancelled');
      assert.ok(entry!.ttftMs !== null, 'the record keeps the cancelled stream’s TTFT');
      assert.deepEqual(entry!.events.map((e) => e.kind), ['requested', 'cancelled']);
    } finally {
      upstream.configure({ tokensPerSecond: 4000 });
    }
  });
});

describe('approval policy, enforced by the server', () => {
  test('n approvals: distinct people approve, names are recorded; a repeated vote is refused; the nth applies', async () => {
    await rejects(editor.api.suggestions.setPolicy.mutate({ projectId, policy: { kind: 'owner_only' } }), 'FORBIDDEN');
    await owner.api.suggestions.setPolicy.mutate({ projectId, policy: { kind: 'n_approvals', n: 2 } });
    try {
      const fileId = await createFile(FILE);
      const a = await open(owner, fileId);
      const s = await requestWhole(editor, fileId);
      await untilStatus(editor, s.id, 'ready');
      const first = await editor.api.suggestions.approve.mutate({ projectId, suggestionId: s.id, hunk: 0 });
      assert.deepEqual([first.status, first.hunks[0]!.decision, first.hunks[0]!.approvals.map((u) => u.name)], ['ready', 'pending', ['Eddie']]);
      assert.deepEqual(first.policy, { kind: 'n_approvals', n: 2 });
      await rejects(editor.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 0 }), 'CONFLICT', /already approved/);
      await rejects(viewer.api.suggestions.approve.mutate({ projectId, suggestionId: s.id, hunk: 0 }), 'FORBIDDEN');
      assert.equal(a.text.toString(), FILE, 'one approval of two changes nothing');
      const second = await editor2.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 0 });
      assert.deepEqual([second.hunks[0]!.decision, second.hunks[0]!.approvals.map((u) => u.name), second.hunks[0]!.decidedBy?.name], ['accepted', ['Eddie', 'Erin'], 'Erin']);
      await waitFor(() => a.text.toString() === FILE.replace('return 1;', 'return 10;'), 'applied at the second approval');
    } finally {
      await owner.api.suggestions.setPolicy.mutate({ projectId, policy: { kind: 'any_editor' } });
    }
  });

  test('owner only: editors are refused, the owner decides; viewers are refused under every policy', async () => {
    const fileId = await createFile(FILE);
    const s = await requestWhole(editor, fileId);
    await untilStatus(editor, s.id, 'ready');
    await rejects(viewer.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 0 }), 'FORBIDDEN', /Viewers/);
    await rejects(viewer.api.suggestions.rejectAll.mutate({ projectId, suggestionId: s.id }), 'FORBIDDEN', /Viewers/);
    await rejects(viewer.api.suggestions.request.mutate({ projectId, fileId, instruction: 'x', range: { kind: 'offsets', start: 0, end: 1 } }), 'FORBIDDEN');
    await owner.api.suggestions.setPolicy.mutate({ projectId, policy: { kind: 'owner_only' } });
    try {
      await rejects(editor.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 0 }), 'FORBIDDEN', /owner/);
      await rejects(editor.api.suggestions.rejectHunk.mutate({ projectId, suggestionId: s.id, hunk: 0 }), 'FORBIDDEN', /owner/);
      const done = await owner.api.suggestions.acceptAll.mutate({ projectId, suggestionId: s.id });
      assert.equal(done.status, 'accepted');
    } finally {
      await owner.api.suggestions.setPolicy.mutate({ projectId, policy: { kind: 'any_editor' } });
    }
  });
});

describe('comments on hunks', () => {
  test('anyone, viewers too, comments on one hunk: the thread carries the suggestion and that hunk\'s anchor, reaches everyone live and follows the hunk; other suggestions and strangers are refused', async () => {
    const fileId = await createFile(FILE);
    const a = await open(owner, fileId);
    const s = await requestWhole(editor, fileId);
    const ready = await untilStatus(editor, s.id, 'ready');
    const hunk = ready.hunks[1]!;
    assert.ok(hunk.anchor, 'a ready hunk has its own anchor');
    const watching = await subscribe(editor2);
    const thread = await viewer.api.comments.create.mutate({
      projectId, fileId, anchorStart: hunk.anchor.start, anchorEnd: hunk.anchor.end, excerpt: hunk.removed, body: 'Why 20?', suggestionId: s.id,
    });
    const seen = (await watching.waitFor((m) => envelope(m)?.type === 'comments.thread' && (envelope(m)!.data as { id: string }).id === thread.id, 3000));
    assert.deepEqual([(envelope(seen)!.data as typeof thread).suggestionId, thread.anchorStart], [s.id, hunk.anchor.start]);
    await editor.api.comments.reply.mutate({ projectId, threadId: thread.id, body: 'Bigger is better.' });

    // The thread's anchor follows the hunk's lines while people type above them.
    a.text.insert(0, '// header\n');
    await waitFor(() => a.text.toString().startsWith('// header'), 'typed');
    const at = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(Buffer.from(thread.anchorStart, 'base64')), a.doc)!;
    assert.equal(a.text.toString().slice(at.index).split('\n')[0], '  return 2;');

    const otherFile = await createFile(FILE);
    const refused = { projectId, fileId: otherFile, anchorStart: hunk.anchor.start, anchorEnd: hunk.anchor.end, excerpt: 'x', body: 'x', suggestionId: s.id };
    await rejects(viewer.api.comments.create.mutate(refused), 'NOT_FOUND', /not in this file/);
    const stranger = await signUpOverHttp(server.url, 'Stan');
    const strangerProject = (await stranger.api.projects.create.mutate({ name: 'Mine', template: 'empty' })).id;
    await rejects(stranger.api.comments.create.mutate({ ...refused, projectId: strangerProject, fileId }), 'NOT_FOUND');
    await rejects(stranger.api.comments.create.mutate({ ...refused, fileId }), 'NOT_FOUND');
    const listed = (await owner.api.comments.list.query({ projectId })).filter((t) => t.suggestionId === s.id);
    assert.deepEqual(listed.map((t) => t.comments.map((c) => c.author.name)), [['Vera', 'Eddie']]);
  });
});

describe('undo and restart', () => {
  test('undo reverts exactly the AI edit for everyone, keeping edits others made before and after', async () => {
    const fileId = await createFile(FILE);
    const a = await open(owner, fileId);
    const b = await open(editor2, fileId);
    const s = await requestWhole(editor, fileId);
    await untilStatus(editor, s.id, 'ready');
    a.text.insert(0, '// A before\n');
    await new Promise((r) => setTimeout(r, 50));
    await editor.api.suggestions.acceptAll.mutate({ projectId, suggestionId: s.id });
    await waitFor(() => b.text.toString() === '// A before\n' + TWO_CHANGES(FILE), 'applied');
    b.text.insert(b.text.length, '// B after\n');
    await waitFor(() => a.text.toString().endsWith('// B after\n'), 'B typed after the AI edit');
    await rejects(viewer.api.suggestions.undo.mutate({ projectId, suggestionId: s.id }), 'FORBIDDEN');
    const undone = await editor2.api.suggestions.undo.mutate({ projectId, suggestionId: s.id });
    assert.equal(undone.undone?.by.name, 'Erin');
    const expected = '// A before\n' + FILE + '// B after\n';
    await waitFor(() => a.text.toString() === expected && b.text.toString() === expected, 'exactly the AI edit reverted for everyone');
    await rejects(editor2.api.suggestions.undo.mutate({ projectId, suggestionId: s.id }), 'CONFLICT', /already undone/);
    const [entry] = (await owner.api.suggestions.activity.query({ projectId })).filter((e) => e.id === s.id);
    assert.deepEqual(entry!.events.at(-1)?.kind, 'undone');
  });

  test('after a restart an open suggestion is still reviewable (anchor re-resolved from storage); a streaming one is failed; undo across it says why not', async () => {
    const fileId = await createFile(FILE);
    const a = await open(owner, fileId);
    const ready = await requestWhole(editor, fileId);
    await untilStatus(editor, ready.id, 'ready');
    const applied = await requestWhole(editor, await createFile(FILE));
    await untilStatus(editor, applied.id, 'ready');
    await editor.api.suggestions.acceptAll.mutate({ projectId, suggestionId: applied.id });
    a.text.insert(0, '// edited before the restart\n');
    await new Promise((r) => setTimeout(r, 100));
    upstream.configure({ tokensPerSecond: 20 });
    const streaming = await requestWhole(editor, fileId, 'slow');
    await new Promise((r) => setTimeout(r, 100));

    for (const c of clients.splice(0)) c.destroy();
    for (const s of subscriptions.splice(0)) s.close();
    await server.close();
    upstream.configure({ tokensPerSecond: 4000 });
    server = await startTandemServer(env(), { withWeb: false });
    for (const who of [owner, editor, editor2, viewer]) who.api = apiFor(server.url, who.cookie);

    const open_ = await editor.api.suggestions.list.query({ projectId, fileId });
    assert.deepEqual(open_.map((s) => [s.id, s.status]), [[ready.id, 'ready']]);
    const [failed] = (await owner.api.suggestions.activity.query({ projectId })).filter((e) => e.id === streaming.id);
    assert.equal(failed!.status, 'failed');
    await rejects(editor.api.suggestions.undo.mutate({ projectId, suggestionId: applied.id }), 'CONFLICT', /no longer be undone/);

    const b = await open(editor2, fileId);
    const done = await editor2.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: ready.id, hunk: 1 });
    assert.equal(done.hunks[1]!.decision, 'accepted');
    await waitFor(() => b.text.toString() === '// edited before the restart\n' + FILE.replace('return 2;', 'return 20;'), 'applied at the stored anchor');
  });
});
