// Time travel end to end, in-process: the real server (tRPC over HTTP, sync endpoint, PGlite),
// y-websocket clients typing and deleting, a server-side change; every step of the file's
// history viewed against the text each person saw right after it, before and after a restart
// that compacts the update log (deleted text then exists only in the history rows).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter, AuthorView } from '@tandem/api';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { connectSync, signUpOverHttp, waitFor, type SignedIn, type SyncClient } from './testing/clients.ts';

let dataDir: string;
let server: TandemServer;
let owner: SignedIn;
let editor: SignedIn;
let outsider: SignedIn;
let projectId: string;
let fileId: string;
const clients: SyncClient[] = [];
/** The text right after each change, and who made it. */
const truth: { text: string; who: string }[] = [];

const env = () => loadEnv({ PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false' }, []);
const apiFor = (who: SignedIn) => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/api/trpc`, headers: { cookie: who.cookie } })] });
const nameOf = (a: AuthorView) => (a.kind === 'person' ? a.user.name : a.kind);
const tick = () => new Promise((r) => setTimeout(r, 20));

function open(who: SignedIn): SyncClient {
  const client = connectSync(server.url, fileDocName(projectId, fileId), { cookie: who.cookie });
  clients.push(client);
  return client;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-timetravel-'));
  server = await startTandemServer(env(), { withWeb: false });
  owner = await signUpOverHttp(server.url, 'Olivia');
  projectId = (await owner.api.projects.create.mutate({ name: 'Time travel', template: 'empty' })).id;
  editor = await signUpOverHttp(server.url, 'Eddie');
  const invite = await owner.api.invites.create.mutate({ projectId, role: 'editor' });
  await editor.api.invites.accept.mutate({ token: invite.token });
  outsider = await signUpOverHttp(server.url, 'Mallory');
  fileId = randomUUID();
  await server.sync.editDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).set(fileId, { path: 'a.js', kind: 'file' }));
  await server.sync.editDocument(fileDocName(projectId, fileId), (doc) => doc.getText(FILE_TEXT).insert(0, 'let a = 1;\nlet b = 2;\n'));
  truth.push({ text: 'let a = 1;\nlet b = 2;\n', who: 'system' });
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Each person acts once per step (consecutive writes of one person within a minute are one step). */
test('every step of a file replays to the text everyone saw then, with its author; any two points diff', async () => {
  const olivia = open(owner);
  const eddie = open(editor);
  await Promise.all([olivia.synced, eddie.synced]);
  const step = async (who: string, client: SyncClient, edit: () => void) => {
    await tick();
    edit();
    const want = client.text.toString();
    await waitFor(() => olivia.text.toString() === want && eddie.text.toString() === want, `${who}'s change everywhere`);
    truth.push({ text: want, who });
  };
  await step('Olivia', olivia, () => olivia.text.insert(0, '// by olivia\n'));
  await step('Eddie', eddie, () => eddie.text.insert(eddie.text.length, 'let c = 3;\n'));
  const checkpoint = await owner.api.history.createCheckpoint.mutate({ projectId, name: 'with c' });
  // Scattered deletions by one person: one step.
  await step('Olivia', olivia, () => olivia.doc.transact(() => {
    olivia.text.delete(olivia.text.toString().indexOf('1'), 1);
    olivia.text.delete(olivia.text.toString().indexOf('b = 2'), 5);
  }));
  // A restore: a server-side change under a client id of its own, by the person restoring.
  await tick();
  await owner.api.history.restore.mutate({ projectId, checkpointId: checkpoint.id, fileId });
  await waitFor(() => eddie.text.toString() === truth[2]!.text, 'the restore reached Eddie');
  truth.push({ text: truth[2]!.text, who: 'Olivia' });

  await checkReplay();
  const api = apiFor(editor);
  const { steps } = await api.history.timeline.query({ projectId, fileId });
  const diff = await api.history.version.query({ projectId, fileId, at: steps[1]!.at, compareTo: steps[2]!.at });
  assert.deepEqual(diff.hunks, [{ line: 4, removed: '', inserted: 'let c = 3;\n' }], 'point against point');
  const toNow = await api.history.version.query({ projectId, fileId, at: steps[0]!.at });
  assert.equal(toNow.text, truth[0]!.text);
  assert.ok(toNow.hunks.some((h) => h.inserted === '// by olivia\n') && toNow.hunks.some((h) => h.inserted === 'let c = 3;\n'), `point against now: ${JSON.stringify(toNow.hunks)}`);
});

test('after a restart (log compacted, deleted text gone from the document) the replay is the same', async () => {
  for (const c of clients.splice(0)) c.destroy();
  await server.close();
  server = await startTandemServer(env(), { withWeb: false });
  const stored = await server.db.prisma.document.findUnique({ where: { name: fileDocName(projectId, fileId) } });
  assert.ok(stored?.snapshot, 'the update log was compacted');
  await checkReplay();
});

test('time travel is for members only; unknown files are NOT_FOUND; times are bounded', async () => {
  const code = (e: unknown) => (e as { data?: { code?: string } }).data?.code;
  await assert.rejects(apiFor(outsider).history.timeline.query({ projectId, fileId }), (e) => code(e) === 'NOT_FOUND');
  await assert.rejects(apiFor(outsider).history.version.query({ projectId, fileId, at: Date.now() }), (e) => code(e) === 'NOT_FOUND');
  await assert.rejects(apiFor(outsider).history.projectSessions.query({ projectId }), (e) => code(e) === 'NOT_FOUND');
  await assert.rejects(apiFor(owner).history.timeline.query({ projectId, fileId: randomUUID() }), (e) => code(e) === 'NOT_FOUND');
  await assert.rejects(apiFor(owner).history.version.query({ projectId, fileId, at: -1 }), (e) => code(e) === 'BAD_REQUEST');
  await assert.rejects(apiFor(owner).history.version.query({ projectId, fileId, at: 1e300 }), (e) => code(e) === 'BAD_REQUEST');
  const sessions = await apiFor(owner).history.projectSessions.query({ projectId });
  assert.equal(sessions.length, 1, 'one session so far');
  assert.deepEqual(sessions[0]!.files, [{ fileId, path: 'a.js' }]);
  assert.deepEqual(sessions[0]!.authors.map(nameOf).sort(), ['Eddie', 'Olivia', 'system']);
});

async function checkReplay(): Promise<void> {
  const api = apiFor(owner);
  const timeline = await api.history.timeline.query({ projectId, fileId });
  assert.equal(timeline.steps.length, truth.length, `one step per change: ${JSON.stringify(timeline.steps.map((s) => [s.at, s.inserted, s.deleted, s.authors.map(nameOf)]))}`);
  assert.equal(timeline.sessions.length, 1);
  assert.deepEqual([timeline.sessions[0]!.fromStep, timeline.sessions[0]!.toStep], [0, truth.length - 1]);
  for (const [i, s] of timeline.steps.entries()) {
    const version = await api.history.version.query({ projectId, fileId, at: s.at });
    assert.equal(version.text, truth[i]!.text, `text at step ${i}`);
    assert.deepEqual(version.authors.map(nameOf), [truth[i]!.who], `author of step ${i}`);
    assert.deepEqual(s.authors.map(nameOf), [truth[i]!.who]);
  }
  const before = await api.history.version.query({ projectId, fileId, at: timeline.steps[0]!.at - 1 });
  assert.equal(before.text, '', 'nothing before the first step');
}
