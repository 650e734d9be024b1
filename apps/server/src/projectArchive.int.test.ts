import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { textOf, treeOf } from '@tandem/collab';
import { MAX_FILE_BYTES, fileDocName, treeDocName } from '@tandem/protocol';
import { loadEnv } from './env.ts';
import { MAX_UPLOAD_BYTES } from './projectArchive.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';

/** The zip download / upload routes against a real server (API + sync, no web app) and database. */
let tandem: TandemServer;
let dataDir: string;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-archive-'));
  tandem = await startTandemServer(loadEnv({ PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, NODE_ENV: 'test' }, []), { withWeb: false });
});
after(async () => {
  await tandem?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(path: string, init: RequestInit & { cookie?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set('cookie', init.cookie);
  return fetch(tandem.url + path, { ...init, headers });
}

async function trpc<T>(cookie: string | undefined, path: string, input: unknown): Promise<{ data: T; cookie: string | undefined }> {
  const res = await call(`/api/trpc/${path}`, { method: 'POST', cookie, headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
  const body = await res.json() as { result: { data: T } };
  assert.equal(res.status, 200, JSON.stringify(body));
  return { data: body.result.data, cookie: res.headers.get('set-cookie')?.split(';')[0] };
}

async function signUp(name: string): Promise<string> {
  const { cookie } = await trpc(undefined, 'auth.signUp', { name, email: `${name.toLowerCase()}@example.com`, password: 'tandem-test-password' });
  assert.ok(cookie);
  return cookie;
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = await res.json() as { error: { code: string; message: string } };
  return { status: res.status, ...body.error };
}

async function liveTree(projectId: string): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  await tandem.sync.editDocument(treeDocName(projectId), (doc) => {
    for (const [id, entry] of treeOf(doc).entries()) paths.set(entry.path, id);
  });
  return paths;
}

async function liveText(projectId: string, fileId: string): Promise<string> {
  let text = '';
  await tandem.sync.editDocument(fileDocName(projectId, fileId), (doc) => {
    text = textOf(doc).toString();
  });
  return text;
}

test('download and upload are for members only, with the right role', async () => {
  const owner = await signUp('Olivia');
  const viewer = await signUp('Victor');
  const stranger = await signUp('Sam');
  const { data: project } = await trpc<{ id: string }>(owner, 'projects.create', { name: 'Perms', template: 'node' });
  const invite = await trpc<{ token: string }>(owner, 'invites.create', { projectId: project.id, role: 'viewer' });
  await trpc(viewer, 'invites.accept', { token: invite.data.token });
  const zipPath = `/api/projects/${project.id}/archive.zip`;
  const uploadPath = `/api/projects/${project.id}/upload`;
  const zip = zipSync({ 'a.txt': strToU8('a') });

  assert.deepEqual(await errorOf(await call(zipPath)), { status: 401, code: 'UNAUTHENTICATED', message: 'Sign in to access this project.' });
  assert.equal((await errorOf(await call(zipPath, { cookie: stranger }))).status, 404);
  assert.equal((await errorOf(await call(`/api/projects/nope/archive.zip`, { cookie: owner }))).status, 404);
  assert.equal((await call(zipPath, { cookie: viewer })).status, 200);
  const viewerUpload = await errorOf(await call(uploadPath, { method: 'POST', cookie: viewer, headers: { 'content-type': 'application/zip' }, body: zip }));
  assert.equal(viewerUpload.status, 403);
  assert.match(viewerUpload.message, /editor role/);
  const crossSite = await call(uploadPath, { method: 'POST', cookie: owner, headers: { 'content-type': 'application/zip', origin: 'https://evil.example' }, body: zip });
  assert.equal((await errorOf(crossSite)).status, 403);
  assert.equal((await call(zipPath, { method: 'POST', cookie: owner })).status, 400);
});

test('the zip holds the live text of every file and explicit folder', async () => {
  const owner = await signUp('Zed');
  const { data: project } = await trpc<{ id: string }>(owner, 'projects.create', { name: 'My Project!', template: 'node' });
  const tree = await liveTree(project.id);
  await tandem.sync.editDocument(fileDocName(project.id, tree.get('src/index.js')!), (doc) => textOf(doc).insert(0, '// live edit\n'));
  await tandem.sync.editDocument(treeDocName(project.id), (doc) => treeOf(doc).set('empty-folder-id', { path: 'assets', kind: 'folder' }));

  const res = await call(`/api/projects/${project.id}/archive.zip`, { cookie: owner });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/zip');
  assert.equal(res.headers.get('content-disposition'), 'attachment; filename="My-Project.zip"');
  const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
  assert.deepEqual(Object.keys(files).sort(), ['README.md', 'assets/', 'package.json', 'src/greet.js', 'src/index.js', 'tandem.json']);
  assert.match(strFromU8(files['src/index.js']!), /^\/\/ live edit\nimport \{ greet \}/);
});

test('uploads import text and binary files live and refuse the rest file by file', async () => {
  const owner = await signUp('Uma');
  const { data: project } = await trpc<{ id: string }>(owner, 'projects.create', { name: 'Uploads', template: 'node' });
  const uploadPath = `/api/projects/${project.id}/upload`;
  const zip = zipSync({
    'README.md': strToU8('# Replaced\n'),
    'lib/new.ts': strToU8('export const x = 1;\n'),
    'image.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
    'big.txt': new Uint8Array(MAX_FILE_BYTES + 1).fill(0x61),
    'src/index.js/inside.js': strToU8('nope'),
    '__MACOSX/._README.md': strToU8('junk'),
    'empty-dir/': new Uint8Array(0),
  });
  const res = await call(`${uploadPath}?dir=`, { method: 'POST', cookie: owner, headers: { 'content-type': 'application/zip' }, body: zip });
  const result = await res.json() as { imported: { path: string; created: boolean }[]; skipped: { path: string; reason: string }[] };
  assert.equal(res.status, 200, JSON.stringify(result));
  assert.deepEqual(result.imported.sort((x, y) => x.path.localeCompare(y.path)), [
    { path: 'image.png', created: true }, { path: 'lib/new.ts', created: true }, { path: 'README.md', created: false },
  ]);
  const reasons = Object.fromEntries(result.skipped.map((s) => [s.path, s.reason]));
  assert.match(reasons['big.txt']!, /Too large/);
  assert.match(reasons['src/index.js/inside.js']!, /is a file, not a folder/);
  assert.equal(result.skipped.length, 2);

  const tree = await liveTree(project.id);
  assert.equal(await liveText(project.id, tree.get('README.md')!), '# Replaced\n');
  assert.equal(await liveText(project.id, tree.get('lib/new.ts')!), 'export const x = 1;\n');

  // Multipart files keep their relative path, under ?dir=.
  const form = new FormData();
  form.append('files', new Blob(['hello\n']), 'notes/hello.md');
  form.append('files', new Blob(['x']), '../escape.md');
  const multipart = await call(`${uploadPath}?dir=docs`, { method: 'POST', cookie: owner, body: form });
  const second = await multipart.json() as typeof result;
  assert.deepEqual(second.imported, [{ path: 'docs/notes/hello.md', created: true }]);
  assert.match(second.skipped[0]!.reason, /Not a valid file path/);

  const broken = await call(uploadPath, { method: 'POST', cookie: owner, headers: { 'content-type': 'application/zip' }, body: 'not a zip' });
  assert.deepEqual(await errorOf(broken), { status: 400, code: 'BAD_INPUT', message: 'This is not a valid zip file.' });
  const huge = await call(uploadPath, { method: 'POST', cookie: owner, headers: { 'content-type': 'application/zip' }, body: new Uint8Array(MAX_UPLOAD_BYTES + 1) });
  assert.equal((await errorOf(huge)).status, 413);
  const wrongType = await call(uploadPath, { method: 'POST', cookie: owner, headers: { 'content-type': 'text/plain' }, body: 'x' });
  assert.equal((await errorOf(wrongType)).status, 400);
});
