import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { AnyMessage } from '@agentclientprotocol/sdk';
import { acpStdioStream } from './acpStream.ts';

const message = (id: number, text: string) => ({ jsonrpc: '2.0', id, result: { content: text } }) as AnyMessage;

test('messages to the agent are lines on its stdin; while it does not read, the next write waits for the pipe to drain', async () => {
  const stdin = new PassThrough({ highWaterMark: 64 });
  const stream = acpStdioStream(stdin, new PassThrough(), { activity: () => {}, broken: () => {} });
  const writer = stream.writable.getWriter();
  await writer.write(message(1, 'small'));
  assert.equal(String(stdin.read()), `${JSON.stringify(message(1, 'small'))}\n`);
  let second = false;
  const big = message(2, 'x'.repeat(1000));
  void writer.write(big).then(() => (second = true));
  const third = writer.write(message(3, 'after'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(second, false, 'the agent has not read it yet');
  const lines = [];
  let chunk: Buffer | null;
  while ((chunk = stdin.read() as Buffer | null) !== null) lines.push(String(chunk));
  await third;
  while ((chunk = stdin.read() as Buffer | null) !== null) lines.push(String(chunk));
  assert.equal(second, true);
  assert.deepEqual(lines.join('').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: number }).id), [2, 3]);
});

test('a write to an agent that is gone neither throws nor hangs', async () => {
  const stdin = new PassThrough();
  const stream = acpStdioStream(stdin, new PassThrough(), { activity: () => {}, broken: () => {} });
  stdin.destroy();
  await stream.writable.getWriter().write(message(1, 'late'));
});

test('lines from the agent become messages in order, across chunks and before anyone reads; its end ends the stream', async () => {
  const stdout = new PassThrough();
  let activity = 0;
  const reader = acpStdioStream(new PassThrough(), stdout, { activity: () => activity++, broken: () => {} }).readable.getReader();
  const one = JSON.stringify(message(1, 'a'));
  const two = JSON.stringify(message(2, 'b\nc'));
  stdout.write(`${one}\n${two.slice(0, 10)}`);
  stdout.write(`${two.slice(10)}\n\n`);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(await reader.read(), { value: JSON.parse(one), done: false });
  assert.deepEqual(await reader.read(), { value: JSON.parse(two), done: false });
  const pending = reader.read();
  stdout.write(`${JSON.stringify(message(3, 'd'))}\n`);
  assert.equal(((await pending).value as { id: number }).id, 3, 'a waiting read gets the next message');
  stdout.end();
  assert.deepEqual(await reader.read(), { value: undefined, done: true });
  assert.ok(activity >= 3);
});

test('a line that is not a JSON-RPC object breaks the stream with what the agent printed', async () => {
  const stdout = new PassThrough();
  const broken: string[] = [];
  const reader = acpStdioStream(new PassThrough(), stdout, { activity: () => {}, broken: (m) => broken.push(m) }).readable.getReader();
  const pending = reader.read();
  stdout.write('hello, I am not json\n');
  await assert.rejects(pending, /malformed JSON-RPC frame: "hello, I am not json"/);
  assert.deepEqual(broken, ['sent a malformed JSON-RPC frame: "hello, I am not json"']);
  await assert.rejects(reader.read(), /malformed/);
});
