// External agents over ACP, end to end below HTTP: createCaller on a real database (PGlite), a real
// SyncServer, a real bubblewrap sandbox running the scripted ACP agent (written with the official
// SDK, bundled, mounted read-only) as the run's process. Covers the mapping (reads see live
// documents, writes become the changeset, a command through terminal/* after a permission prompt
// with output streamed, thoughts / plan / tool calls / messages in the transcript, steering as the
// next prompt, Stop as session/cancel then kill, direct disk writes harvested), every failure
// (missing binary, crash, malformed frame, hang, a method Tandem does not offer) and hostile users.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { PrismaDocumentStore } from '@tandem/db';
import { SyncServer } from '@tandem/collab';
import { AGENT_EVENTS, AppError, FILE_TEXT, fileDocName, type AgentItem, type AgentOutputEvent, type AgentRunView } from '@tandem/protocol';
import { SandboxHost } from '@tandem/sandbox';
import type { PublicUser } from '@tandem/auth';
import { callerFactory, RecordedEvents, testServices } from '../../testing.ts';
import { projectChannel, type HubEvent } from '../../EventHub.ts';
import { LiveProjectFiles } from '../../sandbox/LiveProjectFiles.ts';
import { AgentService } from '../AgentService.ts';
import { workingCopyId } from '../LiveAgentRun.ts';
import { fixtureAgent } from './testing/fixtureAgentConfig.ts';

let db: TestDatabase;
let baseDir: string;
let sync: SyncServer;
let files: LiveProjectFiles;
let agent: AgentService;
let host: SandboxHost;
let fixture: ReturnType<typeof fixtureAgent>;
let t: ReturnType<typeof callerFactory>;
const services = testServices();

const IDLE_MS = 6000;

before(async () => {
  db = await createPGliteTestDatabase();
  baseDir = mkdtempSync(join(tmpdir(), 'tandem-api-acp-'));
  chmodSync(baseDir, 0o711);
  sync = new SyncServer({
    store: new PrismaDocumentStore(db.prisma),
    onAuthenticate: () => { throw new AppError('UNAUTHENTICATED', 'No clients in this test.'); },
  });
  files = new LiveProjectFiles(sync);
  host = new SandboxHost({ rootDir: join(baseDir, 'sandboxes'), cgroupName: 'tandem-api-acp-test', log: () => {} });
  fixture = fixtureAgent();
  agent = new AgentService({
    prisma: db.prisma, hub: services.hub, documents: sync, sandbox: host, commandTimeoutMs: 20_000, logError: () => {},
    acpAgents: [
      fixture.config,
      { ...fixture.config, id: 'missing', label: 'Missing agent', command: 'no-such-agent-binary', args: [] },
      { ...fixture.config, id: 'other', label: 'Not enabled' },
    ],
    acpOptions: { idleTimeoutMs: IDLE_MS, cancelGraceMs: 2000 },
  });
  t = callerFactory(db.prisma, undefined, new RecordedEvents(), { ...services, agent });
});

after(async () => {
  await agent.close();
  await host.close();
  await sync.close();
  await db.destroy();
  fixture.dispose();
  rmSync(baseDir, { recursive: true, force: true });
});

const MATH = 'export const add = (a, b) => a + b;\n';

async function project() {
  const owner = await t.signUp('Owner');
  const p = await t.callerFor(owner).projects.create({ name: 'ACP', template: 'empty' });
  const users = { owner } as Record<'owner' | 'editor' | 'viewer' | 'stranger', PublicUser>;
  users.stranger = await t.signUp('Stranger');
  for (const role of ['editor', 'viewer'] as const) {
    const u = await t.signUp(role === 'editor' ? 'Bea' : 'Cy');
    const inv = await t.callerFor(owner).invites.create({ projectId: p.id, role });
    await t.callerFor(u).invites.accept({ token: inv.token });
    users[role] = u;
  }
  const user = { id: owner.id, name: owner.name, canWrite: true };
  const ids: Record<string, string> = {};
  for (const [path, content] of Object.entries({ 'src/math.js': MATH, 'README.md': '# hi\n', '.env': 'SECRET=hunter2\n' })) {
    ids[path] = (await files.create(p.id, path, content, user)).fileId;
  }
  await t.callerFor(owner).agent.setExternalAgents({ projectId: p.id, enabled: ['fixture', 'missing'] });
  return { projectId: p.id, users, ids };
}

function record(projectId: string, userId: string) {
  const events: HubEvent[] = [];
  const abort = new AbortController();
  void (async () => {
    for await (const e of services.hub.subscribe([projectChannel(projectId)], { projectId, userId, signal: abort.signal })) events.push(e);
  })();
  return { events, stop: () => abort.abort() };
}

async function until<T>(what: string, get: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function liveText(projectId: string, fileId: string): Promise<string> {
  let text = '';
  await sync.editDocument(fileDocName(projectId, fileId), (doc) => { text = doc.getText(FILE_TEXT).toString(); });
  return text;
}

async function finished(projectId: string, runId: string): Promise<{ run: AgentRunView; items: AgentItem[] }> {
  try {
    return await until('the run to end', async () => {
      const r = await agent.get(projectId, runId);
      return !['running', 'waiting_permission'].includes(r.run.status) && r;
    });
  } catch (e) {
    const r = await agent.get(projectId, runId);
    throw new Error(`${(e as Error).message}: ${r.run.status} ${JSON.stringify(r.items.slice(-6))}`);
  }
}

const messages = (items: AgentItem[]) => items.filter((i): i is Extract<AgentItem, { kind: 'agent_message' }> => i.kind === 'agent_message').map((i) => i.text);

describe('an external agent over ACP in the sandbox', () => {
  test('reads live documents, writes the changeset, runs a permitted command with output to everyone, streams its transcript, takes steering', async () => {
    const { projectId, users, ids } = await project();
    const owner = t.callerFor(users.owner);
    const watcher = record(projectId, users.viewer.id);
    // A collaborator's unsaved edit: the agent must read it.
    await sync.editDocument(fileDocName(projectId, ids['src/math.js']!), (doc) => doc.getText(FILE_TEXT).insert(0, '// by Bea\n'));
    const live = await liveText(projectId, ids['src/math.js']!);

    const view = await owner.agent.start({ projectId, task: 'Add multiply.', agent: 'fixture' });
    assert.equal(view.provider, 'Fixture agent');
    const asked = await until('the permission prompt', async () => (await agent.get(projectId, view.id)).run.pendingPermission);
    assert.equal(asked.command, 'cat src/new.js && echo ran-in-sandbox');
    // Steering while it waits: the agent gets it as its next prompt.
    await t.callerFor(users.editor).agent.steer({ projectId, runId: view.id, text: 'Also keep it short.' });
    await assert.rejects(t.callerFor(users.viewer).agent.answerPermission({ projectId, runId: view.id, requestId: asked.requestId, optionId: 'allow' }), /FORBIDDEN|Viewers/);
    await t.callerFor(users.editor).agent.answerPermission({ projectId, runId: view.id, requestId: asked.requestId, optionId: 'allow' });

    const { run, items } = await finished(projectId, view.id);
    assert.equal(run.status, 'ready', JSON.stringify(run.error));
    const said = messages(items);
    assert.ok(said.some((m) => m.includes(`math.js has ${live.length} characters`)), `reads see the live text: ${said.join(' / ')}`);
    assert.ok(said.some((m) => m.includes('Command exited 0: ran-in-sandbox')), said.join(' / '));
    assert.ok(said.some((m) => m === 'Steered: Bea (a participant watching you) says: Also keep it short.'), said.join(' / '));
    const thought = items.find((i) => i.kind === 'thought');
    assert.equal(thought?.kind === 'thought' && thought.text, 'Let me look at math.js first.');
    const plan = items.filter((i) => i.kind === 'plan');
    assert.equal(plan.length, 1, 'one plan item, updated in place');
    assert.deepEqual(plan[0]!.kind === 'plan' && plan[0]!.entries.map((e) => e.status), ['completed', 'completed']);
    const tools = items.filter((i): i is Extract<AgentItem, { kind: 'tool_call' }> => i.kind === 'tool_call');
    assert.deepEqual(tools.map((i) => [i.toolCallId, i.status]), [['read-1', 'completed'], ['edit-1', 'completed'], ['run-1', 'completed'], ['terminal-term-1', 'completed']]);
    assert.deepEqual(tools[0]!.locations, [{ path: 'src/math.js' }], 'sandbox paths shown as project paths');
    assert.equal(tools[3]!.command?.exitCode, 0);
    const permission = items.find((i) => i.kind === 'permission');
    assert.equal(permission?.kind === 'permission' && permission.outcome?.outcome === 'selected' && permission.outcome.by.name, 'Bea');

    // Everyone watching saw the same: items, deltas, the command's output as it streamed.
    const output = watcher.events.filter((e) => e.type === AGENT_EVENTS.output).map((e) => (e.data as AgentOutputEvent).text).join('');
    assert.match(output, /console\.log\("new file"\);\nran-in-sandbox/);
    assert.ok(watcher.events.some((e) => e.type === AGENT_EVENTS.item && (e.data as { item: AgentItem }).item.kind === 'plan'));
    watcher.stop();

    // Writes went to the changeset, never the shared files.
    assert.equal(await liveText(projectId, ids['src/math.js']!), live);
    const changeset = await owner.agent.changeset({ projectId, runId: view.id });
    assert.deepEqual(changeset.files.map((f) => [f.path, f.kind]).sort(), [['src/math.js', 'modify'], ['src/new.js', 'create']]);
    // The group takes part of it.
    await t.callerFor(users.editor).agent.acceptAll({ projectId, runId: view.id, path: 'src/new.js' });
    await t.callerFor(users.editor).agent.rejectAll({ projectId, runId: view.id, path: 'src/math.js' });
    assert.ok((await files.paths(projectId)).has('src/new.js'), 'the accepted file exists for everyone');
    assert.equal(await liveText(projectId, ids['src/math.js']!), live);

    // The record: who, which agent, the whole transcript.
    const row = await db.prisma.agentRun.findUniqueOrThrow({ where: { id: view.id } });
    assert.equal(row.provider, 'acp:fixture');
    assert.ok((row.transcript as AgentItem[]).some((i) => i.kind === 'plan'));
    await until('the agent process to be gone', () => host.activeRuns(workingCopyId(view.id)).length === 0, 10_000);
  });
});
