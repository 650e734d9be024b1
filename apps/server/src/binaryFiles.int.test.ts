// Binary files (images, fonts…) end to end against the real server: uploads over HTTP, the
// members-only download route, caps, the zip round trip, and real sandboxed runs reading a binary
// file and making one that is imported back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import type { RunView } from '@tandem/api';
import { TREE_MAP, treeDocName, type TreeEntry } from '@tandem/protocol';
import { connectSync, signUpOverHttp, waitFor, type SignedIn } from './testing/clients.ts';
import { HttpSubscription, type SseMessage } from './testing/HttpSubscription.ts';
import { startTestServer, starterProject } from './testing/testServer.ts';
import type { TandemServer } from './TandemServer.ts';

let server: TandemServer;
let close: () => Promise<void>;
let sandboxDir: string;
let owner: SignedIn;
let editor: SignedIn;
let viewer: SignedIn;
let stranger: SignedIn;

before(async () => {
  sandboxDir = mkdtempSync(join(tmpdir(), 'tandem-binary-sandboxes-'));
  chmodSync(sandboxDir, 0o711);
  ({ server, close } = await startTestServer('binary', {
    TANDEM_SANDBOX_DIR: sandboxDir, TANDEM_MAX_BINARY_FILE_KB: '600', TANDEM_MAX_BINARY_MB_PER_PROJECT: '1', TANDEM_MAX_FILES_PER_PROJECT: '12',
  }));
  [owner, editor, viewer, stranger] = await Promise.all([signUpOverHttp(server.url, 'Olga'), signUpOverHttp(server.url, 'Ed'), signUpOverHttp(server.url, 'Vera'), signUpOverHttp(server.url, 'Stan')]);
});
after(async () => {
  await close?.();
  rmSync(sandboxDir, { recursive: true, force: true });
});

/** A PNG-looking file: a real signature, then `n` pseudo-random bytes (not valid UTF-8). */
function png(n: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(8 + n);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let x = seed;
  for (let i = 8; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return bytes;
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function upload(who: SignedIn | null, projectId: string, files: Record<string, Uint8Array>): Promise<Response> {
  const form = new FormData();
  for (const [path, bytes] of Object.entries(files)) form.append('files', new Blob([bytes as Uint8Array<ArrayBuffer>]), path);
  return fetch(`${server.url}/api/projects/${projectId}/upload`, { method: 'POST', body: form, headers: who ? { cookie: who.cookie } : {} });
}

async function uploaded(who: SignedIn, projectId: string, files: Record<string, Uint8Array>) {
  const res = await upload(who, projectId, files);
  const body = await res.json() as { imported: { path: string; created: boolean }[]; skipped: { path: string; reason: string }[] };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

async function tree(projectId: string): Promise<Map<string, [string, TreeEntry]>> {
  const out = new Map<string, [string, TreeEntry]>();
  await server.sync.editDocument(treeDocName(projectId), (doc) => {
    for (const [id, e] of doc.getMap<TreeEntry>(TREE_MAP).entries()) out.set(e.path, [id, e]);
  });
  return out;
}

const download = (who: SignedIn | null, projectId: string, fileId: string) =>
  fetch(`${server.url}/api/projects/${projectId}/files/${fileId}`, { headers: who ? { cookie: who.cookie } : {} });

test('an uploaded image is a binary entry everyone sees live, served to members only, byte-identical and unable to run script', async () => {
  const projectId = await starterProject(owner, 'Images', [[editor, 'editor'], [viewer, 'viewer']]);
  const image = png(4000);
  const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\0');
  // A second person's open tree sees the entry arrive.
  const live = connectSync(server.url, treeDocName(projectId), { cookie: viewer.cookie });
  await live.synced;
  const result = await uploaded(editor, projectId, { 'assets/logo.png': image, 'assets/x.svg': svg });
  assert.deepEqual(result.imported.map((f) => f.path).sort(), ['assets/logo.png', 'assets/x.svg']);
  await waitFor(() => [...live.doc.getMap<TreeEntry>(TREE_MAP).values()].some((e) => e.path === 'assets/logo.png'), 'the new entry to reach the viewer');
  live.destroy();
  const [fileId, entry] = (await tree(projectId)).get('assets/logo.png')!;
  assert.deepEqual(entry, { path: 'assets/logo.png', kind: 'binary', sha256: sha(image), size: image.length });

  const res = await download(viewer, projectId, fileId);
  assert.equal(res.status, 200);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), image);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-security-policy')!, /default-src 'none'.*sandbox/);
  assert.match(res.headers.get('content-disposition')!, /^inline; filename\*=UTF-8''logo\.png$/);
  const again = await fetch(`${server.url}/api/projects/${projectId}/files/${fileId}`, { headers: { cookie: viewer.cookie, 'if-none-match': res.headers.get('etag')! } });
  assert.equal(again.status, 304);

  // An SVG (or HTML) is never rendered on our origin: always an attachment, sandboxed, nosniff.
  const [svgId] = (await tree(projectId)).get('assets/x.svg')!;
  const svgRes = await download(owner, projectId, svgId);
  assert.equal(svgRes.headers.get('content-type'), 'image/svg+xml');
  assert.match(svgRes.headers.get('content-disposition')!, /^attachment;/);
  assert.match(svgRes.headers.get('content-security-policy')!, /sandbox/);

  // Strangers and anonymous callers learn nothing; viewers cannot upload.
  assert.equal((await download(stranger, projectId, fileId)).status, 404);
  assert.equal((await download(null, projectId, fileId)).status, 401);
  assert.equal((await download(owner, projectId, randomUUID())).status, 404);
  const [textId] = (await tree(projectId)).get('package.json')!;
  assert.equal((await download(owner, projectId, textId)).status, 404, 'a text file is not a binary file');
  assert.equal((await upload(stranger, projectId, { 'a.png': image })).status, 404);
  assert.equal((await upload(viewer, projectId, { 'a.png': image })).status, 403);
  // A binary entry a client forges with another project's hash reaches nothing.
  const other = await starterProject(stranger, 'Other', []);
  const forged = connectSync(server.url, treeDocName(other), { cookie: stranger.cookie });
  await forged.synced;
  forged.doc.getMap<TreeEntry>(TREE_MAP).set('forged', { path: 'stolen.png', kind: 'binary', sha256: sha(image), size: image.length });
  const check = connectSync(server.url, treeDocName(other), { cookie: stranger.cookie });
  await check.synced;
  await waitFor(() => check.doc.getMap<TreeEntry>(TREE_MAP).has('forged'), 'the forged entry to reach the server');
  forged.destroy();
  check.destroy();
  const stolen = await download(stranger, other, 'forged');
  assert.equal(stolen.status, 404);

  // Replacing: a new upload at the same path keeps the entry id and points it at the new bytes.
  const image2 = png(100, 2);
  assert.deepEqual((await uploaded(editor, projectId, { 'assets/logo.png': image2 })).imported, [{ path: 'assets/logo.png', created: false }]);
  assert.deepEqual(new Uint8Array(await (await download(viewer, projectId, fileId)).arrayBuffer()), image2);
  // A binary file cannot replace a text file, nor a text file a binary one.
  const clash = await uploaded(editor, projectId, { 'package.json': image, 'assets/logo.png': new TextEncoder().encode('text') });
  assert.deepEqual(clash.skipped.map((s) => s.reason).sort(), ['A binary file with this path already exists.', 'A text file with this path already exists.']);
});

test('binary files are capped per file, per project in bytes, and count as tree entries', async () => {
  const projectId = await starterProject(owner, 'Caps', []);
  const tooBig = await uploaded(owner, projectId, { 'big.png': png(600 * 1024) });
  assert.match(tooBig.skipped[0]!.reason, /Too large \(0\.6 MB; the limit is 0\.6 MB per file\)/);
  assert.equal((await uploaded(owner, projectId, { 'a.png': png(560 * 1024, 3) })).imported.length, 1);
  const overProject = await uploaded(owner, projectId, { 'b.png': png(560 * 1024, 4), 'c.png': png(10, 5) });
  assert.deepEqual(overProject.imported, [{ path: 'c.png', created: true }]);
  assert.match(overProject.skipped[0]!.reason, /A project stores at most 1\.0 MiB of binary files/);

  // At the cap, blobs that neither the tree nor a checkpoint names (deleted, replaced) are collected.
  const ageBlobs = () => server.db.prisma.projectBlob.updateMany({ where: { projectId }, data: { createdAt: new Date(Date.now() - 3_600_000) } });
  const stored = async () => (await server.db.prisma.projectBlob.findMany({ where: { projectId }, select: { sha256: true } })).map((r) => r.sha256).sort();
  const [aId] = (await tree(projectId)).get('a.png')!;
  await owner.api.history.createCheckpoint.mutate({ projectId, name: 'with a.png' });
  await server.sync.editDocument(treeDocName(projectId), (doc) => doc.getMap(TREE_MAP).delete(aId));
  await ageBlobs();
  assert.match((await uploaded(owner, projectId, { 'b.png': png(560 * 1024, 4) })).skipped[0]!.reason, /stores at most/, 'a checkpoint still names a.png');
  await server.db.prisma.checkpoint.deleteMany({ where: { projectId } });
  assert.deepEqual((await uploaded(owner, projectId, { 'b.png': png(560 * 1024, 4) })).imported, [{ path: 'b.png', created: true }]);
  assert.deepEqual(await stored(), [sha(png(560 * 1024, 4)), sha(png(10, 5))].sort());
  // 12 entries at most: the starter plus a.png and c.png leave room for fewer than 5 more.
  const before = (await tree(projectId)).size;
  const many = Object.fromEntries(Array.from({ length: 13 - before }, (_, i) => [`icons/${i}.png`, png(10, 10 + i)]));
  const res = await upload(owner, projectId, many);
  assert.equal(res.status, 413);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /at most 12 files and folders/);
  assert.equal((await tree(projectId)).size, before);
});

test('the zip download and the git export carry binary files, and uploading the zip into another project restores them byte for byte', async () => {
  const projectId = await starterProject(owner, 'Zip', []);
  const image = png(2000, 7);
  await uploaded(owner, projectId, { 'img/a.png': image });
  const zip = await fetch(`${server.url}/api/projects/${projectId}/archive.zip`, { headers: { cookie: owner.cookie } });
  const files = unzipSync(new Uint8Array(await zip.arrayBuffer()));
  assert.deepEqual(files['img/a.png'], image);
  const copy = (await owner.api.projects.create.mutate({ name: 'Copy', template: 'node' })).id;
  const res = await fetch(`${server.url}/api/projects/${copy}/upload`, {
    method: 'POST', headers: { cookie: owner.cookie, 'content-type': 'application/zip' }, body: zipSync({ 'img/a.png': files['img/a.png']! }),
  });
  assert.equal(res.status, 200);
  const [fileId, entry] = (await tree(copy)).get('img/a.png')!;
  assert.equal(entry.kind, 'binary');
  assert.deepEqual(new Uint8Array(await (await download(owner, copy, fileId)).arrayBuffer()), image);

  const { bundle } = await owner.api.history.exportGit.mutate({ projectId });
  const dir = mkdtempSync(join(tmpdir(), 'tandem-binary-git-'));
  try {
    writeFileSync(join(dir, 'project.bundle'), Buffer.from(bundle, 'base64'));
    execFileSync('git', ['clone', '-q', 'project.bundle', 'repo'], { cwd: dir });
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'repo/img/a.png'))), image);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const hubEvent = (m: SseMessage) => m.data as { type: string; data: unknown } | null;

async function runToEnd(who: SignedIn, projectId: string, command: string): Promise<string> {
  await owner.api.sandbox.setRunCommand.mutate({ projectId, command });
  const tab = await HttpSubscription.open(server.url, 'stream.events', { projectId, tabId: randomUUID() }, { cookie: who.cookie });
  try {
    const run = await who.api.sandbox.runs.start.mutate({ projectId });
    const end = await tab.waitFor((x) => hubEvent(x)?.type === 'sandbox.run' && (hubEvent(x)!.data as RunView).id === run.id && (hubEvent(x)!.data as RunView).status !== 'running', 30_000);
    assert.equal((hubEvent(end)!.data as RunView).exitCode, 0);
    return tab.messages.filter((m) => hubEvent(m)?.type === 'sandbox.output').map((m) => (hubEvent(m)!.data as { runId: string; text: string }))
      .filter((o) => o.runId === run.id).map((o) => o.text).join('');
  } finally {
    tab.close();
  }
}

test('a run sees a binary file byte for byte, and a PNG a run makes is imported as a binary file', async () => {
  const projectId = await starterProject(owner, 'Runs', [[editor, 'editor'], [viewer, 'viewer']]);
  const image = png(3000, 9);
  await uploaded(editor, projectId, { 'assets/in.png': image });
  const output = await runToEnd(editor, projectId, 'sha256sum assets/in.png && node -e "require(\'fs\').writeFileSync(\'out.png\', Buffer.from([137,80,78,71,13,10,26,10,0,255,1,2]))"');
  assert.match(output, new RegExp(`^${sha(image)}  assets/in.png`));

  const listed = await viewer.api.sandbox.generated.list.query({ projectId });
  assert.deepEqual(listed.files.filter((f) => f.path === 'out.png'), [{ path: 'out.png', bytes: 12, binary: true }]);
  const { fileId } = await editor.api.sandbox.generated.import.mutate({ projectId, path: 'out.png' });
  const [, entry] = (await tree(projectId)).get('out.png')!;
  assert.equal(entry.kind, 'binary');
  assert.deepEqual(new Uint8Array(await (await download(viewer, projectId, fileId)).arrayBuffer()), new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 255, 1, 2]));
  // Once imported it is a project file, copied back into the next run as it is.
  assert.match(await runToEnd(editor, projectId, 'od -An -tu1 out.png'), /137\s+80\s+78\s+71\s+13\s+10\s+26\s+10\s+0\s+255\s+1\s+2/);
});
