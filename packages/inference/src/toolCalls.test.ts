import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAICompatibleProvider, type OpenAICompatibleConfig } from './OpenAICompatibleProvider.ts';
import { InferenceError } from './InferenceError.ts';
import { meter } from './MeteredStream.ts';
import { OpenAITestServer } from './testing/index.ts';
import type { ChatMessage, InferenceChunk, ToolDefinition } from './types.ts';

let server: OpenAITestServer;
let baseUrl: string;

before(async () => {
  server = new OpenAITestServer({ tokensPerSecond: 20_000 });
  baseUrl = await server.listen();
});
after(() => server.close());

const tools: ToolDefinition[] = [
  { name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
  { name: 'edit_file', description: 'Edit a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
];

function provider(overrides: Partial<OpenAICompatibleConfig> = {}): OpenAICompatibleProvider {
  return new OpenAICompatibleProvider({ kind: 'openai-compatible', id: 't', label: 'Test AI', baseUrl, model: 'm', ...overrides });
}

async function collect(stream: AsyncIterable<InferenceChunk>): Promise<InferenceChunk[]> {
  const out: InferenceChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

const messages: ChatMessage[] = [{ role: 'user', content: 'Fix the bug' }];

test('streams tool calls as fragments and assembles them with parsed arguments', async () => {
  server.configure({
    turns: [{
      content: 'Reading both.',
      toolCalls: [
        { id: 'call_a', name: 'read_file', arguments: JSON.stringify({ path: 'src/a.ts' }) },
        { id: 'call_b', name: 'read_file', arguments: JSON.stringify({ path: 'src/ünïcode "quoted".ts' }) },
      ],
    }],
  });
  const stream = meter(provider().generate({ mode: 'chat', messages, tools }));
  const chunks = await collect(stream);
  const text = chunks.filter((c) => c.type === 'text').map((c) => (c.type === 'text' ? c.text : '')).join('');
  assert.equal(text, 'Reading both.');
  const deltas = chunks.filter((c) => c.type === 'tool_call_delta');
  assert.ok(deltas.length > 4, `arguments arrive in fragments (${deltas.length})`);
  const calls = chunks.flatMap((c) => (c.type === 'tool_call' ? [c] : []));
  assert.deepEqual(calls.map((c) => [c.index, c.call.id, c.call.name, c.args]), [
    [0, 'call_a', 'read_file', { path: 'src/a.ts' }],
    [1, 'call_b', 'read_file', { path: 'src/ünïcode "quoted".ts' }],
  ]);
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'tool_calls' });
  const body = server.requests.at(-1)!.body!;
  assert.deepEqual((body.tools as Array<{ type: string; function: { name: string } }>).map((t) => [t.type, t.function.name]), [['function', 'read_file'], ['function', 'edit_file']]);
  assert.equal(body.tool_choice, 'auto');
  const metrics = await stream.done;
  assert.ok(metrics.ttftMs !== null && metrics.completionTokens > 0, 'call fragments count as generated output');
});

test('malformed tool-call JSON is reported on the call, not thrown', async () => {
  server.configure({ turns: [{ toolCalls: [{ name: 'edit_file', arguments: '{"path": "a.ts", "search": "unterminated' }, { name: 'read_file', arguments: '[1,2]' }] }] });
  const chunks = await collect(provider().generate({ mode: 'chat', messages, tools }));
  const calls = chunks.flatMap((c) => (c.type === 'tool_call' ? [c] : []));
  assert.equal(calls.length, 2);
  assert.equal(calls[0]!.args, undefined);
  assert.match(calls[0]!.argumentsError!, /not valid JSON/);
  assert.equal(calls[0]!.call.arguments, '{"path": "a.ts", "search": "unterminated');
  assert.match(calls[1]!.argumentsError!, /JSON object/);
  assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'tool_calls' });
});

test('a reactive multi-turn script sees tool results sent back in the wire shape', async () => {
  server.configure({
    turns: (request, n) => {
      if (n === 0) return { toolCalls: [{ id: 'c1', name: 'read_file', arguments: '{"path":"a.ts"}' }] };
      const msgs = request.body!.messages as Array<Record<string, unknown>>;
      const result = msgs.find((m) => m.role === 'tool');
      return { content: `saw ${String(result?.content)} for ${String(result?.tool_call_id)}` };
    },
  });
  const p = provider();
  const first = await collect(p.generate({ mode: 'chat', messages, tools }));
  const call = first.find((c) => c.type === 'tool_call');
  assert.ok(call?.type === 'tool_call');
  const next: ChatMessage[] = [
    ...messages,
    { role: 'assistant', content: '', toolCalls: [call.call] },
    { role: 'tool', toolCallId: call.call.id, content: 'export const a = 1;' },
  ];
  const second = await collect(p.generate({ mode: 'chat', messages: next, tools }));
  assert.equal(second.filter((c) => c.type === 'text').map((c) => (c.type === 'text' ? c.text : '')).join(''), 'saw export const a = 1; for c1');
  assert.deepEqual(second.at(-1), { type: 'finish', reason: 'stop' });
  const wire = (server.requests.at(-1)!.body!.messages as Array<Record<string, unknown>>)[1]!;
  assert.deepEqual(wire, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.ts"}' } }] });
  assert.equal(server.scriptedTurns, 2);
});

test('a drop in the middle of a tool call is a connection_dropped error', async () => {
  server.configure({ turns: [{ toolCalls: [{ name: 'read_file', arguments: '{"path":"a-very-long-path/to/a/file.ts"}' }], fault: { kind: 'drop', afterTokens: 3 } }] });
  const seen: InferenceChunk[] = [];
  await assert.rejects(async () => {
    for await (const c of provider().generate({ mode: 'chat', messages, tools })) seen.push(c);
  }, (e: unknown) => e instanceof InferenceError && e.kind === 'connection_dropped');
  assert.ok(seen.some((c) => c.type === 'tool_call_delta'), 'fragments before the drop were delivered');
  assert.ok(!seen.some((c) => c.type === 'tool_call'), 'no half call is reported as complete');
});

test('a scripted 429 turn is rate_limited with its retry delay', async () => {
  server.configure({ turns: [{ fault: { kind: 'rate_limit', retryAfterSeconds: 2 } }] });
  await assert.rejects(collect(provider().generate({ mode: 'chat', messages, tools })), (e: unknown) => {
    return e instanceof InferenceError && e.kind === 'rate_limited' && e.retryAfterMs === 2000;
  });
});

test('a provider configured without tool support refuses tools clearly', async () => {
  const p = provider({ tools: false });
  assert.equal(p.info.tools, false);
  await assert.rejects(collect(p.generate({ mode: 'chat', messages, tools })), (e: unknown) => e instanceof InferenceError && e.kind === 'unsupported' && /tool calling/.test(e.message));
});
