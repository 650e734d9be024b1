// Runs and shared terminals as users meet them: the real server in-process, real sandboxes
// (bubblewrap + cgroups, as root), the tRPC HTTP client, every participant's one SSE stream, and
// y-websocket clients editing the documents the sandbox is built from.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RunOutput, RunView, TerminalData, TerminalView } from '@tandem/api';
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
let viewer: SignedIn;
let stranger: SignedIn;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-sandbox-app-'));
  // Working copies must be reachable by the sandbox uid (a mkdtemp directory is 0700).
  sandboxDir = mkdtempSync(join(tmpdir(), 'tandem-sandboxes-'));
  chmodSync(sandboxDir, 0o711);
  server = await startTandemServer(loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false', TANDEM_SANDBOX_DIR: sandboxDir,
  }, []), { withWeb: false });
  [owner, editor, viewer, stranger] = await Promise.all([
    signUpOverHttp(server.url, 'Owner'), signUpOverHttp(server.url, 'Editor'), signUpOverHttp(server.url, 'Viewer'), signUpOverHttp(server.url, 'Stranger'),
  ]);
});
after(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(sandboxDir, { recursive: true, force: true });
});

/** A project from the Node starter with the shared editor and viewer as members. */
async function starterProject(): Promise<string> {
  const projectId = (await owner.api.projects.create.mutate({ name: 'Starter', template: 'node' })).id;
  for (const [u, role] of [[editor, 'editor'], [viewer, 'viewer']] as const) {
    const inv = await owner.api.invites.create.mutate({ projectId, role });
    await u.api.invites.accept.mutate({ token: inv.token });
  }
  return projectId;
}

const watch = (who: SignedIn, projectId: string) => HttpSubscription.open(server.url, 'stream.events', { projectId, tabId: randomUUID() }, { cookie: who.cookie });
const hubEvent = (m: SseMessage) => m.data as { type: string; data: unknown } | null;
const ofType = <T>(sub: HttpSubscription, type: string): T[] => sub.messages.filter((m) => hubEvent(m)?.type === type).map((m) => hubEvent(m)!.data as T);
const runOutput = (sub: HttpSubscription, runId: string) => ofType<RunOutput>(sub, 'sandbox.output').filter((o) => o.runId === runId).map((o) => o.text).join('');
const terminalOutput = (sub: HttpSubscription, terminalId: string) => ofType<TerminalData>(sub, 'sandbox.terminalData').filter((d) => d.terminalId === terminalId).map((d) => d.data).join('');

const withoutEscapes = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

async function runEnd(sub: HttpSubscription, runId: string, timeoutMs = 20_000): Promise<RunView> {
  const m = await sub.waitFor((x) => hubEvent(x)?.type === 'sandbox.run' && (hubEvent(x)!.data as RunView).id === runId && (hubEvent(x)!.data as RunView).status !== 'running', timeoutMs);
  return hubEvent(m)!.data as RunView;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: { data?: { code?: string } }) => {
    assert.equal(e.data?.code, code);
    return true;
  });
}

/** Host processes whose command line contains `marker` (to prove a kill left nothing behind). */
function processesWith(marker: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}

/** Replaces a file's whole text through a real sync client (as a person in the editor would). */
async function editFile(who: SignedIn, projectId: string, path: string, text: string): Promise<void> {
  const tree = connectSync(server.url, treeDocName(projectId), { cookie: who.cookie });
  await tree.synced;
  const [fileId] = Object.entries(tree.doc.getMap<TreeEntry>(TREE_MAP).toJSON() as Record<string, TreeEntry>).find(([, e]) => e.path === path)!;
  tree.destroy();
  const file = connectSync(server.url, fileDocName(projectId, fileId), { cookie: who.cookie });
  await file.synced;
  file.doc.transact(() => {
    file.text.delete(0, file.text.length);
    file.text.insert(0, text);
  });
  // The server has it once a second client sees it.
  const check = connectSync(server.url, fileDocName(projectId, fileId), { cookie: who.cookie });
  await check.synced;
  await waitFor(() => check.text.toString() === text, 'the edit to reach the server');
  check.destroy();
  file.destroy();
}

describe('runs', () => {
  test('the Node starter runs out of the box: both participants see its output, exit 0 and the duration; the run is recorded', async () => {
    const projectId = await starterProject();
    const [ownerTab, viewerTab] = await Promise.all([watch(owner, projectId), watch(viewer, projectId)]);
    try {
      const t0 = performance.now();
      const started = await owner.api.sandbox.runs.start.mutate({ projectId });
      assert.equal(started.command, 'node src/index.js');
      const [endA, endB] = await Promise.all([runEnd(ownerTab, started.id), runEnd(viewerTab, started.id)]);
      const roundTrip = performance.now() - t0;
      for (const [tab, end] of [[ownerTab, endA], [viewerTab, endB]] as const) {
        assert.equal(runOutput(tab, started.id), 'Hello, Tandem!\n');
        assert.deepEqual([end.status, end.exitCode, end.detail], ['exit', 0, null]);
        assert.ok(end.durationMs! > 0, `duration ${end.durationMs}`);
      }
      console.log(`# Run button → end event on the stream: ${roundTrip.toFixed(0)} ms (sandboxed node run ${endA.durationMs} ms)`);
      const row = await server.db.prisma.run.findUniqueOrThrow({ where: { id: started.id } });
      assert.deepEqual(
        [row.projectId, row.userId, row.command, row.status, row.exitCode, row.durationMs, row.endedAt !== null],
        [projectId, owner.user.id, 'node src/index.js', 'exit', 0, endA.durationMs, true],
      );
      // A participant who reloads gets the run and its output back.
      const [listed] = await viewer.api.sandbox.runs.list.query({ projectId });
      assert.equal(listed!.id, started.id);
      const kept = await viewer.api.sandbox.runs.output.query({ projectId, runId: started.id });
      assert.equal(kept.chunks.map((c) => c.text).join(''), 'Hello, Tandem!\n');
    } finally {
      ownerTab.close();
      viewerTab.close();
    }
  });

  test('the sandbox is built from the current documents: an edit made through a sync client shows in the next run', async () => {
    const projectId = await starterProject();
    await editFile(editor, projectId, 'src/greet.js', 'export function greet(name) {\n  return `Howdy, ${name}, from the live document!`;\n}\n');
    const tab = await watch(editor, projectId);
    try {
      const run = await editor.api.sandbox.runs.start.mutate({ projectId });
      const end = await runEnd(tab, run.id);
      assert.equal(end.exitCode, 0);
      assert.equal(runOutput(tab, run.id), 'Howdy, Tandem, from the live document!\n');
    } finally {
      tab.close();
    }
  });

  test('Stop kills the whole process tree', async () => {
    const projectId = await starterProject();
    const marker = `9${Math.floor(Math.random() * 1e6)}`;
    await owner.api.sandbox.setRunCommand.mutate({ projectId, command: `sleep ${marker} & sleep ${marker} & echo started; sleep ${marker}` });
    const tab = await watch(owner, projectId);
    try {
      const run = await editor.api.sandbox.runs.start.mutate({ projectId });
      await tab.waitFor(() => runOutput(tab, run.id).includes('started'), 10_000);
      await waitFor(() => processesWith(`sleep\0${marker}`).length === 3, 'three sleeps');
      assert.deepEqual(await editor.api.sandbox.runs.stop.mutate({ projectId, runId: run.id }), { stopped: true });
      const end = await runEnd(tab, run.id, 5000);
      assert.equal(end.status, 'stopped');
      assert.equal(end.detail, 'Stopped by Editor.');
      assert.deepEqual(processesWith(`sleep\0${marker}`), [], 'nothing of the run survives');
      assert.equal((await server.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).status, 'stopped');
    } finally {
      tab.close();
    }
  });

  test('deleting a project stops its run and terminals and removes its working copy', async () => {
    const projectId = await starterProject();
    const marker = `8${Math.floor(Math.random() * 1e6)}`;
    await owner.api.sandbox.setRunCommand.mutate({ projectId, command: `sleep ${marker}` });
    await owner.api.sandbox.runs.start.mutate({ projectId });
    const term = await owner.api.sandbox.terminals.open.mutate({ projectId, cols: 80, rows: 24 });
    await owner.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: `sleep ${marker}\r` });
    await waitFor(() => processesWith(`sleep\0${marker}`).length === 2, 'the run and the terminal sleeping');
    assert.ok(existsSync(join(sandboxDir, projectId, 'disk', 'work')));
    await owner.api.projects.delete.mutate({ projectId });
    await waitFor(() => processesWith(`sleep\0${marker}`).length === 0 && !existsSync(join(sandboxDir, projectId)), 'everything of the project gone');
  });

  test('a viewer cannot run or stop; a non-member gets NOT_FOUND and no events', async () => {
    const projectId = await starterProject();
    await rejectsWith(viewer.api.sandbox.runs.start.mutate({ projectId }), 'FORBIDDEN');
    await rejectsWith(viewer.api.sandbox.setRunCommand.mutate({ projectId, command: 'echo hi' }), 'FORBIDDEN');
    await rejectsWith(stranger.api.sandbox.runs.start.mutate({ projectId }), 'NOT_FOUND');
    await rejectsWith(stranger.api.sandbox.runs.list.query({ projectId }), 'NOT_FOUND');
    await rejectsWith(stranger.api.sandbox.status.query({ projectId }), 'NOT_FOUND');
    const strangerTab = await watch(stranger, projectId);
    try {
      // The subscription is refused (its error is not mapped to NOT_FOUND yet: a streamRouter matter).
      await strangerTab.waitFor((m) => m.event === 'serialized-error', 5000);
      assert.ok(!strangerTab.messages.some((m) => hubEvent(m)?.type?.startsWith('sandbox.')));
    } finally {
      strangerTab.close();
    }
    assert.equal(await server.db.prisma.run.count({ where: { projectId } }), 0);
  });

  test('files the program writes are listed, never replace documents, and one can be imported for everyone', async () => {
    const projectId = await starterProject();
    await owner.api.sandbox.setRunCommand.mutate({ projectId, command: 'mkdir -p out && echo "answer: $((6*7))" > out/result.txt && echo hijacked > src/greet.js' });
    const tab = await watch(owner, projectId);
    const tree = connectSync(server.url, treeDocName(projectId), { cookie: viewer.cookie });
    try {
      const run = await owner.api.sandbox.runs.start.mutate({ projectId });
      assert.equal((await runEnd(tab, run.id)).exitCode, 0);
      const listed = await viewer.api.sandbox.generated.list.query({ projectId });
      assert.deepEqual(listed.files, [{ path: 'out/result.txt', bytes: 11 }], 'the overwritten document is not offered as generated');

      await rejectsWith(viewer.api.sandbox.generated.import.mutate({ projectId, path: 'out/result.txt' }), 'FORBIDDEN');
      const imported = await editor.api.sandbox.generated.import.mutate({ projectId, path: 'out/result.txt' });
      assert.equal(imported.path, 'out/result.txt');
      await tree.synced;
      await waitFor(() => (tree.doc.getMap<TreeEntry>(TREE_MAP).get(imported.fileId))?.path === 'out/result.txt', 'the new file in everyone\'s tree');
      const file = connectSync(server.url, fileDocName(projectId, imported.fileId), { cookie: viewer.cookie });
      await file.synced;
      assert.equal(file.text.toString(), 'answer: 42\n');
      file.destroy();
      assert.deepEqual((await viewer.api.sandbox.generated.list.query({ projectId })).files, []);
      await rejectsWith(editor.api.sandbox.generated.import.mutate({ projectId, path: 'out/result.txt' }), 'NOT_FOUND');

      // The program's write to src/greet.js stayed in the sandbox: the document is unchanged, and
      // the next run starts from the document again.
      await owner.api.sandbox.setRunCommand.mutate({ projectId, command: null });
      const again = await owner.api.sandbox.runs.start.mutate({ projectId });
      await runEnd(tab, again.id);
      assert.equal(runOutput(tab, again.id), 'Hello, Tandem!\n');
    } finally {
      tree.destroy();
      tab.close();
    }
  });
});

describe('terminals', () => {
  test('two participants see the same terminal; the editor types, the viewer\'s keystrokes are refused; resize works; scrollback reattaches', async () => {
    const projectId = await starterProject();
    const [editorTab, viewerTab] = await Promise.all([watch(editor, projectId), watch(viewer, projectId)]);
    try {
      const term: TerminalView = await editor.api.sandbox.terminals.open.mutate({ projectId, cols: 80, rows: 24 });
      assert.equal(term.title, 'Terminal 1');
      await viewerTab.waitFor((m) => hubEvent(m)?.type === 'sandbox.terminal' && (hubEvent(m)!.data as TerminalView).id === term.id);
      assert.deepEqual((await viewer.api.sandbox.terminals.list.query({ projectId })).map((t) => t.id), [term.id]);

      await editor.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: 'node -e "console.log(6*7)"\r' });
      // node colours numbers on a tty (ESC[33m42ESC[39m): compare the text without escape codes.
      for (const tab of [editorTab, viewerTab]) await tab.waitFor(() => /[\r\n]42\r\n/.test(withoutEscapes(terminalOutput(tab, term.id))), 10_000);

      await rejectsWith(viewer.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: 'echo VIEWER-TYPED\r' }), 'FORBIDDEN');
      await rejectsWith(viewer.api.sandbox.terminals.resize.mutate({ projectId, terminalId: term.id, cols: 20, rows: 5 }), 'FORBIDDEN');
      await rejectsWith(stranger.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: 'echo STRANGER\r' }), 'NOT_FOUND');
      await rejectsWith(stranger.api.sandbox.terminals.scrollback.query({ projectId, terminalId: term.id }), 'NOT_FOUND');

      await editor.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: 'stty size\r' });
      await editorTab.waitFor(() => terminalOutput(editorTab, term.id).includes('24 80'), 5000);
      const resized = await editor.api.sandbox.terminals.resize.mutate({ projectId, terminalId: term.id, cols: 100, rows: 30 });
      assert.deepEqual([resized.cols, resized.rows], [100, 30]);
      await viewerTab.waitFor((m) => hubEvent(m)?.type === 'sandbox.terminal' && (hubEvent(m)!.data as TerminalView).cols === 100);
      await editor.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: 'stty size\r' });
      await editorTab.waitFor(() => terminalOutput(editorTab, term.id).includes('30 100'), 5000);

      // A reload: the scrollback holds what the stream delivered, and `end` says where it stops.
      const scroll = await viewer.api.sandbox.terminals.scrollback.query({ projectId, terminalId: term.id });
      await viewerTab.waitFor(() => terminalOutput(viewerTab, term.id).length >= scroll.end);
      assert.equal(scroll.data, terminalOutput(viewerTab, term.id).slice(0, scroll.end));
      assert.ok(!scroll.data.includes('VIEWER-TYPED') && !scroll.data.includes('STRANGER'));

      await editor.api.sandbox.terminals.kill.mutate({ projectId, terminalId: term.id });
      const exited = await viewerTab.waitFor((m) => hubEvent(m)?.type === 'sandbox.terminal' && (hubEvent(m)!.data as TerminalView).exited);
      assert.equal((hubEvent(exited)!.data as TerminalView).id, term.id);
      assert.deepEqual(await viewer.api.sandbox.terminals.list.query({ projectId }), []);
    } finally {
      editorTab.close();
      viewerTab.close();
    }
  });

  test('a command typed in a terminal sees the documents as they are now', async () => {
    const projectId = await starterProject();
    const tab = await watch(owner, projectId);
    try {
      const term = await owner.api.sandbox.terminals.open.mutate({ projectId, cols: 120, rows: 24 });
      await editFile(editor, projectId, 'src/greet.js', 'export const greet = (n) => `edited after the terminal opened, ${n}`;\n');
      await owner.api.sandbox.terminals.write.mutate({ projectId, terminalId: term.id, data: 'node src/index.js\r' });
      await tab.waitFor(() => terminalOutput(tab, term.id).includes('edited after the terminal opened, Tandem'), 10_000);
      await owner.api.sandbox.terminals.kill.mutate({ projectId, terminalId: term.id });
    } finally {
      tab.close();
    }
  });
});

describe('abuse does not hurt other users', () => {
  test('while a fork bomb, an output flood and a flooding terminal run, the API answers quickly and the flood is capped', async () => {
    const [bombProject, floodProject, termProject] = await Promise.all([starterProject(), starterProject(), starterProject()]);
    await owner.api.sandbox.setRunCommand.mutate({ projectId: bombProject, command: 'bomb() { bomb | bomb & }; bomb; exec sleep 60' }); // exec: needs no free pid
    await owner.api.sandbox.setRunCommand.mutate({ projectId: floodProject, command: 'yes "flood flood flood flood flood flood"' });
    const [bombTab, floodTab, floodViewerTab, termTab] = await Promise.all([
      watch(owner, bombProject), watch(owner, floodProject), watch(viewer, floodProject), watch(owner, termProject),
    ]);
    try {
      const bomb = await owner.api.sandbox.runs.start.mutate({ projectId: bombProject });
      const flood = await owner.api.sandbox.runs.start.mutate({ projectId: floodProject });
      const term = await owner.api.sandbox.terminals.open.mutate({ projectId: termProject, cols: 80, rows: 24 });
      await owner.api.sandbox.terminals.write.mutate({ projectId: termProject, terminalId: term.id, data: 'yes terminal-flood\r' });
      await new Promise((r) => setTimeout(r, 300)); // let them get going

      const latencies: number[] = [];
      const until = performance.now() + 2000;
      while (performance.now() < until) {
        const t0 = performance.now();
        const p = await viewer.api.projects.get.query({ projectId: bombProject });
        latencies.push(performance.now() - t0);
        assert.equal(p.id, bombProject);
        await new Promise((r) => setTimeout(r, 50));
      }
      latencies.sort((a, b) => a - b);
      const p50 = latencies[Math.floor(latencies.length / 2)]!;
      const max = latencies.at(-1)!;
      console.log(`# API latency under abuse: ${latencies.length} queries, p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
      assert.ok(p50 < 100 && max < 1000, `p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`);

      const floodEnd = await runEnd(floodTab, flood.id);
      assert.equal(floodEnd.status, 'output-capped');
      await runEnd(floodViewerTab, flood.id);
      const seen = runOutput(floodViewerTab, flood.id).length;
      assert.ok(seen > 512 * 1024 && seen <= 1024 * 1024, `the viewer received ${seen} chars (cap 1 MiB)`);

      // The terminal's broadcast stays within its budget (1 M burst + 256 K/s), however fast `yes` is.
      const termChars = terminalOutput(termTab, term.id).length;
      assert.ok(termChars < 1024 * 1024 + 256 * 1024 * 4, `terminal broadcast ${termChars} chars`);

      assert.deepEqual(await owner.api.sandbox.runs.stop.mutate({ projectId: bombProject, runId: bomb.id }), { stopped: true });
      assert.equal((await runEnd(bombTab, bomb.id, 10_000)).status, 'stopped');
      await owner.api.sandbox.terminals.kill.mutate({ projectId: termProject, terminalId: term.id });
    } finally {
      for (const tab of [bombTab, floodTab, floodViewerTab, termTab]) tab.close();
    }
  });
});
