// The sandbox router through createCaller on a real database, a real SyncServer (documents) and
// a real sandbox host (bubblewrap + cgroups; needs root, like the sandbox package's own tests):
// who may run, type and import; runs recorded; the sandbox refused with a clear error when the
// host lacks isolation. Streaming to several HTTP subscribers is tested in apps/server.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { PrismaDocumentStore } from '@tandem/db';
import { SyncServer } from '@tandem/collab';
import { AppError } from '@tandem/protocol';
import { SandboxHost } from '@tandem/sandbox';
import type { PublicUser } from '@tandem/auth';
import { callerFactory, RecordedEvents, testServices } from '../testing.ts';
import { EventHub, projectChannel, type HubEvent } from '../EventHub.ts';
import { LiveProjectFiles } from './LiveProjectFiles.ts';
import { SandboxService } from './SandboxService.ts';
import { RUN_EVENT, RUN_OUTPUT_EVENT, type RunOutput, type RunView } from './sandboxEvents.ts';

let db: TestDatabase;
let baseDir: string;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  db = await createPGliteTestDatabase();
  baseDir = mkdtempSync(join(tmpdir(), 'tandem-api-sandbox-'));
  chmodSync(baseDir, 0o711); // the sandbox uid traverses to the working copies
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await db.destroy();
  rmSync(baseDir, { recursive: true, force: true });
});

/** Callers whose services include a sandbox host on its own root (`bwrapPath` to break it). */
function world(name: string, hostOptions: { bwrapPath?: string } = {}) {
  const hub = new EventHub();
  const sync = new SyncServer({
    store: new PrismaDocumentStore(db.prisma),
    onAuthenticate: () => { throw new AppError('UNAUTHENTICATED', 'No clients in this test.'); },
  });
  const files = new LiveProjectFiles(sync);
  const host = new SandboxHost({ rootDir: join(baseDir, name), cgroupName: `tandem-api-test-${name}`, log: () => {}, ...hostOptions });
  const sandboxes = new SandboxService({ host, files, hub, prisma: db.prisma, logError: () => {} });
  closers.push(async () => {
    await sandboxes.close();
    await sync.close();
  });
  const t = callerFactory(db.prisma, undefined, new RecordedEvents(), { ...testServices(hub), sandboxes });
  return { ...t, hub, sandboxes };
}

async function projectWith(w: ReturnType<typeof world>, template: 'node' | 'python' | 'empty' = 'node') {
  const owner = await w.signUp('Owner');
  const p = await w.callerFor(owner).projects.create({ name: 'Run me', template });
  const users: Record<'owner' | 'editor' | 'viewer' | 'stranger', PublicUser> = { owner, editor: owner, viewer: owner, stranger: await w.signUp('Stranger') };
  for (const role of ['editor', 'viewer'] as const) {
    const u = await w.signUp(role);
    const inv = await w.callerFor(owner).invites.create({ projectId: p.id, role });
    await w.callerFor(u).invites.accept({ token: inv.token });
    users[role] = u;
  }
  return { projectId: p.id, users };
}

/** Collects the project's hub events from now on. */
function record(hub: EventHub, projectId: string, userId: string) {
  const events: HubEvent[] = [];
  const abort = new AbortController();
  void (async () => {
    for await (const e of hub.subscribe([projectChannel(projectId)], { projectId, userId, signal: abort.signal })) events.push(e);
  })();
  return { events, stop: () => abort.abort() };
}

async function until<T>(what: string, get: () => T | undefined | null | false | Promise<T | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sandbox router', () => {
  let w: ReturnType<typeof world>;
  before(() => {
    w = world('main');
  });

  test('an editor runs the starter: output and the end reach the project channel; the run is recorded', async () => {
    const { projectId, users } = await projectWith(w);
    const rec = record(w.hub, projectId, users.owner.id);
    try {
      const status = await w.callerFor(users.viewer).sandbox.status({ projectId });
      assert.equal(status.available, true, status.missing.join('; '));
      assert.equal(status.sandboxed, true);
      assert.equal(status.canControl, false, 'viewers see the status but cannot control runs');
      assert.deepEqual(status.runCommand, { command: 'node src/index.js', source: 'tandem.json' });

      const started = await w.callerFor(users.editor).sandbox.runs.start({ projectId });
      assert.equal(started.status, 'running');
      assert.equal(started.startedBy.id, users.editor.id);
      const ended = await until('the run to end', () => rec.events.find((e) => e.type === RUN_EVENT && (e.data as RunView).status !== 'running')?.data as RunView | undefined);
      const output = rec.events.filter((e) => e.type === RUN_OUTPUT_EVENT).map((e) => (e.data as RunOutput).text).join('');
      assert.equal(output, 'Hello, Tandem!\n');
      assert.equal(ended.status, 'exit');
      assert.equal(ended.exitCode, 0);
      assert.ok(ended.durationMs! > 0 && ended.durationMs! < 10_000, `duration ${ended.durationMs}`);

      const row = await db.prisma.run.findUniqueOrThrow({ where: { id: started.id } });
      assert.deepEqual(
        { userId: row.userId, command: row.command, status: row.status, exitCode: row.exitCode, ended: row.endedAt !== null },
        { userId: users.editor.id, command: 'node src/index.js', status: 'exit', exitCode: 0, ended: true },
      );
      const listed = await w.callerFor(users.viewer).sandbox.runs.list({ projectId });
      assert.equal(listed[0]!.id, started.id);
      assert.equal(listed[0]!.startedBy.name, 'editor');
      const kept = await w.callerFor(users.viewer).sandbox.runs.output({ projectId, runId: started.id });
      assert.equal(kept.chunks.map((c) => c.text).join(''), 'Hello, Tandem!\n');
      assert.equal(kept.end, 'Hello, Tandem!\n'.length);
    } finally {
      rec.stop();
    }
  });

  test('viewers cannot run, stop, open, type, resize, kill or import; non-members get NOT_FOUND', async () => {
    const { projectId, users } = await projectWith(w);
    const viewer = w.callerFor(users.viewer).sandbox;
    const stranger = w.callerFor(users.stranger).sandbox;
    const term = await w.callerFor(users.editor).sandbox.terminals.open({ projectId, cols: 80, rows: 24 });
    const terminalId = term.id;
    try {
      await assert.rejects(viewer.runs.start({ projectId }), { code: 'FORBIDDEN' });
      await assert.rejects(viewer.runs.stop({ projectId, runId: 'x' }), { code: 'FORBIDDEN' });
      await assert.rejects(viewer.terminals.open({ projectId, cols: 80, rows: 24 }), { code: 'FORBIDDEN' });
      await assert.rejects(viewer.terminals.write({ projectId, terminalId, data: 'echo VIEWER-WAS-HERE\r' }), { code: 'FORBIDDEN' });
      await assert.rejects(viewer.terminals.resize({ projectId, terminalId, cols: 10, rows: 5 }), { code: 'FORBIDDEN' });
      await assert.rejects(viewer.terminals.kill({ projectId, terminalId }), { code: 'FORBIDDEN' });
      await assert.rejects(viewer.generated.import({ projectId, path: 'out.txt' }), { code: 'FORBIDDEN' });
      await assert.rejects(viewer.setRunCommand({ projectId, command: 'rm -rf /project' }), { code: 'FORBIDDEN' });
      for (const call of [
        stranger.status({ projectId }), stranger.runs.list({ projectId }), stranger.runs.start({ projectId }),
        stranger.terminals.list({ projectId }), stranger.terminals.scrollback({ projectId, terminalId }),
        stranger.terminals.write({ projectId, terminalId, data: 'x' }), stranger.generated.list({ projectId }),
      ]) {
        await assert.rejects(call, { code: 'NOT_FOUND' });
      }
      // Viewers watch: they see the terminal and its scrollback.
      assert.deepEqual((await viewer.terminals.list({ projectId })).map((t) => t.id), [terminalId]);
      await w.callerFor(users.editor).sandbox.terminals.write({ projectId, terminalId, data: 'echo EDITOR-$((6*7))\r' });
      await until('the editor\'s command output', async () => (await viewer.terminals.scrollback({ projectId, terminalId })).data.includes('EDITOR-42'));
      assert.ok(!(await viewer.terminals.scrollback({ projectId, terminalId })).data.includes('VIEWER-WAS-HERE'));
    } finally {
      await w.callerFor(users.owner).sandbox.terminals.kill({ projectId, terminalId });
    }
    assert.deepEqual(await w.callerFor(users.viewer).sandbox.terminals.list({ projectId }), []);
  });

  test('the project run command from settings wins; an editor sets it, null goes back to tandem.json', async () => {
    const { projectId, users } = await projectWith(w);
    const editor = w.callerFor(users.editor).sandbox;
    await editor.setRunCommand({ projectId, command: '  echo from-settings  ' });
    assert.deepEqual((await editor.status({ projectId })).runCommand, { command: 'echo from-settings', source: 'settings' });
    const run = await editor.runs.start({ projectId });
    assert.equal(run.command, 'echo from-settings');
    await until('the run to end', () => w.sandboxes.host.activeRuns(projectId).length === 0);
    await editor.setRunCommand({ projectId, command: null });
    assert.equal((await editor.status({ projectId })).runCommand?.source, 'tandem.json');
  });

  test('a project with nothing to run gets a clear BAD_INPUT; a second start while running is a CONFLICT', async () => {
    const empty = await projectWith(w, 'empty');
    await assert.rejects(w.callerFor(empty.users.owner).sandbox.runs.start({ projectId: empty.projectId }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'BAD_REQUEST');
      assert.match(e.message, /no run command.*tandem\.json/i);
      return true;
    });
    const { projectId, users } = await projectWith(w);
    const owner = w.callerFor(users.owner).sandbox;
    await owner.setRunCommand({ projectId, command: 'sleep 30' });
    const run = await owner.runs.start({ projectId });
    await assert.rejects(owner.runs.start({ projectId }), { code: 'CONFLICT' });
    assert.deepEqual(await owner.runs.stop({ projectId, runId: run.id }), { stopped: true });
    const [listed] = await owner.runs.list({ projectId });
    assert.equal(listed!.status, 'stopped');
    assert.equal(listed!.detail, 'Stopped by Owner.');
  });
});

test('without isolation, running is refused with what is missing, and nothing is recorded', async () => {
  const w = world('broken', { bwrapPath: '/nonexistent/bwrap' });
  const { projectId, users } = await projectWith(w);
  const status = await w.callerFor(users.owner).sandbox.status({ projectId });
  assert.equal(status.available, false);
  assert.match(status.missing.join(';'), /bubblewrap \(bwrap\) not found at \/nonexistent\/bwrap/);
  // Thunks: each call starts only when awaited (a second one already rejected would be unhandled).
  for (const call of [() => w.callerFor(users.owner).sandbox.runs.start({ projectId }), () => w.callerFor(users.owner).sandbox.terminals.open({ projectId, cols: 80, rows: 24 })]) {
    await assert.rejects(call, (e: Error & { code?: string }) => {
      assert.equal(e.code, 'SERVICE_UNAVAILABLE');
      assert.match(e.message, /sandbox is not available: bubblewrap \(bwrap\) not found/);
      return true;
    });
  }
  assert.equal(await db.prisma.run.count({ where: { projectId } }), 0);
});
