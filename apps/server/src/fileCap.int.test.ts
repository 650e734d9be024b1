// The files-per-project cap (TANDEM_MAX_FILES_PER_PROJECT) holds for what the server itself writes:
// new files from an accepted agent changeset and from an upload. Real server, tRPC and the upload
// route over HTTP, the OpenAI-style test server scripting the agent's tool calls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { OpenAITestServer } from '@tandem/inference/testing';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { signUpOverHttp, type SignedIn } from './testing/clients.ts';

const MAX_FILES = 8;
let dataDir: string;
let upstream: OpenAITestServer;
let server: TandemServer;
let owner: SignedIn;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-filecap-'));
  upstream = new OpenAITestServer({ tokensPerSecond: 5000 });
  await upstream.listen();
  server = await startTandemServer(loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false', TANDEM_MAX_FILES_PER_PROJECT: String(MAX_FILES),
    OPENAI_BASE_URL: upstream.url, OPENAI_MODEL: 'agent-model', OPENAI_LABEL: 'Test AI',
  }, []), { withWeb: false });
  owner = await signUpOverHttp(server.url, 'Owner');
});

after(async () => {
  await server?.close();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const call = (name: string, args: unknown) => ({ name, arguments: JSON.stringify(args) });

/** A project with `count` files (written on the server, as a template would). */
async function projectWith(count: number): Promise<string> {
  const projectId = (await owner.api.projects.create.mutate({ name: `Cap ${randomUUID().slice(0, 6)}`, template: 'empty' })).id;
  for (let i = 0; i < count; i++) {
    const fileId = randomUUID();
    await server.sync.editDocument(fileDocName(projectId, fileId), (doc) => doc.getText(FILE_TEXT).insert(0, `file ${i}\n`));
    await server.sync.editDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).set(fileId, { path: `f${i}.txt`, kind: 'file' }));
  }
  return projectId;
}

async function paths(projectId: string): Promise<string[]> {
  let out: string[] = [];
  await server.sync.editDocument(treeDocName(projectId), (doc) => {
    out = [...doc.getMap<TreeEntry>(TREE_MAP).values()].map((e) => e.path).sort();
  });
  return out;
}

test('accepting an agent changeset that would pass the files-per-project cap is refused; nothing is applied', async () => {
  const projectId = await projectWith(MAX_FILES - 2);
  const editor = await signUpOverHttp(server.url, 'Editor');
  await editor.api.invites.accept.mutate({ token: (await owner.api.invites.create.mutate({ projectId, role: 'editor' })).token });
  upstream.configure({
    turns: [
      { toolCalls: [call('create_file', { path: 'new/a.js', content: 'a\n' }), call('create_file', { path: 'new/b.js', content: 'b\n' }), call('create_file', { path: 'new/c.js', content: 'c\n' })] },
      { toolCalls: [call('finish', { summary: 'three files' })] },
    ],
  });
  const run = await owner.api.agent.start.mutate({ projectId, task: 'Create three files.' });
  for (let end = Date.now() + 30_000; (await owner.api.agent.get.query({ projectId, runId: run.id })).run.status === 'running';) {
    assert.ok(Date.now() < end, 'the run finishes');
    await new Promise((r) => setTimeout(r, 50));
  }
  const before = await paths(projectId);

  // 6 files + 3 new ones > 8: refused as a whole, with the numbers and what to do.
  await assert.rejects(editor.api.agent.acceptAll.mutate({ projectId, runId: run.id }), (e: Error & { data?: { code?: string } }) => {
    assert.equal(e.data?.code, 'PAYLOAD_TOO_LARGE');
    assert.match(e.message, new RegExp(`at most ${MAX_FILES} files and folders: it has ${MAX_FILES - 2}, and accepting would add 3 new files\\. Reject some of the new files`));
    return true;
  });
  assert.deepEqual(await paths(projectId), before, 'nothing was applied');

  // Rejecting one new file makes room: the other two are accepted.
  await editor.api.agent.rejectAll.mutate({ projectId, runId: run.id, path: 'new/c.js' });
  await editor.api.agent.acceptAll.mutate({ projectId, runId: run.id });
  const after = await paths(projectId);
  assert.equal(after.length, MAX_FILES);
  assert.ok(after.includes('new/a.js') && after.includes('new/b.js') && !after.includes('new/c.js'));
});

test('an upload that would pass the files-per-project cap is refused with the numbers; nothing is imported', async () => {
  const projectId = await projectWith(MAX_FILES - 2);
  const upload = (files: Record<string, string>) => fetch(`${server.url}/api/projects/${projectId}/upload`, {
    method: 'POST', headers: { cookie: owner.cookie, 'content-type': 'application/zip' },
    body: zipSync(Object.fromEntries(Object.entries(files).map(([p, t]) => [p, new TextEncoder().encode(t)]))),
  });
  const refused = await upload({ 'x.txt': 'x', 'y.txt': 'y', 'z.txt': 'z' });
  assert.equal(refused.status, 413);
  assert.match(((await refused.json()) as { error: { message: string } }).error.message, new RegExp(`at most ${MAX_FILES} files and folders: this upload would make ${MAX_FILES + 1}`));
  assert.equal((await paths(projectId)).length, MAX_FILES - 2);
  // Replacing existing files adds no entries: allowed at the cap.
  const ok = await upload({ 'x.txt': 'x', 'y.txt': 'y', 'f0.txt': 'new text' });
  assert.equal(ok.status, 200);
  assert.equal((await paths(projectId)).length, MAX_FILES);
});
