// Project environments through the real server (branch sbxdisk): a large document is skipped
// with a notice instead of breaking Run and terminals; a full project disk fails with its own
// precise message (not a generic one) while other projects and the server keep working; owners
// reset the environment; deleting a project deletes it; run output survives a server restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter, RunOutput, RunView } from '@tandem/api';
import { TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { connectSync, signUpOverHttp, waitFor, type SignedIn } from './testing/clients.ts';
import { HttpSubscription, type SseMessage } from './testing/HttpSubscription.ts';

let dataDir: string;
let sandboxDir: string;
let server: TandemServer;
let owner: SignedIn;
let editor: SignedIn;

const start = () => startTandemServer(loadEnv({
  PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false', TANDEM_SANDBOX_DIR: sandboxDir,
  TANDEM_SANDBOX_DISK_MB: '32',
}, []), { withWeb: false });

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-sbxenv-app-'));
  sandboxDir = mkdtempSync(join(tmpdir(), 'tandem-sbxenv-'));
  chmodSync(sandboxDir, 0o711);
  server = await start();
  [owner, editor] = await Promise.all([signUpOverHttp(server.url, 'Owner'), signUpOverHttp(server.url, 'Editor')]);
});
after(async () => {
  await server?.close();
  assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes(sandboxDir), 'the server unmounted every project disk');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(sandboxDir, { recursive: true, force: true });
});

async function nodeProject(): Promise<string> {
  const projectId = (await owner.api.projects.create.mutate({ name: 'Env', template: 'node' })).id;
  const inv = await owner.api.invites.create.mutate({ projectId, role: 'editor' });
  await editor.api.invites.accept.mutate({ token: inv.token });
  return projectId;
}

const watch = (who: SignedIn, projectId: string) => HttpSubscription.open(server.url, 'stream.events', { projectId, tabId: randomUUID() }, { cookie: who.cookie });
const hubEvent = (m: SseMessage) => m.data as { type: string; data: unknown } | null;
const runOutput = (sub: HttpSubscription, runId: string) => sub.messages
  .filter((m) => hubEvent(m)?.type === 'sandbox.output').map((m) => hubEvent(m)!.data as RunOutput)
  .filter((o) => o.runId === runId).map((o) => o.text).join('');

async function runToEnd(who: SignedIn, projectId: string): Promise<{ end: RunView; output: string }> {
  const sub = await watch(who, projectId);
  try {
    const started = await who.api.sandbox.runs.start.mutate({ projectId });
    const m = await sub.waitFor((x) => hubEvent(x)?.type === 'sandbox.run' && (hubEvent(x)!.data as RunView).id === started.id && (hubEvent(x)!.data as RunView).status !== 'running', 30_000);
    return { end: hubEvent(m)!.data as RunView, output: runOutput(sub, started.id) };
  } finally {
    sub.close();
  }
}

/** Adds a file for everyone through real sync clients: its text first, then its tree entry. */
async function addFile(who: SignedIn, projectId: string, path: string, text: string): Promise<void> {
  const fileId = randomUUID();
  const file = connectSync(server.url, fileDocName(projectId, fileId), { cookie: who.cookie });
  await file.synced;
  file.text.insert(0, text);
  const tree = connectSync(server.url, treeDocName(projectId), { cookie: who.cookie });
  await tree.synced;
  tree.doc.getMap<TreeEntry>(TREE_MAP).set(fileId, { path, kind: 'file' });
  const check = connectSync(server.url, fileDocName(projectId, fileId), { cookie: who.cookie });
  await check.synced;
  await waitFor(() => check.text.length === text.length, 'the file to reach the server', 30_000);
  for (const c of [check, tree, file]) c.destroy();
}

async function shell(who: SignedIn, projectId: string, command: string, until: RegExp): Promise<string> {
  const sub = await watch(who, projectId);
  try {
    const term = await who.api.sandbox.terminals.open.mutate({ projectId, cols: 120, rows: 30 });
    await who.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: `${command}\n` });
    let text = '';
    for (const deadline = Date.now() + 30_000; !until.test(text); await sleep(50)) {
      if (Date.now() > deadline) assert.fail(`terminal output never matched ${until}: ${text}`);
      text = (await who.api.sandbox.terminals.scrollback.query({ projectId, terminalId: term.id })).data;
    }
    await who.api.sandbox.terminals.kill.mutate({ projectId, terminalId: term.id });
    return text;
  } finally {
    sub.close();
  }
}

// 3 MiB: over the sandbox's 1 MiB per-file limit, under the sync server's 4 MiB per-document cap.
test('a large file is skipped with a notice; Run and terminals keep working for everyone', async () => {
  const projectId = await nodeProject();
  await addFile(editor, projectId, 'data/big.txt', 'x'.repeat(3 * 1024 * 1024));
  const { end, output } = await runToEnd(editor, projectId);
  assert.deepEqual([end.status, end.exitCode], ['exit', 0]);
  assert.match(output, /\[tandem\] 1 file is over the 1 MiB per-file limit and not in the sandbox: data\/big\.txt \(3\.0 MiB\)\.\n/);
  assert.match(output, /Hello, Tandem!/);
  const term = await shell(editor, projectId, 'ls data; echo "ls-$((6*7))"', /ls-42/);
  assert.match(term, /data\/big\.txt \(3\.0 MiB\)/, 'the terminal shows the notice too');
});

test('a full project disk: its own precise message reaches the user; other projects and the server keep working; the owner resets it', async () => {
  const full = await nodeProject();
  const other = await nodeProject();
  const filled = await shell(editor, full, 'dd if=/dev/zero of=fill bs=1M count=64 2>&1 | head -1; echo "fill-$((6*7))"', /fill-42/);
  assert.match(filled, /No space left on device/);
  // Changing a document now needs space on the full disk: runs.start fails with the quota message.
  await addFile(editor, full, 'more.txt', 'y'.repeat(1000 * 1000));
  await assert.rejects(editor.api.sandbox.runs.start.mutate({ projectId: full }), (e: { message: string; data?: { code?: string } }) => {
    assert.equal(e.data?.code, 'PAYLOAD_TOO_LARGE');
    assert.match(e.message, /^This project's disk is full \(quota 32 MiB/);
    return true;
  });
  // A terminal still opens (it is how people free space), says why, and can delete files.
  const freed = await shell(editor, full, 'rm fill; echo "rm-$((6*7))"', /rm-42/);
  assert.match(freed, /\[tandem\] This project's disk is full \(quota 32 MiB/);
  const afterRm = await runToEnd(editor, full);
  assert.deepEqual([afterRm.end.status, afterRm.output], ['exit', 'Hello, Tandem!\n']);
  await shell(editor, full, 'dd if=/dev/zero of=fill bs=1M count=64 2>/dev/null; echo "refill-$((6*7))"', /refill-42/);
  const status = await editor.api.sandbox.status.query({ projectId: full });
  assert.ok(status.disk && status.disk.quotaBytes === 32 * 1024 * 1024 && status.disk.usedBytes! > 28 * 1024 * 1024, JSON.stringify(status.disk));
  const ok = await runToEnd(editor, other);
  assert.deepEqual([ok.end.status, ok.output], ['exit', 'Hello, Tandem!\n']);
  const health = await fetch(`${server.url}/api/health`);
  assert.equal(health.status, 200);

  // Only the owner may reset; afterwards the project runs again from its documents.
  await assert.rejects(editor.api.sandbox.resetEnvironment.mutate({ projectId: full }), (e: { data?: { code?: string } }) => e.data?.code === 'FORBIDDEN');
  const outsider = await signUpOverHttp(server.url, 'Outsider');
  await assert.rejects(outsider.api.sandbox.resetEnvironment.mutate({ projectId: full }), (e: { data?: { code?: string } }) => e.data?.code === 'NOT_FOUND');
  await assert.rejects(outsider.api.sandbox.status.query({ projectId: full }), (e: { data?: { code?: string } }) => e.data?.code === 'NOT_FOUND');
  await owner.api.sandbox.resetEnvironment.mutate({ projectId: full });
  await assert.rejects(owner.api.sandbox.resetEnvironment.mutate({ projectId: full }), (e: { message: string; data?: { code?: string } }) => {
    assert.equal(e.data?.code, 'TOO_MANY_REQUESTS');
    assert.match(e.message, /just reset/);
    return true;
  });
  const again = await runToEnd(editor, full);
  assert.deepEqual([again.end.status, again.output], ['exit', 'Hello, Tandem!\n']);
  assert.ok((await editor.api.sandbox.status.query({ projectId: full })).disk!.usedBytes! < 8 * 1024 * 1024);

  // Deleting the project deletes its environment.
  await owner.api.projects.delete.mutate({ projectId: full });
  await waitFor(() => !existsSync(join(sandboxDir, full)), 'the environment of the deleted project to be removed', 15_000);
  assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes(join(sandboxDir, full)));
});

test('run history and the last runs\' output survive a server restart', async () => {
  const projectId = await nodeProject();
  const first = await runToEnd(editor, projectId);
  assert.equal(first.output, 'Hello, Tandem!\n');
  await server.close();
  server = await start();
  // Same session cookie, new port.
  editor = { ...editor, api: createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/api/trpc`, headers: { cookie: editor.cookie } })] }) };
  const [listed] = await editor.api.sandbox.runs.list.query({ projectId });
  assert.deepEqual([listed!.id, listed!.status, listed!.exitCode], [first.end.id, 'exit', 0]);
  const kept = await editor.api.sandbox.runs.output.query({ projectId, runId: first.end.id });
  assert.equal(kept.chunks.map((c) => c.text).join(''), 'Hello, Tandem!\n');
  assert.equal(kept.end, 'Hello, Tandem!\n'.length);
  // A stranger to the project cannot read it.
  const stranger = await signUpOverHttp(server.url, 'Stranger');
  await assert.rejects(stranger.api.sandbox.runs.output.query({ projectId, runId: first.end.id }), (e: { data?: { code?: string } }) => e.data?.code === 'FORBIDDEN' || e.data?.code === 'NOT_FOUND');
});
