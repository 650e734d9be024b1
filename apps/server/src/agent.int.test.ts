// Agent runs end to end, in-process: the real server (tRPC over HTTP, sync endpoint, PGlite,
// sandbox), the OpenAI test double scripting the model's streamed tool calls (configured through
// env), three participants reading `stream.events` over real SSE and editing through stock
// y-websocket clients. A starts a run; B and C watch it stream; B types in a file the agent is
// changing; B steers; the agent runs the tests in the sandbox (output to everyone); C (viewer)
// cannot steer or decide; A accepts two files and rejects one; every editor shows the result;
// undo reverts it for everyone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_EVENTS, FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type AgentItemEvent, type AgentRunView, type TreeEntry } from '@tandem/protocol';
import { OpenAITestServer, type ScriptedTurn } from '@tandem/inference/testing';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { connectSync, signUpOverHttp, waitFor, type SignedIn, type SyncClient } from './testing/clients.ts';
import { HttpSubscription, type SseMessage } from './testing/HttpSubscription.ts';

let dataDir: string;
let upstream: OpenAITestServer;
let server: TandemServer;
const clients: SyncClient[] = [];
const subscriptions: HttpSubscription[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-agent-'));
  upstream = new OpenAITestServer({ tokensPerSecond: 2000 });
  await upstream.listen();
  server = await startTandemServer(loadEnv({
    PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false',
    OPENAI_BASE_URL: upstream.url, OPENAI_MODEL: 'agent-model', OPENAI_LABEL: 'Test AI',
  }, []), { withWeb: false });
});

after(async () => {
  for (const s of subscriptions) s.close();
  for (const c of clients) c.destroy();
  await server?.close();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

type Envelope = { type: string; data: unknown };
const envelope = (m: SseMessage) => m.data as Envelope | null;
const call = (name: string, args: unknown) => ({ name, arguments: JSON.stringify(args) });

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.equal((e as { data?: { code?: string } }).data?.code, code, (e as Error).message);
    return true;
  });
}

test('three people watch, steer and review one agent run over SSE and y-websocket', async () => {
  const A = await signUpOverHttp(server.url, 'Ann');
  const projectId = (await A.api.projects.create.mutate({ name: 'Agent', template: 'empty' })).id;
  const member = async (name: string, role: 'editor' | 'viewer'): Promise<SignedIn> => {
    const user = await signUpOverHttp(server.url, name);
    await user.api.invites.accept.mutate({ token: (await A.api.invites.create.mutate({ projectId, role })).token });
    return user;
  };
  const B = await member('Ben', 'editor');
  const C = await member('Cat', 'viewer');
  const ids: Record<string, string> = {};
  const files: Record<string, string> = {
    'package.json': '{"type":"module"}\n',
    'src/math.js': 'export function add(a, b) {\n  return a - b;\n}\n',
    'src/greet.js': 'export const greet = (n) => "Hi " + n;\n',
    'test.js': "import { add } from './src/math.js';\nif (add(2, 3) !== 5) { console.error('add(2, 3) = ' + add(2, 3)); process.exit(1); }\nconsole.log('tests passed');\n",
  };
  for (const [path, content] of Object.entries(files)) {
    const fileId = ids[path] = randomUUID();
    await server.sync.editDocument(fileDocName(projectId, fileId), (doc) => doc.getText(FILE_TEXT).insert(0, content));
    await server.sync.editDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).set(fileId, { path, kind: 'file' }));
  }
  const subs = await Promise.all([A, B, C].map(async (who) => {
    const sub = await HttpSubscription.open(server.url, 'stream.events', { projectId, tabId: randomUUID() }, { cookie: who.cookie });
    subscriptions.push(sub);
    return sub;
  }));
  const editors = await Promise.all([A, B, C].map(async (who) => {
    const c = connectSync(server.url, fileDocName(projectId, ids['src/math.js']!), { cookie: who.cookie });
    clients.push(c);
    await c.synced;
    return c;
  }));

  upstream.configure({
    tokensPerSecond: 400,
    turns: (request, n): ScriptedTurn | undefined => {
      const msgs = request.body!.messages as Array<{ role: string; content: string }>;
      const steered = msgs.some((m) => m.role === 'user' && m.content.includes('template literal'));
      switch (n) {
        case 0: return { content: 'I will read the math module and then fix the greeting as well. '.repeat(3), toolCalls: [call('read_file', { path: 'src/math.js' })] };
        // Long enough (≈2 s at 400 tokens/s) that B's steering arrives before the next turn.
        case 1: return { content: 'Editing math. '.repeat(240), toolCalls: [call('edit_file', { path: 'src/math.js', edits: [{ search: 'a - b', replace: 'a + b' }] })] };
        case 2: return {
          toolCalls: [
            call('write_file', { path: 'src/greet.js', content: steered ? 'export const greet = (n) => `Hello, ${n}!`;\n' : 'export const greet = (n) => "Hello, " + n;\n' }),
            call('create_file', { path: 'NOTES.md', content: '# Notes\n' }),
          ],
        };
        case 3: return { toolCalls: [call('run_command', { command: 'node test.js' })] };
        default: return { toolCalls: [call('finish', { summary: 'add fixed, greet friendlier' })] };
      }
    },
  });

  const started = await A.api.agent.start.mutate({ projectId, task: 'Fix add and make greet friendlier.' });
  // B and C watch the agent's text stream, and its tool calls, live.
  for (const sub of subs.slice(1)) {
    await sub.waitFor((m) => envelope(m)?.type === AGENT_EVENTS.delta, 10_000);
    await sub.waitFor((m) => envelope(m)?.type === AGENT_EVENTS.item && (envelope(m)!.data as AgentItemEvent).item.kind === 'tool_call', 10_000);
  }
  // C (viewer) cannot steer or stop; B steers mid-run.
  await rejects(C.api.agent.steer.mutate({ projectId, runId: started.id, text: 'no' }), 'FORBIDDEN');
  await rejects(C.api.agent.stop.mutate({ projectId, runId: started.id }), 'FORBIDDEN');
  await B.api.agent.steer.mutate({ projectId, runId: started.id, text: 'use a template literal for greet' });
  // B types at the top of math.js meanwhile, away from the agent's change.
  editors[1]!.text.insert(0, '// math helpers\n');

  const readyMessage = await subs[2]!.waitFor((m) => envelope(m)?.type === AGENT_EVENTS.run && ['ready', 'failed'].includes((envelope(m)!.data as AgentRunView).status), 60_000);
  const ready = envelope(readyMessage)!.data as AgentRunView;
  assert.equal(ready.status, 'ready', ready.error ?? '');
  assert.equal(ready.lastCheck?.exitCode, 0, 'the tests passed in the sandbox on documents + changeset');
  assert.ok(subs[2]!.messages.some((m) => envelope(m)?.type === AGENT_EVENTS.output && String((envelope(m)!.data as { text: string }).text).includes('tests passed')), 'command output reached the viewer');
  for (const e of editors) assert.equal(e.text.toString(), '// math helpers\n' + files['src/math.js'], 'nothing applied before review');

  const { changeset, items } = await C.api.agent.get.query({ projectId, runId: started.id });
  // What a watcher rebuilds from the stream (item events, then deltas) is exactly the record.
  const rebuilt = new Map<number, string>();
  for (const m of subs[2]!.messages) {
    const e = envelope(m);
    if (e?.type === AGENT_EVENTS.item && (e.data as AgentItemEvent).item.kind === 'agent_message') {
      const item = (e.data as AgentItemEvent).item as { seq: number; text: string };
      if (!rebuilt.has(item.seq)) rebuilt.set(item.seq, item.text);
    } else if (e?.type === AGENT_EVENTS.delta) {
      const d = e.data as { seq: number; text: string };
      rebuilt.set(d.seq, (rebuilt.get(d.seq) ?? '') + d.text);
    }
  }
  const recorded = items.filter((i) => i.kind === 'agent_message');
  assert.ok(recorded.length >= 2);
  for (const i of recorded) assert.equal(rebuilt.get(i.seq), i.text, `streamed text of item ${i.seq}`);
  assert.ok(items.some((i) => i.kind === 'user_message' && i.steering && i.author.name === 'Ben'));
  assert.deepEqual(changeset.files.map((f) => f.path).sort(), ['NOTES.md', 'src/greet.js', 'src/math.js']);
  await rejects(C.api.agent.acceptAll.mutate({ projectId, runId: started.id }), 'FORBIDDEN');

  await A.api.agent.acceptAll.mutate({ projectId, runId: started.id, path: 'src/math.js' });
  await A.api.agent.acceptAll.mutate({ projectId, runId: started.id, path: 'src/greet.js' });
  await A.api.agent.rejectAll.mutate({ projectId, runId: started.id, path: 'NOTES.md' });
  const expected = '// math helpers\nexport function add(a, b) {\n  return a + b;\n}\n';
  for (const e of editors) await waitFor(() => e.text.toString() === expected, 'every editor to show the accepted change');
  let greet = '';
  await server.sync.editDocument(fileDocName(projectId, ids['src/greet.js']!), (doc) => { greet = doc.getText(FILE_TEXT).toString(); });
  assert.equal(greet, 'export const greet = (n) => `Hello, ${n}!`;\n', 'the steering message changed what the agent wrote');
  assert.equal((await B.api.agent.list.query({ projectId }))[0]!.status, 'applied');

  await B.api.agent.undo.mutate({ projectId, runId: started.id });
  for (const e of editors) await waitFor(() => e.text.toString() === '// math helpers\n' + files['src/math.js'], 'undo to reach every editor');
});
