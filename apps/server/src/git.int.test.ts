// Git import and push end to end: the real server, an AI edit from the OpenAI test double, and a
// loopback smart-HTTP git server (`git http-backend`) standing in for GitHub; read back with the
// `git` CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { OpenAITestServer } from '@tandem/inference/testing';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { signUpOverHttp, type SignedIn } from './testing/clients.ts';
import { GitHttpServer } from './testing/GitHttpServer.ts';

const TOKEN = `tok_${randomBytes(12).toString('hex')}`;
const FILE = 'const a = 1;\nconst b = 2;\nconst c = 3;\n';
const EDITS = ['const a = 1;\nconst b = 20;\nconst c = 3;\n', 'const a = 1;\nconst b = 20;\nconst c = 30;\n'];
const MAX_FILES = 40;

let dir: string;
let upstream: OpenAITestServer;
let gitServer: GitHttpServer;
let gitHost: string;
let server: TandemServer;
let owner: SignedIn;
let editor: SignedIn;
let outsider: SignedIn;
let projectId: string;
let fileId: string;
let edits = 0;

const code = (e: unknown) => (e as { data?: { code?: string } }).data?.code;
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } });

/** A bare repository `<name>.git` under the git server's root, made from `files` (a path → text, Buffer, or `{ link }`). */
function repository(name: string, files: Record<string, string | Buffer | { link: string }>): void {
  const work = join(dir, `work-${name}`);
  mkdirSync(work);
  git(work, 'init', '-q', '-b', 'main');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(work, path, '..'), { recursive: true });
    if (typeof content === 'object' && 'link' in content) symlinkSync(content.link, join(work, path));
    else writeFileSync(join(work, path), content);
  }
  git(work, 'add', '-A');
  git(work, '-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', 'commit', '-q', '-m', 'first');
  git(dir, 'clone', '-q', '--bare', work, join(dir, 'repos', `${name}.git`));
}

async function text(project: string, id: string): Promise<string> {
  return server.sync.readDocument(fileDocName(project, id), (doc) => doc.getText(FILE_TEXT).toString());
}

async function files(project: string): Promise<Record<string, string>> {
  const tree = await server.sync.readDocument(treeDocName(project), (doc) => [...doc.getMap<TreeEntry>(TREE_MAP).entries()]);
  const out: Record<string, string> = {};
  for (const [id, entry] of tree) if (entry.kind === 'file') out[entry.path] = await text(project, id);
  return out;
}

async function acceptAiEdit(): Promise<void> {
  const s = await editor.api.suggestions.request.mutate({ projectId, fileId, instruction: 'bigger', range: { kind: 'offsets', start: 0, end: FILE.length } });
  for (let end = Date.now() + 10_000; (await owner.api.suggestions.list.query({ projectId })).find((x) => x.id === s.id)?.status !== 'ready';) {
    assert.ok(Date.now() < end, 'the suggestion became ready');
    await new Promise((r) => setTimeout(r, 20));
  }
  await owner.api.suggestions.acceptHunk.mutate({ projectId, suggestionId: s.id, hunk: 0 });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-git-int-'));
  mkdirSync(join(dir, 'repos'));
  gitServer = new GitHttpServer(join(dir, 'repos'), TOKEN);
  gitHost = await gitServer.listen();
  execFileSync('git', ['init', '-q', '--bare', join(dir, 'repos', 'remote.git')]);
  git(join(dir, 'repos', 'remote.git'), 'config', 'http.receivepack', 'true');
  upstream = new OpenAITestServer({ tokensPerSecond: 4000, tokens: () => ['```js\n' + EDITS[edits++ % 2] + '```'] });
  await upstream.listen();
  server = await startTandemServer(loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: join(dir, 'data'), COOKIE_SECURE: 'false',
    OPENAI_BASE_URL: upstream.url, OPENAI_MODEL: 'edit-model', OPENAI_LABEL: 'Test AI',
    TANDEM_GIT_PRIVATE_HOSTS: gitHost, TANDEM_GIT_MAX_FETCH_MB: '1', TANDEM_MAX_FILES_PER_PROJECT: String(MAX_FILES),
  }, []), { withWeb: false });
  owner = await signUpOverHttp(server.url, 'Olivia');
  editor = await signUpOverHttp(server.url, 'Eddie');
  outsider = await signUpOverHttp(server.url, 'Mallory');
  projectId = (await owner.api.projects.create.mutate({ name: 'Pushed', template: 'empty' })).id;
  const invite = await owner.api.invites.create.mutate({ projectId, role: 'editor' });
  await editor.api.invites.accept.mutate({ token: invite.token });
  fileId = randomUUID();
  await server.sync.editDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).set(fileId, { path: 'src/a.js', kind: 'file' }));
  await server.sync.editDocument(fileDocName(projectId, fileId), (doc) => doc.getText(FILE_TEXT).insert(0, FILE));
  await acceptAiEdit();
  await acceptAiEdit();
  assert.equal(await text(projectId, fileId), EDITS[1]);
});

after(async () => {
  await server?.close();
  await upstream?.close();
  await gitServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('push: the owner sets a remote and a token; the export\'s commits and a Git AI note on each commit that introduced AI lines reach the branch', async () => {
  const url = `http://${gitHost}/remote.git`;
  const set = await owner.api.git.setRemote.mutate({ projectId, url, branch: 'tandem/checkpoints', token: TOKEN });
  assert.deepEqual({ url: set.url, branch: set.branch, hasToken: set.hasToken }, { url, branch: 'tandem/checkpoints', hasToken: true });
  const first = await owner.api.git.push.mutate({ projectId });
  assert.equal(first.branch, 'tandem/checkpoints');
  // Pushing again replaces the branch and merges the notes (no non-fast-forward error).
  await owner.api.git.push.mutate({ projectId });

  const clone = join(dir, 'pushed');
  git(dir, 'clone', '-q', '--branch', 'tandem/checkpoints', join(dir, 'repos', 'remote.git'), clone);
  git(clone, 'fetch', '-q', 'origin', 'refs/notes/*:refs/notes/*');
  const log = git(clone, 'log', '--format=%H|%an|%s').trim().split('\n').map((l) => l.split('|'));
  assert.equal(log.length, first.commits);
  assert.equal(log[0]![2], 'Current state');
  const beforeSecond = log.filter(([, , s]) => s!.startsWith('Checkpoint: Before accepting AI edit'));
  assert.equal(beforeSecond.length, 2);
  // (Notes on the first push's "Current state" commit stay in refs/notes/ai, merged, but are off the branch.)
  const onBranch = new Set(log.map(([sha]) => sha));
  const noted = git(clone, 'notes', '--ref=ai', 'list').trim().split('\n').map((l) => l.split(' ')[1]).filter((sha) => onBranch.has(sha));
  // AI edit 1 (line 2) first appears in the checkpoint taken before AI edit 2; AI edit 2 (line 3) in the current state.
  assert.deepEqual(new Set(noted), new Set([log[0]![0], beforeSecond[0]![0]]));
  assert.match(git(clone, 'notes', '--ref=ai', 'show', log[0]![0]!), /^src\/a\.js\n {2}\S+ 3\n---\n\{"schema_version":"authorship\/3\.0\.0"/);
  assert.match(git(clone, 'notes', '--ref=ai', 'show', beforeSecond[0]![0]!), /^src\/a\.js\n {2}\S+ 2\n---\n/);
  assert.equal(git(clone, 'show', `${beforeSecond[0]![0]}:src/a.js`), EDITS[0]);
  assert.ok(gitServer.authorizations.some((a) => a === `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`));
});

test('push: a wrong token is a clear error; the token is never in an API response or stored in clear', async () => {
  const responses: unknown[] = [];
  responses.push(await owner.api.git.remote.query({ projectId }));
  responses.push(await editor.api.git.remote.query({ projectId }));
  responses.push(await owner.api.git.setRemote.mutate({ projectId, url: `http://${gitHost}/remote.git`, branch: 'tandem/checkpoints' }));
  responses.push(await owner.api.projects.get.query({ projectId }));
  for (const r of responses) assert.ok(!JSON.stringify(r).includes(TOKEN), JSON.stringify(r));
  const row = await server.db.prisma.gitRemote.findUnique({ where: { projectId } });
  assert.ok(row?.token && !row.token.includes(TOKEN), 'stored encrypted');
  await owner.api.git.setRemote.mutate({ projectId, url: `http://${gitHost}/remote.git`, branch: 'tandem/checkpoints', token: 'wrong' });
  await assert.rejects(owner.api.git.push.mutate({ projectId }), (e: Error) => /authentication failed/.test(e.message) && !e.message.includes('wrong'));
  await owner.api.git.setRemote.mutate({ projectId, url: `http://${gitHost}/remote.git`, branch: 'tandem/checkpoints', token: TOKEN });
});

test('push: only the owner sets the remote or pushes; non-members get NOT_FOUND', async () => {
  const url = `http://${gitHost}/remote.git`;
  await assert.rejects(editor.api.git.setRemote.mutate({ projectId, url, branch: 'x', token: 't' }), (e) => code(e) === 'FORBIDDEN');
  await assert.rejects(editor.api.git.push.mutate({ projectId }), (e) => code(e) === 'FORBIDDEN');
  await assert.rejects(editor.api.git.removeRemote.mutate({ projectId }), (e) => code(e) === 'FORBIDDEN');
  await assert.rejects(outsider.api.git.remote.query({ projectId }), (e) => code(e) === 'NOT_FOUND');
  await assert.rejects(outsider.api.git.push.mutate({ projectId }), (e) => code(e) === 'NOT_FOUND');
  await assert.rejects(outsider.api.git.setRemote.mutate({ projectId, url, branch: 'x' }), (e) => code(e) === 'NOT_FOUND');
  await assert.rejects(outsider.api.git.importUrl.mutate({ projectId, url }), (e) => code(e) === 'NOT_FOUND');
  const res = await fetch(`${server.url}/api/projects/${projectId}/git-import`, { method: 'POST', headers: { cookie: outsider.cookie }, body: 'x' });
  assert.equal(res.status, 404);
});

test('URLs to metadata, private, loopback (unless configured), file:// and ssh are refused, for imports and remotes', async () => {
  const target = (await owner.api.projects.create.mutate({ name: 'Target', template: 'empty' })).id;
  for (const url of [
    'http://169.254.169.254/latest/meta-data/', 'https://169.254.169.254/repo.git', 'file:///etc', `file://${join(dir, 'repos', 'remote.git')}`,
    'ssh://git@example.com/x.git', 'git://example.com/x.git', 'https://10.0.0.8/x.git', 'https://localhost/x.git', 'https://[::1]/x.git',
    `https://user:${TOKEN}@example.com/x.git`, 'http://example.com/x.git', 'https://100.64.0.1/x.git',
  ]) {
    await assert.rejects(owner.api.git.importUrl.mutate({ projectId: target, url }), (e: Error) => code(e) === 'BAD_REQUEST' && !e.message.includes(TOKEN), url);
    await assert.rejects(owner.api.git.setRemote.mutate({ projectId, url, branch: 'main' }), (e) => code(e) === 'BAD_REQUEST', url);
  }
  assert.deepEqual(await files(target), {});
});

test('import from a URL: text files of HEAD become documents attributed to "imported from <repo>@<commit>"; symlinks and binaries are skipped', async () => {
  repository('source', {
    'README.md': '# Source\n', 'src/main.py': 'print("hi")\n', 'img.bin': Buffer.from([0, 1, 2, 0, 255]), 'leak': { link: '/etc/passwd' },
  });
  const target = (await owner.api.projects.create.mutate({ name: 'From URL', template: 'empty' })).id;
  const url = `http://${gitHost}/source.git`;
  const result = await owner.api.git.importUrl.mutate({ projectId: target, url });
  const sha = git(join(dir, 'repos', 'source.git'), 'rev-parse', 'HEAD').trim();
  assert.equal(result.source, `${url}@${sha}`);
  assert.equal(result.files, 2);
  assert.deepEqual(result.skipped.map((s) => s.path).sort(), ['img.bin', 'leak']);
  assert.deepEqual(await files(target), { 'README.md': '# Source\n', 'src/main.py': 'print("hi")\n' });
  const tree = await server.sync.readDocument(treeDocName(target), (doc) => [...doc.getMap<TreeEntry>(TREE_MAP).entries()]);
  const blame = await owner.api.history.blame.query({ projectId: target, fileId: tree.find(([, e]) => e.path === 'README.md')![0] });
  assert.deepEqual(blame.map((r) => r.author), [{ kind: 'system', source: `imported from ${url}@${sha}` }]);
  // Only into an empty project, and only by its owner.
  await assert.rejects(owner.api.git.importUrl.mutate({ projectId: target, url }), (e) => code(e) === 'CONFLICT');
  await assert.rejects(editor.api.git.importUrl.mutate({ projectId, url }), (e) => code(e) === 'FORBIDDEN');
});

test('import from a bundle: the export re-imported round-trips the files', async () => {
  const { bundle } = await owner.api.history.exportGit.mutate({ projectId });
  const target = (await owner.api.projects.create.mutate({ name: 'From bundle', template: 'empty' })).id;
  const res = await fetch(`${server.url}/api/projects/${target}/git-import`, { method: 'POST', headers: { cookie: owner.cookie }, body: Buffer.from(bundle, 'base64') });
  assert.equal(res.status, 200, await res.clone().text());
  const result = await res.json() as { files: number; source: string };
  assert.equal(result.files, 1);
  assert.match(result.source, /^bundle@[0-9a-f]{40}$/);
  assert.deepEqual(await files(target), await files(projectId));
  // An editor of the project cannot import into it; garbage is a clear error.
  const byEditor = await fetch(`${server.url}/api/projects/${projectId}/git-import`, { method: 'POST', headers: { cookie: editor.cookie }, body: Buffer.from(bundle, 'base64') });
  assert.equal(byEditor.status, 403);
  const empty = (await owner.api.projects.create.mutate({ name: 'Garbage', template: 'empty' })).id;
  const garbage = await fetch(`${server.url}/api/projects/${empty}/git-import`, { method: 'POST', headers: { cookie: owner.cookie }, body: 'not a bundle' });
  assert.equal(garbage.status, 400);
});

test('oversized repositories are refused: too many files, or a pack past TANDEM_GIT_MAX_FETCH_MB', async () => {
  repository('many', Object.fromEntries(Array.from({ length: MAX_FILES + 1 }, (_, i) => [`f${i}.txt`, `${i}\n`])));
  repository('huge', { 'blob.txt': randomBytes(1536 * 1024).toString('base64') });
  for (const name of ['many', 'huge']) {
    const target = (await owner.api.projects.create.mutate({ name, template: 'empty' })).id;
    await assert.rejects(owner.api.git.importUrl.mutate({ projectId: target, url: `http://${gitHost}/${name}.git` }), (e: Error) => {
      assert.equal(code(e), 'PAYLOAD_TOO_LARGE', `${name}: ${e.message}`);
      return true;
    });
    assert.deepEqual(await files(target), {});
  }
});

test('at most 2 imports run at once per server: a third is told to retry (429)', async () => {
  repository('slow', { 'a.txt': 'a\n' });
  const held = gitServer.hold('/slow.git');
  const targets = await Promise.all(['s1', 's2', 's3'].map(async (name) => (await owner.api.projects.create.mutate({ name, template: 'empty' })).id));
  const url = `http://${gitHost}/slow.git`;
  const running = targets.slice(0, 2).map((projectId) => owner.api.git.importUrl.mutate({ projectId, url }));
  for (let end = Date.now() + 20_000; held.waiting() < 2;) {
    assert.ok(Date.now() < end, 'both clones reached the git server');
    await new Promise((r) => setTimeout(r, 20));
  }
  await assert.rejects(owner.api.git.importUrl.mutate({ projectId: targets[2]!, url }), (e) => code(e) === 'TOO_MANY_REQUESTS');
  held.release();
  assert.deepEqual((await Promise.all(running)).map((r) => r.files), [1, 1]);
  assert.equal((await owner.api.git.importUrl.mutate({ projectId: targets[2]!, url })).files, 1);
});
