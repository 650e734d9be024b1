// External agents over ACP, end to end below HTTP: createCaller on a real database (PGlite), a real
// SyncServer, a real bubblewrap sandbox running the scripted ACP agent (written with the official
// SDK, bundled, mounted read-only) as the run's process. Covers the mapping (reads see live
// documents, writes become the changeset, a command through terminal/* after a permission prompt
// with output streamed, thoughts / plan / tool calls / messages in the transcript, steering as the
// next prompt, Stop as session/cancel then kill, direct disk writes harvested), every failure
// (missing binary, crash, malformed frame, hang, a method Tandem does not offer) and hostile users.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
const SECRET = "sk-it's-$(not)-a-secret";

before(async () => {
  db = await createPGliteTestDatabase();
  baseDir = mkdtempSync(join(tmpdir(), 'tandem-api-acp-'));
  chmodSync(baseDir, 0o711);
  // Registered as the app does, so the agent reads through the decoded texts kept current by the sync hooks.
  files = new LiveProjectFiles({ editDocument: (...a) => sync.editDocument(...a), readDocument: (name, read) => sync.readDocument(name, read), touch: (name) => sync.touch(name) });
  sync = new SyncServer({
    store: new PrismaDocumentStore(db.prisma),
    onAuthenticate: () => { throw new AppError('UNAUTHENTICATED', 'No clients in this test.'); },
    extensions: [files.syncExtension],
  });
  host = new SandboxHost({ rootDir: join(baseDir, 'sandboxes'), cgroupName: 'tandem-api-acp-test', log: () => {} });
  fixture = fixtureAgent();
  agent = new AgentService({
    prisma: db.prisma, hub: services.hub, documents: sync, files, sandbox: host, commandTimeoutMs: 20_000, logError: () => {},
    acpAgents: [
      fixture.config,
      { ...fixture.config, id: 'missing', label: 'Missing agent', command: 'no-such-agent-binary', args: [] },
      { ...fixture.config, id: 'other', label: 'Not enabled' },
      { ...fixture.config, id: 'keyed', label: 'Keyed agent', env: { FIXTURE_SECRET: SECRET } },
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
  const user = { id: owner.id, name: owner.name };
  const ids: Record<string, string> = {};
  for (const [path, content] of Object.entries({ 'src/math.js': MATH, 'README.md': '# hi\n', '.env': 'SECRET=hunter2\n' })) {
    ids[path] = (await files.create(p.id, path, content, user)).fileId;
  }
  await t.callerFor(owner).agent.setExternalAgents({ projectId: p.id, enabled: ['fixture', 'missing', 'keyed'] });
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
    assert.ok(JSON.stringify(row.transcript).includes('"kind":"plan"'));
    // Its reported usage per turn, TTFT, tok/s and steps (3 tool calls + the answer, then 1), as the built-in agent's record has them.
    const { turns } = await agent.get(projectId, view.id);
    assert.deepEqual(turns.map((x) => [x.turn, x.promptTokens, x.completionTokens, x.steps]), [[1, 1700, 300, 4], [2, 1500, 20, 1]]);
    assert.ok(turns.every((x) => x.ttftMs !== null && x.ttftMs <= x.durationMs && x.tokensPerSecond !== null && x.tokensPerSecond > 0), JSON.stringify(turns));
    assert.deepEqual([run.steps, run.tokens], [5, 3520]);
    // The same totals from the stored record (what a restarted server lists on the AI activity page).
    const restarted = new AgentService({ prisma: db.prisma, hub: services.hub, documents: sync, files, sandbox: host, acpAgents: [fixture.config], logError: () => {} });
    const stored = (await restarted.list(projectId)).find((r) => r.id === view.id);
    assert.deepEqual([stored?.steps, stored?.tokens, stored?.provider], [5, 3520, 'Fixture agent']);
    await restarted.close();
    await until('the agent process to be gone', () => host.activeRuns(workingCopyId(view.id)).length === 0, 10_000);
  });

  test('a denied command is refused to the agent, which carries on', async () => {
    const { projectId, users } = await project();
    const view = await t.callerFor(users.editor).agent.start({ projectId, task: 'Add multiply.', agent: 'fixture' });
    const asked = await until('the permission prompt', async () => (await agent.get(projectId, view.id)).run.pendingPermission);
    await t.callerFor(users.owner).agent.answerPermission({ projectId, runId: view.id, requestId: asked.requestId, optionId: 'deny' });
    const { run, items } = await finished(projectId, view.id);
    assert.equal(run.status, 'ready');
    assert.ok(messages(items).includes('Permission denied; skipping the command.'));
    assert.ok(!items.some((i) => i.kind === 'tool_call' && i.name === 'terminal'), 'nothing ran');
  });

  test('files written straight to disk in the sandbox are added to the changeset after the turn', async () => {
    const { projectId, users, ids } = await project();
    const view = await t.callerFor(users.owner).agent.start({ projectId, task: 'disk', agent: 'fixture' });
    const { run, items } = await finished(projectId, view.id);
    assert.equal(run.status, 'ready', String(run.error));
    assert.ok(items.some((i) => i.kind === 'notice' && i.text.includes('directly on disk')));
    assert.ok(messages(items).includes('Disk had: export const add = (a, b) => a + b; // via fs Disk kept.'), 'fs/* writes reach the disk its shell sees, and leave its own disk changes there');
    const changeset = await agent.changeset(projectId, view.id);
    assert.deepEqual(changeset.files.map((f) => [f.path, f.kind]).sort(), [['gen/direct.txt', 'create'], ['src/after.js', 'create'], ['src/math.js', 'modify']]);
    const math = JSON.stringify(changeset.files.find((f) => f.path === 'src/math.js'));
    assert.ok(math.includes('// via fs') && math.includes('// then on disk'), `both changes kept, in order: ${math}`);
    assert.equal(await liveText(projectId, ids['src/math.js']!), MATH, 'still only a proposal');
    // No usage reported: the turn is recorded without tokens (not as zero of them).
    const { turns } = await agent.get(projectId, view.id);
    assert.deepEqual(turns.map((x) => [x.promptTokens, x.completionTokens, x.tokensPerSecond, x.steps]), [[null, null, null, 1]]);
    assert.equal(run.tokens, 0);
  });

  test('forbidden and outside paths are refused to the agent (and .env never reaches its sandbox)', async () => {
    const { projectId, users } = await project();
    const view = await t.callerFor(users.owner).agent.start({ projectId, task: 'forbidden', agent: 'fixture' });
    const { run, items } = await finished(projectId, view.id);
    assert.equal(run.status, 'ready');
    const report = messages(items).join('\n');
    assert.match(report, /\/project\/\.env: .*off limits/);
    assert.match(report, /\/etc\/passwd: .*outside the project/);
    assert.match(report, /\/project\/\.\.\/etc\/passwd: .*not a valid path/);
    assert.match(report, /write \.env: .*off limits/);
    assert.ok(!report.includes('READ') && !report.includes('WROTE') && !report.includes('hunter2'));
    assert.deepEqual((await agent.changeset(projectId, view.id)).files, []);
  });

  test('after a server restart the run is interrupted with a message saying it cannot resume; its changeset stays reviewable', async () => {
    const { projectId, users } = await project();
    const view = await t.callerFor(users.owner).agent.start({ projectId, task: 'disk', agent: 'fixture' });
    await finished(projectId, view.id);
    await until('the record of the ended run', async () => (await db.prisma.agentRun.findUniqueOrThrow({ where: { id: view.id } })).status === 'ready');
    // The row says running, as a server that died mid-run leaves it; a fresh service recovers it.
    await db.prisma.agentRun.update({ where: { id: view.id }, data: { status: 'running' } });
    const restarted = new AgentService({ prisma: db.prisma, hub: services.hub, documents: sync, files, sandbox: host, acpAgents: [fixture.config], logError: () => {} });
    assert.equal(await restarted.recoverInterrupted(projectId), 1);
    const reloaded = await restarted.get(projectId, view.id);
    assert.equal(reloaded.run.status, 'interrupted');
    assert.match(reloaded.run.error ?? '', /external agent's process ended with it; an external agent's run cannot be resumed.*changeset stays reviewable/);
    assert.deepEqual(reloaded.changeset.files.map((f) => f.path).sort(), ['gen/direct.txt', 'src/after.js', 'src/math.js']);
    await restarted.close();
  });

  test('Stop sends session/cancel, the agent winds down, its process is gone', async () => {
    const { projectId, users } = await project();
    const view = await t.callerFor(users.owner).agent.start({ projectId, task: 'wait', agent: 'fixture' });
    await until('the agent to start working', async () => messages((await agent.get(projectId, view.id)).items).includes('Working until cancelled.'));
    assert.equal(host.activeRuns(workingCopyId(view.id)).length, 1);
    const stopped = await t.callerFor(users.editor).agent.stop({ projectId, runId: view.id });
    assert.equal(stopped.status, 'stopped');
    await until('the agent process to be gone', () => host.activeRuns(workingCopyId(view.id)).length === 0, 15_000);
    const { run } = await finished(projectId, view.id);
    assert.equal(run.status, 'stopped');
    assert.equal(run.error, null);
  });
});

describe('an external agent that fails', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['a missing binary', 'missing', 'anything', /Missing agent could not start: .*no-such-agent-binary/],
    ['a crash', 'fixture', 'crash', /Fixture agent exited with code 3 during the run: fixture: boom/],
    ['a malformed frame', 'fixture', 'malformed', /Fixture agent sent a malformed JSON-RPC frame: "this is not json"/],
    ['a hang', 'fixture', 'hang', /stopped responding \(nothing for 6 s/],
    ['missing credentials', 'fixture', 'signin', /Fixture agent needs credentials: Authentication required\. Set its API key/],
    ['a frame over the size cap', 'fixture', 'huge', /Fixture agent sent a JSON-RPC frame over 8 MiB/],
    ['a capability Tandem does not offer', 'fixture', 'elicit', /asked for "elicitation\/create", which Tandem does not offer/],
  ];
  for (const [what, id, task, message] of cases) {
    test(`${what} ends the run as failed with a message saying so`, async () => {
      const { projectId, users } = await project();
      const view = await t.callerFor(users.owner).agent.start({ projectId, task, agent: id });
      const { run, items } = await finished(projectId, view.id);
      assert.equal(run.status, 'failed');
      assert.match(run.error ?? '', message);
      assert.ok(items.some((i) => i.kind === 'notice' && i.tone === 'error' && message.test(i.text)));
      await until('the agent process to be gone', () => host.activeRuns(workingCopyId(view.id)).length === 0, 15_000);
    });
  }

  test('an agent that floods tool calls is cancelled at the project\'s step limit', async () => {
    const { projectId, users } = await project();
    await t.callerFor(users.owner).agent.setPolicy({
      projectId, checkCommand: null,
      policy: { starters: 'editors', maxSteps: 25, maxTokens: 200_000, allowedCommands: [], forbiddenPaths: ['.env'] },
    });
    const view = await t.callerFor(users.owner).agent.start({ projectId, task: 'flood', agent: 'fixture' });
    const { run, items } = await finished(projectId, view.id);
    assert.equal(run.status, 'ready');
    assert.ok(items.some((i) => i.kind === 'notice' && /step limit \(25 tool calls\)/.test(i.text)));
    const calls = items.filter((i) => i.kind === 'tool_call').length;
    assert.ok(calls > 25 && calls < 2000, `stopped soon after the limit (${calls} tool calls kept)`);
  });

  test('past the project\'s token limit (as the agent reports its usage) steering is not sent on', async () => {
    const { projectId, users } = await project();
    await t.callerFor(users.owner).agent.setPolicy({
      projectId, checkCommand: null,
      policy: { starters: 'editors', maxSteps: 30, maxTokens: 1000, allowedCommands: [], forbiddenPaths: ['.env'] },
    });
    const view = await t.callerFor(users.owner).agent.start({ projectId, task: 'Add multiply.', agent: 'fixture' });
    // Queued while its first turn (2,000 tokens reported) is still working.
    const asked = await until('the permission prompt', async () => (await agent.get(projectId, view.id)).run.pendingPermission);
    await t.callerFor(users.editor).agent.steer({ projectId, runId: view.id, text: 'Keep going.' });
    await t.callerFor(users.editor).agent.answerPermission({ projectId, runId: view.id, requestId: asked.requestId, optionId: 'deny' });
    const { run, items } = await finished(projectId, view.id);
    assert.equal(run.status, 'ready');
    assert.equal(run.tokens, 2000);
    assert.ok(items.some((i) => i.kind === 'notice' && /token limit \(1000\)/.test(i.text)), JSON.stringify(items.slice(-3)));
    assert.ok(!messages(items).some((m) => m.startsWith('Steered:')), 'the steering prompt was not sent');
  });

  test('the server is unaffected: the next run in the same project works', async () => {
    const { projectId, users } = await project();
    const crashed = await t.callerFor(users.owner).agent.start({ projectId, task: 'crash', agent: 'fixture' });
    assert.equal((await finished(projectId, crashed.id)).run.status, 'failed');
    const next = await t.callerFor(users.owner).agent.start({ projectId, task: 'disk', agent: 'fixture' });
    assert.equal((await finished(projectId, next.id)).run.status, 'ready');
  });
});

describe('who may use external agents', () => {
  test('the agent gets its API key, which never appears on a command line on the host', async () => {
    const { projectId, users } = await project();
    const view = await t.callerFor(users.owner).agent.start({ projectId, task: 'secret', agent: 'keyed' });
    await until('the agent to report its key', async () => messages((await agent.get(projectId, view.id)).items).some((m) => m.includes('secret=')));
    const said = messages((await agent.get(projectId, view.id)).items).join('\n').split('\n');
    assert.ok(said.includes(`secret=${SECRET}`), `delivered intact (quotes, $ and parentheses): ${said.join(' / ')}`);
    const leaks: string[] = [];
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('a-secret')) leaks.push(pid);
      } catch {
        // gone meanwhile
      }
    }
    assert.deepEqual(leaks, [], 'no process shows the key in its argv');
    await t.callerFor(users.owner).agent.stop({ projectId, runId: view.id });
    await finished(projectId, view.id);
  });

  test('viewers and strangers cannot start, steer or see; only the owner enables agents; only enabled, configured agents run', async () => {
    const { projectId, users } = await project();
    const as = (u: PublicUser) => t.callerFor(u).agent;
    await assert.rejects(as(users.viewer).start({ projectId, task: 'disk', agent: 'fixture' }), /Viewers cannot start/);
    await assert.rejects(as(users.stranger).start({ projectId, task: 'disk', agent: 'fixture' }), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
    await assert.rejects(as(users.stranger).externalAgents({ projectId }), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
    await assert.rejects(as(users.editor).setExternalAgents({ projectId, enabled: ['other'] }), (e: Error & { code?: string }) => e.code === 'FORBIDDEN');
    await assert.rejects(as(users.owner).setExternalAgents({ projectId, enabled: ['nope'] }), /No external agent "nope"/);
    await assert.rejects(as(users.editor).start({ projectId, task: 'disk', agent: 'other' }), /not enabled in this project/);
    await assert.rejects(as(users.editor).start({ projectId, task: 'disk', agent: 'nope' }), /No external agent "nope"/);
    const listed = await as(users.viewer).externalAgents({ projectId });
    assert.deepEqual(listed.agents.map((a) => [a.id, a.enabled]), [['fixture', true], ['missing', true], ['other', false], ['keyed', true]]);
    assert.equal(listed.canChange, false);
    assert.ok(!JSON.stringify(listed).includes('agent.mjs') && !JSON.stringify(listed).includes('a-secret'), 'commands, mounts and keys stay on the server');

    const view = await as(users.editor).start({ projectId, task: 'wait', agent: 'fixture' });
    await assert.rejects(as(users.viewer).steer({ projectId, runId: view.id, text: 'hi' }), /Viewers/);
    await assert.rejects(as(users.viewer).stop({ projectId, runId: view.id }), /Viewers/);
    await assert.rejects(as(users.stranger).get({ projectId, runId: view.id }), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
    await assert.rejects(as(users.stranger).stop({ projectId, runId: view.id }), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
    await as(users.editor).stop({ projectId, runId: view.id });
    await finished(projectId, view.id);
  });
});
