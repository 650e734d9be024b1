// Agent runs through createCaller on a real database (PGlite), a real SyncServer (documents), a
// real sandbox host (bubblewrap + cgroups) and the OpenAI-style test server over HTTP scripting
// the model's streamed tool calls. Covers the scripted read → edit → test → fail → fix → finish
// run with a person editing meanwhile, group review (accept two files, reject one, undo),
// malformed tool JSON, forbidden and outside paths, permission prompts (allow / deny, viewers
// refused), a drop and a 429 mid-run, steering and Stop, and hostile members and strangers.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPGliteTestDatabase, type TestDatabase } from '@tandem/db/testing';
import { PrismaDocumentStore } from '@tandem/db';
import { SyncServer } from '@tandem/collab';
import {
  AGENT_EVENTS, AppError, FILE_TEXT, fileDocName, type AgentItem, type AgentRunView, type AgentDeltaEvent,
} from '@tandem/protocol';
import { SandboxHost } from '@tandem/sandbox';
import { createProvidersFromConfig } from '@tandem/inference';
import { OpenAITestServer, type RecordedRequest, type ScriptedTurn } from '@tandem/inference/testing';
import type { PublicUser } from '@tandem/auth';
import { callerFactory, RecordedEvents } from '../testing.ts';
import { EventHub, projectChannel, type HubEvent } from '../EventHub.ts';
import { AiService } from '../ai/AiService.ts';
import { LiveProjectFiles } from '../sandbox/LiveProjectFiles.ts';
import { CommentService } from '../comments/CommentService.ts';
import { AgentService } from './AgentService.ts';

let db: TestDatabase;
let baseDir: string;
let model: OpenAITestServer;
let sync: SyncServer;
let hub: EventHub;
let files: LiveProjectFiles;
let agent: AgentService;
let host: SandboxHost;
let t: ReturnType<typeof callerFactory>;

before(async () => {
  db = await createPGliteTestDatabase();
  baseDir = mkdtempSync(join(tmpdir(), 'tandem-api-agent-'));
  chmodSync(baseDir, 0o711);
  model = new OpenAITestServer({ tokensPerSecond: 3000 });
  const baseUrl = await model.listen();
  hub = new EventHub();
  // Registered as the app does, so the agent reads through the decoded texts kept current by the sync hooks.
  files = new LiveProjectFiles({ editDocument: (...a) => sync.editDocument(...a), readDocument: (name, read) => sync.readDocument(name, read), touch: (name) => sync.touch(name) });
  sync = new SyncServer({
    store: new PrismaDocumentStore(db.prisma),
    onAuthenticate: () => { throw new AppError('UNAUTHENTICATED', 'No clients in this test.'); },
    extensions: [files.syncExtension],
  });
  host = new SandboxHost({ rootDir: join(baseDir, 'sandboxes'), cgroupName: 'tandem-api-agent-test', log: () => {} });
  agent = new AgentService({
    prisma: db.prisma, hub, documents: sync, files, sandbox: host, commandTimeoutMs: 20_000,
    runnerOptions: { maxRetryWaitMs: 2000 }, logError: () => {},
  });
  const ai = new AiService({
    registry: createProvidersFromConfig({ providers: [{ kind: 'openai-compatible', id: 'test', label: 'Scripted', baseUrl, model: 'scripted-model' }] }),
    hub, notConfiguredHint: 'none', limits: { perUser: { limit: 1000, windowMs: 60_000 }, perProject: { limit: 1000, windowMs: 60_000 } },
  });
  t = callerFactory(db.prisma, undefined, new RecordedEvents(), { hub, ai, agent, comments: new CommentService(db.prisma, hub) });
});

after(async () => {
  await agent.close();
  await host.close();
  await sync.close();
  await model.close();
  await db.destroy();
  rmSync(baseDir, { recursive: true, force: true });
});

const MATH = 'export function add(a, b) {\n  return a - b;\n}\n\nexport function double(x) {\n  return x * 3;\n}\n';
const GREET = 'export function greet(name) {\n  return "Hi " + name;\n}\n';
const TEST = [
  "import { add, double } from './src/math.js';",
  "import { greet } from './src/greet.js';",
  "if (add(2, 3) !== 5) { console.error('add is wrong: ' + add(2, 3)); process.exit(1); }",
  "if (double(4) !== 8) { console.error('double is wrong: ' + double(4)); process.exit(1); }",
  "if (greet('Ann') !== 'Hello, Ann!') { console.error('greet is wrong'); process.exit(1); }",
  "console.log('all tests passed');",
  '',
].join('\n');

async function project() {
  const owner = await t.signUp('Owner');
  const p = await t.callerFor(owner).projects.create({ name: 'Agent', template: 'empty' });
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
  for (const [path, content] of Object.entries({ 'package.json': '{"type":"module"}\n', 'src/math.js': MATH, 'src/greet.js': GREET, 'test.js': TEST, '.env': 'SECRET=hunter2\n' })) {
    ids[path] = (await files.create(p.id, path, content, user)).fileId;
  }
  return { projectId: p.id, users, ids };
}

function record(projectId: string, userId: string) {
  const events: HubEvent[] = [];
  const abort = new AbortController();
  void (async () => {
    for await (const e of hub.subscribe([projectChannel(projectId)], { projectId, userId, signal: abort.signal })) events.push(e);
  })();
  return { events, stop: () => abort.abort() };
}

async function until<T>(what: string, get: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function readLive(projectId: string): Promise<Record<string, string>> {
  return Object.fromEntries((await files.read(projectId)).map((f) => [f.path, f.content]));
}

const call = (name: string, args: unknown) => ({ name, arguments: JSON.stringify(args) });
const toolResults = (r: RecordedRequest) => (r.body!.messages as Array<{ role: string; content: string }>).filter((m) => m.role === 'tool').map((m) => m.content);
const lastToolResult = (r: RecordedRequest) => toolResults(r).at(-1) ?? '';

async function finished(projectId: string, runId: string, caller: ReturnType<typeof t.callerFor>): Promise<AgentRunView> {
  return until('the run to end', async () => {
    const { run } = await caller.agent.get({ projectId, runId });
    return run.status !== 'running' && run.status !== 'waiting_permission' ? run : null;
  });
}

describe('agent runs', () => {
  test('read → edit two files → tests fail → fix → tests pass → finish; review accepts two files, rejects one; undo', async () => {
    const { projectId, users, ids } = await project();
    const rec = record(projectId, users.viewer.id);
    const A = t.callerFor(users.owner);
    const B = t.callerFor(users.editor);
    const C = t.callerFor(users.viewer);
    let humanEdited = false;
    model.configure({
      turns: (request, n): ScriptedTurn | undefined => {
        switch (n) {
          case 0: return { content: 'Let me look at the code.', toolCalls: [call('read_file', { path: 'src/math.js' }), call('search', { pattern: 'return', folder: 'src' })] };
          case 1: return {
            toolCalls: [
              call('edit_file', { path: 'src/math.js', edits: [{ search: 'return a - b;', replace: 'return a + b;' }] }),
              call('write_file', { path: 'src/greet.js', content: 'export function greet(name) {\n  return `Hello, ${name}!`;\n}\n' }),
              call('create_file', { path: 'src/notes.md', content: '# Notes\n' }),
            ],
          };
          case 2: return { toolCalls: [call('run_command', { command: 'node test.js' })] };
          case 3: {
            assert.match(lastToolResult(request), /Exit code: 1[\s\S]*double is wrong: 12/);
            return { content: 'double is wrong too.', toolCalls: [call('edit_file', { path: 'src/math.js', edits: [{ search: 'x * 3', replace: 'x * 2' }] })] };
          }
          case 4: return { toolCalls: [call('run_command', { command: 'node test.js' })] };
          case 5: {
            assert.match(lastToolResult(request), /Exit code: 0[\s\S]*all tests passed/);
            return { toolCalls: [call('finish', { summary: 'Fixed add, double and greet.' })] };
          }
          default: return { content: 'unexpected turn' };
        }
      },
    });
    const started = await A.agent.start({ projectId, task: 'Make the tests pass.' });
    assert.equal(started.status, 'running');
    // A person edits math.js while the agent works: a comment at the top, away from the hunks.
    await until('the agent to have read math.js', () => model.requests.length >= 2);
    await sync.editDocument(fileDocName(projectId, ids['src/math.js']!), (doc) => doc.getText(FILE_TEXT).insert(0, '// shared math\n'));
    humanEdited = true;

    const run = await finished(projectId, started.id, B);
    assert.ok(humanEdited);
    assert.equal(run.status, 'ready', run.error ?? '');
    assert.equal(run.lastCheck?.exitCode, 0);
    assert.equal(run.steps, 6);
    const { items, turns, changeset } = await C.agent.get({ projectId, runId: started.id });
    const tools = items.filter((i): i is Extract<AgentItem, { kind: 'tool_call' }> => i.kind === 'tool_call');
    assert.deepEqual(tools.map((i) => [i.name, i.status]), [
      ['read_file', 'completed'], ['search', 'completed'], ['edit_file', 'completed'], ['write_file', 'completed'], ['create_file', 'completed'],
      ['run_command', 'failed'], ['edit_file', 'completed'], ['run_command', 'completed'], ['finish', 'completed'],
    ]);
    assert.deepEqual(tools.filter((i) => i.command).map((i) => i.command!.exitCode), [1, 0]);
    assert.ok(tools.every((i) => i.durationMs !== null));
    assert.equal(turns.length, 6);
    assert.ok(turns.every((x) => (x.completionTokens ?? 0) > 0 && x.ttftMs !== null));
    // Everyone saw the agent's text stream and the command output live.
    const deltas = rec.events.filter((e) => e.type === AGENT_EVENTS.delta).map((e) => e.data as AgentDeltaEvent);
    assert.ok(deltas.some((d) => d.text.length > 0));
    // Each delta says where it starts, so a tab that loads the transcript meanwhile can merge.
    for (const item of items) {
      if (item.kind !== 'agent_message') continue;
      let at = 0;
      for (const d of deltas.filter((x) => x.seq === item.seq)) {
        assert.equal(d.offset, at);
        at += d.text.length;
      }
      assert.equal(at, item.text.length);
    }
    assert.ok(rec.events.some((e) => e.type === AGENT_EVENTS.output && String((e.data as { text: string }).text).includes('all tests passed')));
    // The search answers with paths and line numbers.
    const searchResult = toolResults(model.requests[1]!).find((r) => r.includes('src/math.js:'));
    assert.match(searchResult ?? '', /src\/math\.js:2: {3}return a - b;/);

    // Nothing reached the shared documents yet.
    const before = await readLive(projectId);
    assert.equal(before['src/math.js'], '// shared math\n' + MATH);
    assert.equal(before['src/notes.md'], undefined);
    assert.deepEqual(changeset.files.map((f) => [f.kind, f.path]).sort(), [['create', 'src/notes.md'], ['modify', 'src/greet.js'], ['modify', 'src/math.js']]);
    assert.ok(changeset.files.every((f) => f.hunks.every((h) => h.status === 'intact')));

    // C (viewer) comments on one change of the changeset: the thread names the run and sits on the hunk's own anchor.
    const mathFile = changeset.files.find((f) => f.path === 'src/math.js')!;
    const change = mathFile.hunks[0]!;
    assert.ok(mathFile.fileId && change.anchor, 'a content hunk carries its file and anchor');
    const onChange = { projectId, fileId: mathFile.fileId, anchorStart: change.anchor.start, anchorEnd: change.anchor.end, excerpt: change.removed, body: 'Why a + b?' };
    assert.equal((await C.comments.create({ ...onChange, suggestionId: started.id })).suggestionId, started.id);
    await assert.rejects(C.comments.create({ ...onChange, suggestionId: '00000000-0000-4000-8000-000000000000' }), /not in this file/);

    // C (viewer) cannot decide; B accepts two files; A rejects the created one.
    await assert.rejects(C.agent.acceptAll({ projectId, runId: started.id }), /Viewers cannot/);
    await B.agent.acceptAll({ projectId, runId: started.id, path: 'src/math.js' });
    await B.agent.acceptAll({ projectId, runId: started.id, path: 'src/greet.js' });
    await A.agent.rejectAll({ projectId, runId: started.id, path: 'src/notes.md' });
    const after = await readLive(projectId);
    assert.equal(after['src/math.js'], '// shared math\n' + MATH.replace('a - b', 'a + b').replace('x * 3', 'x * 2'));
    assert.equal(after['src/greet.js'], 'export function greet(name) {\n  return `Hello, ${name}!`;\n}\n');
    assert.equal(after['src/notes.md'], undefined);
    assert.equal((await A.agent.get({ projectId, runId: started.id })).run.status, 'applied');

    // Run checks on what is now live (+ nothing pending): the result is attached for everyone.
    await A.agent.setPolicy({ projectId, policy: (await A.agent.policy({ projectId })).policy, checkCommand: 'node test.js' });
    const check = await B.agent.runChecks({ projectId, runId: started.id });
    assert.equal(check.exitCode, 0);
    assert.equal((await C.agent.get({ projectId, runId: started.id })).run.lastCheck?.by?.name, 'Bea');

    // One undo reverts the whole accepted change, keeping the person's edit.
    await C.agent.undo({ projectId, runId: started.id }).then(() => assert.fail('viewer undid'), (e: unknown) => assert.match(String(e), /cannot undo/));
    await A.agent.undo({ projectId, runId: started.id });
    const undone = await readLive(projectId);
    assert.equal(undone['src/math.js'], '// shared math\n' + MATH);
    assert.equal(undone['src/greet.js'], GREET);

    // The record: transcript, turns, review decisions, in the database.
    const row = await db.prisma.agentRun.findUniqueOrThrow({ where: { id: started.id } });
    assert.equal(row.model, 'scripted-model');
    const transcript = row.transcript as unknown as AgentItem[];
    assert.ok(transcript.some((i) => i.kind === 'notice' && i.text.startsWith('Bea accepted src/math.js')));
    assert.ok(transcript.some((i) => i.kind === 'notice' && i.text.startsWith('Owner undid')));
    assert.equal((row.turns as unknown[]).length, 6);
    rec.stop();
  });

  test('malformed tool JSON, forbidden and outside paths, unknown tools go back to the model', async () => {
    const { projectId, users } = await project();
    const A = t.callerFor(users.owner);
    model.configure({
      turns: [
        { toolCalls: [{ name: 'edit_file', arguments: '{"path": "src/math.js", "edits": [{"search": "a - b"' }] },
        { toolCalls: [call('read_file', { path: '.env' }), call('read_file', { path: '../../etc/passwd' }), call('write_file', { path: 'secrets/key.txt', content: 'x' })] },
        { toolCalls: [call('launch_missiles', {}), call('edit_file', { path: 'src/math.js', edits: [{ search: 'not in the file', replace: 'y' }] })] },
        { toolCalls: [call('search', { pattern: 'SECRET' }), call('list_files', {})] },
        { toolCalls: [call('finish', { summary: 'nothing' })] },
      ],
    });
    const started = await A.agent.start({ projectId, task: 'Try things.' });
    const run = await finished(projectId, started.id, A);
    assert.equal(run.status, 'ready');
    const requests = model.requests.slice(-4);
    assert.match(toolResults(requests[0]!)[0]!, /arguments of edit_file were not valid: the arguments are not valid JSON/);
    const [env, outside, secret] = toolResults(requests[1]!).slice(-3);
    assert.match(env!, /off limits/);
    assert.match(outside!, /not a valid path/);
    assert.match(secret!, /off limits/);
    const [unknown, nomatch] = toolResults(requests[2]!).slice(-2);
    assert.match(unknown!, /there is no tool "launch_missiles"/);
    assert.match(nomatch!, /search text was not found/);
    const [search, list] = toolResults(requests[3]!).slice(-2);
    assert.equal(search, 'No matches.', 'a search never reveals forbidden files');
    assert.ok(!list!.includes('.env'));
    const { changeset } = await A.agent.get({ projectId, runId: started.id });
    assert.deepEqual(changeset.files, []);
  });

  test('a tool call shows while the model generates it: pending with the arguments so far, then running, then done', async () => {
    const { projectId, users } = await project();
    const rec = record(projectId, users.viewer.id);
    const content = Array.from({ length: 120 }, (_, i) => `line ${i} of a long file`).join('\n');
    // ≈ 400 fragments of 8 characters at 3,000 per second: the call streams for ≈ 130 ms.
    model.configure({ turns: [{ toolCalls: [call('write_file', { path: 'src/long.txt', content })] }, { toolCalls: [call('finish', { summary: 'wrote' })] }] });
    const started = await t.callerFor(users.owner).agent.start({ projectId, task: 'Write a long file.' });
    await finished(projectId, started.id, t.callerFor(users.owner));
    rec.stop();
    const shown = rec.events
      .filter((e) => e.type === AGENT_EVENTS.item)
      .map((e) => (e.data as { item: AgentItem }).item)
      .filter((i): i is Extract<AgentItem, { kind: 'tool_call' }> => i.kind === 'tool_call' && i.name === 'write_file');
    assert.ok(shown.every((i) => i.seq === shown[0]!.seq), 'one transcript item from first fragment to result');
    assert.equal(shown[0]!.status, 'pending', 'the call is shown as soon as its name is known');
    const partial = shown.filter((i) => i.status === 'pending' && (i.inputText ?? '').length > 0);
    const fragments = Math.ceil(JSON.stringify({ path: 'src/long.txt', content }).length / 8);
    assert.ok(partial.length >= 1 && partial.length < fragments / 4, `throttled: ${partial.length} updates for ${fragments} fragments`);
    const last = partial.at(-1)!;
    assert.equal(last.title, 'Write src/long.txt');
    assert.deepEqual(last.locations, [{ path: 'src/long.txt' }]);
    assert.ok(JSON.stringify({ path: 'src/long.txt', content }).startsWith(last.inputText!), 'the arguments so far');
    assert.ok(last.inputText!.length < JSON.stringify({ path: 'src/long.txt', content }).length);
    assert.deepEqual(shown.slice(-2).map((i) => i.status), ['in_progress', 'completed']);
    assert.equal(shown.at(-1)!.inputText, undefined, 'the record keeps the parsed arguments only');
    assert.equal((shown.at(-1)!.rawInput as { content: string }).content, content);
  });

  test('a command outside the allowed patterns asks; viewers cannot answer; deny then allow', async () => {
    const { projectId, users } = await project();
    const A = t.callerFor(users.owner);
    const B = t.callerFor(users.editor);
    const C = t.callerFor(users.viewer);
    model.configure({
      turns: [
        { toolCalls: [call('run_command', { command: 'ls src' })] },
        { toolCalls: [call('run_command', { command: 'ls src; cat .env' })] },
        { toolCalls: [call('finish', { summary: 'listed' })] },
      ],
    });
    const started = await B.agent.start({ projectId, task: 'List the sources.' });
    const waiting = await until('the permission prompt', async () => {
      const { run } = await C.agent.get({ projectId, runId: started.id });
      return run.status === 'waiting_permission' ? run : null;
    });
    assert.equal(waiting.pendingPermission?.command, 'ls src');
    const requestId = waiting.pendingPermission!.requestId;
    await assert.rejects(C.agent.answerPermission({ projectId, runId: started.id, requestId, optionId: 'allow' }), /Viewers can watch/);
    await A.agent.answerPermission({ projectId, runId: started.id, requestId, optionId: 'deny' });
    await assert.rejects(B.agent.answerPermission({ projectId, runId: started.id, requestId, optionId: 'allow' }), /already answered/);
    const second = await until('the second prompt', async () => {
      const { run } = await C.agent.get({ projectId, runId: started.id });
      return run.status === 'waiting_permission' && run.pendingPermission?.requestId !== requestId ? run : null;
    });
    assert.equal(second.pendingPermission?.command, 'ls src; cat .env', 'shell chaining always asks');
    await B.agent.answerPermission({ projectId, runId: started.id, requestId: second.pendingPermission!.requestId, optionId: 'allow' });
    const run = await finished(projectId, started.id, A);
    assert.equal(run.status, 'ready');
    const results = toolResults(model.requests.at(-1)!);
    assert.match(results[0]!, /Owner denied running `ls src`/);
    assert.match(results[1]!, /greet\.js[\s\S]*math\.js/);
    assert.ok(!results[1]!.includes('hunter2'), 'the sandbox copy never contains forbidden files');
    const { items } = await C.agent.get({ projectId, runId: started.id });
    const permissions = items.filter((i): i is Extract<AgentItem, { kind: 'permission' }> => i.kind === 'permission');
    assert.deepEqual(permissions.map((p) => p.outcome && 'optionId' in p.outcome ? [p.outcome.optionId, p.outcome.by.name] : null), [['deny', 'Owner'], ['allow', 'Bea']]);
  });

  test('a drop mid-stream and a 429 are retried; a provider that keeps refusing fails the run, changeset kept', async () => {
    const { projectId, users } = await project();
    const A = t.callerFor(users.owner);
    model.configure({
      turns: [
        { toolCalls: [call('write_file', { path: 'src/greet.js', content: 'x\n' })], fault: { kind: 'drop', afterTokens: 3 } },
        { fault: { kind: 'rate_limit', retryAfterMs: 100 } },
        { toolCalls: [call('write_file', { path: 'src/greet.js', content: 'export const greet = (n) => `Hello, ${n}!`;\n' })] },
        { fault: { kind: 'rate_limit', retryAfterMs: 50 } },
        { fault: { kind: 'rate_limit', retryAfterMs: 50 } },
        { fault: { kind: 'rate_limit', retryAfterMs: 50 } },
      ],
    });
    const started = await A.agent.start({ projectId, task: 'Rewrite greet.' });
    const run = await finished(projectId, started.id, A);
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /rate limiting/);
    const { items, changeset } = await A.agent.get({ projectId, runId: started.id });
    const notices = items.filter((i) => i.kind === 'notice').map((i) => (i as { text: string }).text);
    assert.ok(notices.some((n) => /dropped[\s\S]*Retrying/.test(n)), notices.join('\n'));
    assert.ok(notices.filter((n) => /rate limiting[\s\S]*Retrying/.test(n)).length >= 2);
    assert.deepEqual(changeset.files.map((f) => f.path), ['src/greet.js'], 'the work before the failure stays reviewable');
    await A.agent.acceptAll({ projectId, runId: started.id });
    assert.equal((await readLive(projectId))['src/greet.js'], 'export const greet = (n) => `Hello, ${n}!`;\n');
  });

  test('steering reaches the next turn with its author; Stop aborts upstream and everyone sees it within 200 ms', async () => {
    const { projectId, users } = await project();
    const A = t.callerFor(users.owner);
    const B = t.callerFor(users.editor);
    const C = t.callerFor(users.viewer);
    const rec = record(projectId, users.viewer.id);
    model.configure({
      turns: (request, n) => {
        if (n === 0) return { content: 'Working on it '.repeat(20), toolCalls: [call('list_files', {})] };
        const msgs = request.body!.messages as Array<{ role: string; content: string }>;
        const steer = msgs.find((m) => m.role === 'user' && m.content.includes('use the helper'));
        return { content: steer ? `OK, ${steer.content}. `.repeat(200) : 'no steering seen' };
      },
      tokensPerSecond: 200,
    });
    const started = await A.agent.start({ projectId, task: 'Refactor.' });
    await until('the first text', () => rec.events.some((e) => e.type === AGENT_EVENTS.delta));
    await assert.rejects(C.agent.steer({ projectId, runId: started.id, text: 'hijack' }), /Viewers can watch/);
    await B.agent.steer({ projectId, runId: started.id, text: 'use the helper in utils.ts instead' });
    await until('the second turn', () => model.requests.at(-1)!.body !== undefined && model.scriptedTurns >= 2);
    const second = model.requests.at(-1)!;
    const steering = (second.body!.messages as Array<{ role: string; content: string }>).find((m) => m.content.includes('use the helper'));
    assert.match(steering!.content, /^Bea \(a participant watching you\) says: use the helper in utils\.ts instead$/);
    await until('the second turn to stream', () => rec.events.filter((e) => e.type === AGENT_EVENTS.delta).some((e) => (e.data as AgentDeltaEvent).text.includes('OK')));
    const stopAt = performance.now();
    await C.agent.stop({ projectId, runId: started.id }).then(() => assert.fail('viewer stopped'), (e: unknown) => assert.match(String(e), /Viewers/));
    const t0 = performance.now();
    await B.agent.stop({ projectId, runId: started.id });
    const seen = await until('stopped to reach a watcher', () => rec.events.find((e) => e.type === AGENT_EVENTS.run && (e.data as AgentRunView).status === 'stopped'), 2000);
    assert.ok(seen);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed < 200, `stopped seen after ${elapsed.toFixed(1)} ms`);
    const closed = await model.waitForClose(second.id, 2000);
    assert.equal(closed.outcome, 'closed_early', 'the upstream request was aborted');
    void stopAt;
    const { items, run } = await A.agent.get({ projectId, runId: started.id });
    assert.equal(run.status, 'stopped');
    assert.ok(items.some((i) => i.kind === 'user_message' && i.steering && i.author.name === 'Bea'));
    assert.ok(items.some((i) => i.kind === 'notice' && i.text === 'Stopped by Bea.'));
    rec.stop();
  });

  test('strangers see nothing, viewers cannot start; owner-only policy; the policy is validated', async () => {
    const { projectId, users } = await project();
    const A = t.callerFor(users.owner);
    const B = t.callerFor(users.editor);
    const C = t.callerFor(users.viewer);
    const S = t.callerFor(users.stranger);
    model.configure({ turns: [{ toolCalls: [call('finish', { summary: 'done' })] }] });
    const started = await B.agent.start({ projectId, task: 'Nothing.' });
    await finished(projectId, started.id, A);
    for (const attempt of [
      () => S.agent.list({ projectId }), () => S.agent.get({ projectId, runId: started.id }),
      () => S.agent.steer({ projectId, runId: started.id, text: 'x' }), () => S.agent.stop({ projectId, runId: started.id }),
      () => S.agent.acceptAll({ projectId, runId: started.id }), () => S.agent.start({ projectId, task: 'x' }),
      () => S.agent.undo({ projectId, runId: started.id }), () => S.agent.runChecks({ projectId, runId: started.id }),
    ]) {
      await assert.rejects(attempt(), /Project not found/);
    }
    await assert.rejects(C.agent.start({ projectId, task: 'x' }), /Viewers cannot start/);
    await assert.rejects(B.agent.setPolicy({ projectId, policy: { ...(await B.agent.policy({ projectId })).policy, starters: 'editors' }, checkCommand: null }), /owner role/);
    // A run id from another project is not found through this one.
    const other = await project();
    await assert.rejects(t.callerFor(other.users.owner).agent.get({ projectId: other.projectId, runId: started.id }), /No such agent run/);
    const policy = (await A.agent.policy({ projectId })).policy;
    await A.agent.setPolicy({ projectId, policy: { ...policy, starters: 'owner' }, checkCommand: null });
    await assert.rejects(B.agent.start({ projectId, task: 'x' }), /Only the owner/);
    await assert.rejects(A.agent.setPolicy({ projectId, policy: { ...policy, maxSteps: 0 }, checkCommand: null }));
    await assert.rejects(A.agent.start({ projectId, task: 'x'.repeat(9000) }));
  });

  test('forbidden paths are enforced for completion context too', async () => {
    const { projectId, users } = await project();
    const A = t.callerFor(users.owner);
    model.configure({ turns: undefined, tokens: ['x'] });
    const base = { projectId, tabId: 'tab1', language: 'javascript', prefix: 'const a = ', suffix: ';\n' };
    await assert.rejects(A.ai.complete({ ...base, requestId: 'r1', path: '.env', related: [] }), /off limits/);
    await assert.rejects(A.ai.complete({ ...base, requestId: 'r2', path: 'secrets/db/password.txt', related: [] }), /off limits/);
    const next = model.nextRequest();
    await A.ai.complete({ ...base, requestId: 'r3', path: 'src/a.js', related: [{ path: '.env', text: 'SECRET=hunter2' }, { path: 'src/b.js', text: 'export const b = 2;' }] });
    const sent = JSON.stringify((await next).body);
    assert.ok(!sent.includes('hunter2'), 'a forbidden file never reaches the model as context');
    assert.ok(sent.includes('export const b = 2;'), 'other context still does');
    // Completions read the policy from a cache (no query before the upstream request): a change
    // applies to the very next request.
    const policy = (await A.agent.policy({ projectId })).policy;
    await A.agent.setPolicy({ projectId, policy: { ...policy, forbiddenPaths: [...policy.forbiddenPaths, 'src/a.js'] }, checkCommand: null });
    await assert.rejects(A.ai.complete({ ...base, requestId: 'r4', path: 'src/a.js', related: [] }), /off limits/);
  });

  test('the step limit ends a run; after a restart a working run is interrupted and its changeset reviewable', async () => {
    const { projectId, users } = await project();
    const A = t.callerFor(users.owner);
    const policy = (await A.agent.policy({ projectId })).policy;
    await A.agent.setPolicy({ projectId, policy: { ...policy, maxSteps: 2 }, checkCommand: null });
    model.configure({ turns: () => ({ toolCalls: [call('write_file', { path: 'src/greet.js', content: `// ${Math.random()}\n` })] }), tokensPerSecond: 3000 });
    const started = await A.agent.start({ projectId, task: 'Loop forever.' });
    const run = await finished(projectId, started.id, A);
    assert.equal(run.status, 'ready');
    assert.equal(run.steps, 2);
    // The record trails the run by at most one write (coalesced, off the loop's path).
    await until('the record of the ended run', async () => (await db.prisma.agentRun.findUniqueOrThrow({ where: { id: started.id } })).status === 'ready');
    // Simulate a restart: the row says running, a fresh service recovers it.
    await db.prisma.agentRun.update({ where: { id: started.id }, data: { status: 'running' } });
    const fresh = new AgentService({ prisma: db.prisma, hub, documents: sync, files, logError: () => {} });
    assert.equal(await fresh.recoverInterrupted(projectId), 1);
    const reloaded = await fresh.get(projectId, started.id);
    assert.equal(reloaded.run.status, 'interrupted');
    assert.deepEqual(reloaded.changeset.files.map((f) => [f.path, f.hunks[0]!.decision]), [['src/greet.js', 'pending']]);
    await fresh.decide({ userId: users.owner.id, name: 'Owner', role: 'owner' }, projectId, started.id, { type: 'acceptAll' });
    assert.match((await readLive(projectId))['src/greet.js']!, /^\/\/ 0\.\d+\n$/);
    await fresh.close();
  });
});
