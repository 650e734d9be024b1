// Authorship end to end, in-process: the real server (tRPC over HTTP, sync endpoint, PGlite), stock
// y-websocket clients typing, an AI edit from the OpenAI test double accepted by another person,
// a forger writing under someone else's client id, blame after a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter, BlameRangeView } from '@tandem/api';
import { OpenAITestServer } from '@tandem/inference/testing';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { connectSync, signUpOverHttp, waitFor, type SignedIn, type SyncClient } from './testing/clients.ts';

let dataDir: string;
let upstream: OpenAITestServer;
let server: TandemServer;
let owner: SignedIn;
let editor: SignedIn;
let viewer: SignedIn;
let outsider: SignedIn;
let projectId: string;
let fileId: string;
const clients: SyncClient[] = [];

const FILE = 'function one() {\n  return 1;\n}\n';
const KEPT = 4;

function env() {
  return loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false',
    OPENAI_BASE_URL: upstream.url, OPENAI_MODEL: 'edit-model', OPENAI_LABEL: 'Test AI',
    // Exactly the automatic checkpoints the tests before the retention test make (1 AI edit, 3 restores).
    TANDEM_CHECKPOINTS_KEPT: String(KEPT),
  }, []);
}

function open(who: SignedIn): SyncClient {
  const client = connectSync(server.url, fileDocName(projectId, fileId), { cookie: who.cookie });
  clients.push(client);
  return client;
}

/** A tRPC client on the current server (its port changes on restart) with `who`'s session. */
function apiFor(who: SignedIn) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/api/trpc`, headers: { cookie: who.cookie } })] });
}

/** Blame as "lines: who" strings, e.g. "1-1: Olivia". */
function describeBlame(ranges: BlameRangeView[]): string[] {
  return ranges.map((r) => {
    const a = r.author;
    const who = a === null ? 'unknown' : a.kind === 'person' ? a.user.name : a.kind === 'ai' ? `AI ${a.model} asked by ${a.requestedBy?.name} approved by ${a.approvedBy?.name}` : 'system';
    return `${r.fromLine}-${r.toLine}: ${who}`;
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-history-'));
  upstream = new OpenAITestServer({ tokensPerSecond: 4000, tokens: () => ['```js\nfunction one() {\n  return 10;\n}\n```'] });
  await upstream.listen();
  server = await startTandemServer(env(), { withWeb: false });
  owner = await signUpOverHttp(server.url, 'Olivia');
  projectId = (await owner.api.projects.create.mutate({ name: 'History', template: 'empty' })).id;
  for (const [name, role] of [['Eddie', 'editor'], ['Vera', 'viewer']] as const) {
    const user = await signUpOverHttp(server.url, name);
    const invite = await owner.api.invites.create.mutate({ projectId, role });
    await user.api.invites.accept.mutate({ token: invite.token });
    if (role === 'editor') editor = user;
    else viewer = user;
  }
  outsider = await signUpOverHttp(server.url, 'Mallory');
  fileId = randomUUID();
  await server.sync.editDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).set(fileId, { path: 'src/one.js', kind: 'file' }));
  await server.sync.editDocument(fileDocName(projectId, fileId), (doc) => doc.getText(FILE_TEXT).insert(0, FILE));
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('blame names who typed each line and, for AI text, the model, who asked and who accepted; it survives a restart', async () => {
  const olivia = open(owner);
  const eddie = open(editor);
  await Promise.all([olivia.synced, eddie.synced]);
  olivia.text.insert(0, '// by olivia\n');
  eddie.text.insert(eddie.text.length, '// by eddie\n');
  const expected = `// by olivia\n${FILE}// by eddie\n`;
  await waitFor(() => olivia.text.toString() === expected && eddie.text.toString() === expected, 'both edits everywhere');

  const s = await editor.api.suggestions.request.mutate({ projectId, fileId, instruction: 'bigger', range: { kind: 'offsets', start: 13, end: 13 + FILE.length } });
  for (let end = Date.now() + 10_000; (await owner.api.suggestions.list.query({ projectId })).find((x) => x.id === s.id)?.status !== 'ready';) {
    assert.ok(Date.now() < end, 'the suggestion became ready');
    await new Promise((r) => setTimeout(r, 20));
  }
  await owner.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 0 });
  await waitFor(() => eddie.text.toString().includes('return 10;'), 'the accepted edit reached Eddie');

  const blame = await apiFor(viewer).history.blame.query({ projectId, fileId });
  const want = ['1-1: Olivia', '2-2: system', '3-3: AI edit-model asked by Eddie approved by Olivia', '4-4: system', '5-5: Eddie'];
  assert.deepEqual(describeBlame(blame), want);
  const ai = blame[2]!;
  assert.ok(ai.author?.kind === 'ai' && ai.author.suggestionId === s.id && ai.aiChars > 0 && ai.at !== null);
  assert.ok(blame[0]!.at !== null && Math.abs(Date.parse(blame[0]!.at) - Date.now()) < 5 * 60_000, 'time of the edit');
  const auto = (await apiFor(viewer).history.checkpoints.query({ projectId })).find((c) => c.reason === 'ai-edit');
  assert.ok(auto && auto.createdBy?.id === owner.user.id, 'a checkpoint was taken before the accepted AI edit');

  // Restart: the document is compacted into a snapshot on the way down; authorship is kept apart from it.
  for (const c of clients.splice(0)) c.destroy();
  await server.close();
  server = await startTandemServer(env(), { withWeb: false });
  const stored = await server.db.prisma.document.findUnique({ where: { name: fileDocName(projectId, fileId) } });
  assert.ok(stored?.snapshot, 'the update log was compacted');
  assert.equal(await server.db.prisma.documentUpdate.count({ where: { documentName: fileDocName(projectId, fileId) } }), 0);
  assert.deepEqual(describeBlame(await apiFor(viewer).history.blame.query({ projectId, fileId })), want);
});

test('a connection cannot write under another author\'s client id: refused whole, nothing stored', async () => {
  const olivia = open(owner);
  await olivia.synced;
  olivia.text.insert(0, 'x');
  const api = apiFor(owner);
  const oliviaId = olivia.doc.clientID;
  for (let end = Date.now() + 10_000; !describeBlame(await api.history.blame.query({ projectId, fileId }))[0]!.endsWith('Olivia');) {
    assert.ok(Date.now() < end, 'Olivia\'s edit arrived');
    await new Promise((r) => setTimeout(r, 20));
  }
  const forger = open(editor);
  await forger.synced;
  const ownId = forger.doc.clientID;
  forger.doc.clientID = oliviaId;
  forger.text.insert(0, 'FORGED');
  await waitFor(() => forger.closes.includes(4403), 'the forger is closed with 4403');
  forger.doc.clientID = ownId; // y-websocket withdraws its awareness state by this id on destroy
  forger.destroy();
  let text = '';
  await server.sync.editDocument(fileDocName(projectId, fileId), (doc) => {
    text = doc.getText(FILE_TEXT).toString();
  });
  assert.ok(!text.includes('FORGED'), text);
  // An honest Eddie still writes (under his own id).
  const eddie = open(editor);
  await eddie.synced;
  eddie.text.insert(0, 'e');
  await waitFor(() => olivia.text.toString().startsWith('e'), 'Eddie\'s edit');
});

test('blame is for members only; unknown files are NOT_FOUND', async () => {
  await assert.rejects(apiFor(outsider).history.blame.query({ projectId, fileId }), (e: { data?: { code?: string } }) => e.data?.code === 'FORBIDDEN' || e.data?.code === 'NOT_FOUND');
  await assert.rejects(apiFor(viewer).history.blame.query({ projectId, fileId: randomUUID() }), (e: { data?: { code?: string } }) => e.data?.code === 'NOT_FOUND');
});

async function serverText(id = fileId): Promise<string> {
  let text = '';
  await server.sync.editDocument(fileDocName(projectId, id), (doc) => {
    text = doc.getText(FILE_TEXT).toString();
  });
  return text;
}

async function treePaths(): Promise<string[]> {
  let paths: string[] = [];
  await server.sync.editDocument(treeDocName(projectId), (doc) => {
    paths = [...doc.getMap<TreeEntry>(TREE_MAP).values()].map((e) => e.path).sort();
  });
  return paths;
}

test('restore under concurrent editing: the project comes back, and nothing typed after the restore is lost', async () => {
  const olivia = apiFor(owner);
  const eddie = open(editor);
  await eddie.synced;
  const checkpoint = await olivia.history.createCheckpoint.mutate({ projectId, name: 'v1' });
  const atCheckpoint = await serverText();
  eddie.text.insert(eddie.text.length, 'before-restore\n');
  await waitFor(() => eddie.text.toString().includes('before-restore'), 'typed');
  let typing = true;
  let n = 0;
  const typed: string[] = [];
  const typist = (async () => {
    while (typing) {
      const line = `typed-${n++}\n`;
      eddie.text.insert(eddie.text.length, line);
      typed.push(line);
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  await new Promise((r) => setTimeout(r, 150));
  const restored = await olivia.history.restore.mutate({ projectId, checkpointId: checkpoint.id });
  assert.equal(restored.before.reason, 'restore');
  const afterRestore = typed.length;
  await new Promise((r) => setTimeout(r, 300));
  typing = false;
  await typist;
  const after = typed.slice(afterRestore);
  assert.ok(after.length > 3, `kept typing after the restore (${after.length} lines)`);
  await waitFor(() => after.every((line) => eddie.text.toString().includes(line)), 'Eddie still has his lines');
  let text = '';
  for (let end = Date.now() + 10_000; !after.every((line) => text.includes(line)); await new Promise((r) => setTimeout(r, 20))) {
    assert.ok(Date.now() < end, 'the server has every line typed after the restore');
    text = await serverText();
  }
  assert.ok(text.startsWith(atCheckpoint), 'the checkpoint\'s text is back');
  assert.ok(!text.includes('before-restore'), 'what was there before the restore is gone');
  await waitFor(() => eddie.text.toString() === text, 'Eddie sees the restore live');

  const diff = await apiFor(viewer).history.compare.query({ projectId, checkpointId: restored.before.id, fileId });
  assert.ok(diff.hunks.some((h) => h.removed.includes('before-restore')), 'compare shows what the restore took out');

  // Undo: restoring the checkpoint taken just before brings that state back.
  const undo = await olivia.history.restore.mutate({ projectId, checkpointId: restored.before.id });
  assert.ok(undo.files >= 1);
  assert.ok((await serverText()).includes('before-restore'), 'the restore was undone');
});

test('a whole-project restore brings back deleted files and removes files created since; the checkpoint taken first names who restored', async () => {
  const olivia = apiFor(owner);
  const checkpoint = await olivia.history.createCheckpoint.mutate({ projectId, name: 'tree' });
  const pathsBefore = await treePaths();
  const created = randomUUID();
  await server.sync.editDocument(treeDocName(projectId), (doc) => {
    const tree = doc.getMap<TreeEntry>(TREE_MAP);
    tree.delete(fileId);
    tree.set(created, { path: 'src/new.js', kind: 'file' });
  });
  assert.notDeepEqual(await treePaths(), pathsBefore);
  await apiFor(editor).history.restore.mutate({ projectId, checkpointId: checkpoint.id });
  assert.deepEqual(await treePaths(), pathsBefore);
  const list = await olivia.history.checkpoints.query({ projectId });
  assert.equal(list[0]!.reason, 'restore');
  assert.equal(list[0]!.createdBy?.name, 'Eddie');
});

test('checkpoints: viewers list but cannot create or restore; outsiders see nothing; names are capped', async () => {
  const [first] = await apiFor(viewer).history.checkpoints.query({ projectId });
  assert.ok(first);
  const code = (e: unknown) => (e as { data?: { code?: string } }).data?.code;
  await assert.rejects(apiFor(viewer).history.createCheckpoint.mutate({ projectId, name: 'x' }), (e) => code(e) === 'FORBIDDEN');
  await assert.rejects(apiFor(viewer).history.restore.mutate({ projectId, checkpointId: first.id }), (e) => code(e) === 'FORBIDDEN');
  await assert.rejects(apiFor(outsider).history.checkpoints.query({ projectId }), (e) => code(e) === 'FORBIDDEN' || code(e) === 'NOT_FOUND');
  await assert.rejects(apiFor(outsider).history.compare.query({ projectId, checkpointId: first.id, fileId }), (e) => code(e) === 'FORBIDDEN' || code(e) === 'NOT_FOUND');
  await assert.rejects(apiFor(owner).history.createCheckpoint.mutate({ projectId, name: 'n'.repeat(101) }), (e) => code(e) === 'BAD_REQUEST' || code(e) === 'BAD_INPUT');
  await assert.rejects(apiFor(owner).history.restore.mutate({ projectId, checkpointId: randomUUID() }), (e) => code(e) === 'NOT_FOUND');
});

test('git export: checkpoints become commits by their authors; AI lines are a Git AI note and an Agent Trace record; git log, notes and blame read it', async () => {
  const code = (e: unknown) => (e as { data?: { code?: string } }).data?.code;
  await assert.rejects(apiFor(outsider).history.exportGit.mutate({ projectId }), (e) => code(e) === 'FORBIDDEN' || code(e) === 'NOT_FOUND');
  const { bundle, commits } = await apiFor(viewer).history.exportGit.mutate({ projectId });
  const dir = mkdtempSync(join(tmpdir(), 'tandem-git-test-'));
  try {
    writeFileSync(join(dir, 'project.bundle'), Buffer.from(bundle, 'base64'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: join(dir, 'repo'), encoding: 'utf8' });
    execFileSync('git', ['clone', '-q', 'project.bundle', 'repo'], { cwd: dir });
    git('fetch', '-q', 'origin', 'refs/notes/*:refs/notes/*');
    const log = git('log', '--format=%an|%s').trim().split('\n');
    assert.equal(log.length, commits);
    assert.equal(log[0], 'Vera|Current state');
    assert.ok(log.includes('Olivia|Checkpoint: v1'), log.join('\n'));
    assert.ok(log.some((l) => l.startsWith('Olivia|Checkpoint: Before accepting AI edit (edit-model)')), log.join('\n'));
    const ai = git('notes', '--ref=ai', 'show', 'HEAD');
    assert.match(ai, /^src\/one\.js\n {2}[\w-]+ \d+(-\d+)?/m);
    assert.match(ai, /\n---\n\{"schema_version":"authorship\/3\.0\.0"/);
    assert.match(ai, /"model":"edit-model"/);
    const trace = JSON.parse(git('notes', '--ref=agent-trace', 'show', 'HEAD')) as { version: string; files: { path: string; conversations: { contributor: { type: string } }[] }[] };
    assert.equal(trace.version, '0.1.0');
    assert.equal(trace.files[0]?.path, 'src/one.js');
    assert.equal(trace.files[0]?.conversations[0]?.contributor.type, 'ai');
    assert.match(git('blame', '--line-porcelain', 'src/one.js'), /^author Vera$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retention: automatic checkpoints beyond TANDEM_CHECKPOINTS_KEPT are dropped oldest first; named ones stay', async () => {
  const olivia = apiFor(owner);
  const automatic = async () => (await olivia.history.checkpoints.query({ projectId })).filter((c) => c.reason !== 'manual');
  const before = await automatic();
  assert.equal(before.length, KEPT);
  const named = (await olivia.history.checkpoints.query({ projectId })).filter((c) => c.reason === 'manual').map((c) => c.name);
  const target = (await olivia.history.checkpoints.query({ projectId })).find((c) => c.name === 'v1')!;
  await olivia.history.restore.mutate({ projectId, checkpointId: target.id });
  await olivia.history.restore.mutate({ projectId, checkpointId: target.id });
  const after = await automatic();
  assert.equal(after.length, KEPT);
  assert.deepEqual(after.slice(2).map((c) => c.id), before.slice(0, KEPT - 2).map((c) => c.id), 'the two oldest went');
  assert.deepEqual((await olivia.history.checkpoints.query({ projectId })).filter((c) => c.reason === 'manual').map((c) => c.name), named);
});
