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

/**
 * The project's replay: changes across two files by two people and a project restore (one step
 * touching both files), each step with its files and authors; every changed file viewed at every
 * step equals what everyone saw then; two points diff; members only; nothing live is touched.
 */
test('a project session replays step by step across files, with authors; any file at any step, diffed against another', async () => {
  const since = Date.now();
  const bFile = randomUUID();
  await server.sync.editDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).set(bFile, { path: 'b.js', kind: 'file' }));
  await server.sync.editDocument(fileDocName(projectId, bFile), (doc) => doc.getText(FILE_TEXT).insert(0, 'export {};\n'));
  const checkpoint = await apiFor(owner).history.createCheckpoint.mutate({ projectId, name: 'before b' });
  const files = { a: fileId, b: bFile };
  const texts = async () => ({
    a: await server.sync.readDocument(fileDocName(projectId, fileId), (d) => d.getText(FILE_TEXT).toString()),
    b: await server.sync.readDocument(fileDocName(projectId, bFile), (d) => d.getText(FILE_TEXT).toString()),
  });
  // A change's time is taken when the server records it (its change hooks, later under load): wait
  // for it, so the next change is recorded after it.
  const stepsOf = async (file: 'a' | 'b') => (await apiFor(owner).history.timeline.query({ projectId, fileId: files[file] })).steps.length;
  const recorded = async (file: 'a' | 'b', count: number) => {
    for (let i = 0; (await stepsOf(file)) < count; i++) {
      assert.ok(i < 500, `a step of ${file} recorded`);
      await tick();
    }
  };
  await recorded('b', 1);
  const steps: { who: string; files: ('a' | 'b')[]; texts: { a: string; b: string } }[] = [{ who: 'system', files: ['b'], texts: await texts() }];
  // Each edit from a connection of its own: its own span, so its own step.
  const type = async (who: SignedIn, name: string, file: 'a' | 'b', line: string) => {
    await tick();
    const count = await stepsOf(file);
    const client = connectSync(server.url, fileDocName(projectId, files[file]), { cookie: who.cookie });
    clients.push(client);
    await client.synced;
    client.text.insert(0, line);
    for (let i = 0; !(await texts())[file].startsWith(line); i++) {
      assert.ok(i < 500, `${name}'s line in ${file}`);
      await tick();
    }
    await recorded(file, count + 1);
    steps.push({ who: name, files: [file], texts: await texts() });
    client.destroy();
  };
  await type(editor, 'Eddie', 'b', '// eddie in b\n');
  await type(owner, 'Olivia', 'b', '// olivia in b\n');
  await type(editor, 'Eddie', 'a', '// eddie in a\n');
  await tick();
  const before = await texts();
  await apiFor(owner).history.restore.mutate({ projectId, checkpointId: checkpoint.id });
  const after = await texts();
  assert.ok(after.a !== before.a && after.b !== before.b, 'the restore changed both files');
  steps.push({ who: 'Olivia', files: ['a', 'b'], texts: after });

  const api = apiFor(editor);
  const sessions = await api.history.projectSessions.query({ projectId });
  const session = sessions.at(-1)!;
  assert.deepEqual(session.files.map((f) => f.path).sort(), ['a.js', 'b.js']);
  const timeline = await api.history.projectTimeline.query({ projectId, from: session.start, to: session.end });
  const ours = timeline.steps.filter((s) => s.start >= since);
  const paths = { a: 'a.js', b: 'b.js' };
  assert.deepEqual(
    ours.map((s) => [s.authors.map((i) => nameOf(timeline.authors[i]!)), s.files.map((f) => f.path).sort()]),
    steps.map((s) => [[s.who], s.files.map((f) => paths[f]).sort()]),
    'one step per burst, with its files and author',
  );
  assert.ok(ours.every((s) => s.files.every((f) => f.inserted + f.deleted > 0)));
  for (const [i, step] of ours.entries()) {
    for (const f of ['a', 'b'] as const) {
      const version = await api.history.version.query({ projectId, fileId: files[f], at: step.at });
      assert.equal(version.text, steps[i]!.texts[f], `${f} at step ${i}`);
    }
  }
  const diff = await api.history.version.query({ projectId, fileId: bFile, at: ours[1]!.at, compareTo: ours[2]!.at });
  assert.deepEqual(diff.hunks, [{ line: 1, removed: '', inserted: '// olivia in b\n' }], 'a point against another');
  const toNow = await api.history.version.query({ projectId, fileId: bFile, at: ours[2]!.at });
  assert.deepEqual(toNow.hunks.map((h) => [h.removed, h.inserted]), [['// olivia in b\n// eddie in b\n', '']], 'a point against now');
  assert.deepEqual(await texts(), after, 'reading history changed no live document');

  const code = (e: unknown) => (e as { data?: { code?: string } }).data?.code;
  await assert.rejects(apiFor(outsider).history.projectTimeline.query({ projectId, from: session.start, to: session.end }), (e) => code(e) === 'NOT_FOUND');
  await assert.rejects(api.history.projectTimeline.query({ projectId, from: session.end, to: session.start - 1 }), (e) => code(e) === 'BAD_REQUEST');
  const empty = await api.history.projectTimeline.query({ projectId, from: 0, to: 1000 });
  assert.deepEqual([empty.steps, empty.truncated], [[], false]);
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
