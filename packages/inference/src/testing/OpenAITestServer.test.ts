import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { OpenAITestServer } from './OpenAITestServer.ts';

/** Reads an SSE stream raw and returns the content deltas with their arrival times. */
async function readDeltas(url: string, body: object, headers: Record<string, string> = {}): Promise<{ deltas: string[]; times: number[]; raw: string }> {
  const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const deltas: string[] = [];
  const times: number[] = [];
  let raw = '';
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    raw += text;
    buffer += text;
    const events = buffer.split('\n\n');
    buffer = events.pop()!;
    for (const e of events) {
      if (!e.startsWith('data: ') || e === 'data: [DONE]') continue;
      const content = (JSON.parse(e.slice(6)) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content;
      if (content) {
        deltas.push(content);
        times.push(performance.now());
      }
    }
  }
  return { deltas, times, raw };
}

test('paces 3,000 tok/s on schedule, batching due tokens per tick', async () => {
  const server = new OpenAITestServer({ tokensPerSecond: 3000, ttftMs: 50 });
  const url = await server.listen();
  try {
    const started = performance.now();
    const { deltas, times } = await readDeltas(url, { model: 'm', messages: [], max_tokens: 900 });
    assert.equal(deltas.length, 900);
    assert.equal(deltas[899], ' t899');
    const ttft = times[0]! - started;
    const streamMs = times[899]! - times[0]!;
    // Token i is due at i/3000 s: the 899 gaps cannot take less than ~300 ms. A loaded CI box may
    // run late, so only the upper bound is generous.
    assert.ok(ttft >= 45, `ttft ${ttft.toFixed(1)} ms`);
    assert.ok(streamMs >= 280 && streamMs < 900, `900 tokens in ${streamMs.toFixed(1)} ms`);
  } finally {
    await server.close();
  }
});

test('as-fast-as-possible mode streams 20,000 tokens without pacing', async () => {
  const server = new OpenAITestServer({ tokensPerSecond: Infinity, tokenCount: 20_000 });
  const url = await server.listen();
  try {
    const { deltas } = await readDeltas(url, { model: 'm', messages: [] });
    assert.equal(deltas.length, 20_000);
  } finally {
    await server.close();
  }
});

test('usage follows the finish event only when requested; [DONE] ends the stream', async () => {
  const server = new OpenAITestServer({ tokens: ['a', 'b'] });
  const url = await server.listen();
  try {
    const withUsage = await readDeltas(url, { model: 'm', messages: [], stream_options: { include_usage: true } });
    assert.match(withUsage.raw, /"finish_reason":"stop".*\n\ndata: \{[^\n]*"usage":\{"prompt_tokens":\d+,"completion_tokens":2,/s);
    assert.ok(withUsage.raw.endsWith('data: [DONE]\n\n'));
    const without = await readDeltas(url, { model: 'm', messages: [] });
    assert.doesNotMatch(without.raw, /usage/);
  } finally {
    await server.close();
  }
});

test('runs standalone: the CLI prints its URL, serves, reconfigures and reports requests', async () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--tokens', 'x,y,z', '--tokens-per-second', 'Infinity'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const url = line.toString().trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.deepEqual((await readDeltas(url, { model: 'm', messages: [] })).deltas, ['x', 'y', 'z']);
    const origin = new URL(url).origin;
    await fetch(`${origin}/__test/configure`, { method: 'POST', body: JSON.stringify({ fault: { kind: 'rate_limit', retryAfterSeconds: 2 } }) });
    const limited = await fetch(`${url}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [] }) });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '2');
    const report = (await (await fetch(`${origin}/__test/requests`)).json()) as { requests: Array<{ path: string }> };
    assert.equal(report.requests.length, 2);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});
