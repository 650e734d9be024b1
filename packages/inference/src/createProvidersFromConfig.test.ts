import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '@tandem/protocol';
import { createProvidersFromConfig, type ProviderConfig } from './createProvidersFromConfig.ts';
import { OpenAICompatibleProvider } from './OpenAICompatibleProvider.ts';
import { LocalLlamaProvider } from './LocalLlamaProvider.ts';
import { OpenAITestServer } from './testing/index.ts';

test('no providers configured is a valid, empty registry', async () => {
  const registry = createProvidersFromConfig({ providers: [] });
  assert.deepEqual(registry.list(), []);
  assert.equal(registry.get('anything'), undefined);
  assert.equal(registry.defaultProvider(), undefined);
  assert.throws(() => registry.require('anything'), (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND');
  await registry.dispose();
});

test('creates providers in config order, with info and a default', async () => {
  const registry = createProvidersFromConfig({
    providers: [
      { kind: 'openai-compatible', id: 'groq', label: 'Groq', baseUrl: 'https://api.groq.com/openai/v1', apiKey: 'k', model: 'llama-3.1-8b-instant' },
      { kind: 'local-llama', id: 'local', modelPath: '/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf', fim: true },
    ],
    defaultProviderId: 'local',
  });
  assert.deepEqual(registry.list(), [
    { id: 'groq', label: 'Groq', model: 'llama-3.1-8b-instant', kind: 'openai-compatible', fim: false, tools: true },
    { id: 'local', label: 'local', model: 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf', kind: 'local-llama', fim: true, tools: false },
  ]);
  assert.ok(registry.get('groq') instanceof OpenAICompatibleProvider);
  assert.ok(registry.require('local') instanceof LocalLlamaProvider);
  assert.equal(registry.defaultProvider()?.id, 'local');
  assert.equal(JSON.stringify(registry.list()).includes('"k"'), false, 'info never carries the key');
  await registry.dispose(); // nothing was loaded or connected: must not touch the missing model
});

test('a provider from the registry streams end to end', async () => {
  const server = new OpenAITestServer({ tokens: ['ok'] });
  const url = await server.listen();
  const registry = createProvidersFromConfig({ providers: [{ kind: 'openai-compatible', id: 'test', baseUrl: url, model: 'm' }] });
  try {
    const chunks = [];
    for await (const c of registry.require('test').generate({ mode: 'chat', messages: [{ role: 'user', content: 'hi' }] })) chunks.push(c);
    assert.deepEqual(chunks.at(-1), { type: 'finish', reason: 'stop' });
  } finally {
    await registry.dispose();
    await server.close();
  }
});

test('invalid config is refused with a message naming the entry, never the key', () => {
  const bad: Array<[ProviderConfig[], RegExp]> = [
    [[{ kind: 'openai-compatible', id: 'a', baseUrl: 'not a url', apiKey: 'sk-secret', model: 'm' }], /#1: baseUrl is not a URL/],
    [[{ kind: 'openai-compatible', id: 'a', baseUrl: 'ftp://x', model: 'm' }], /http\(s\)/],
    [[{ kind: 'openai-compatible', id: 'a', baseUrl: 'http://x', model: '' }], /model is required/],
    [[{ kind: 'openai-compatible', id: 'bad id!', baseUrl: 'http://x', model: 'm' }], /id must be/],
    [[{ kind: 'local-llama', id: 'l', modelPath: '' }], /modelPath is required/],
    [[{ kind: 'local-llama', id: 'l', modelPath: '/m.gguf', threads: 0 }], /threads must be a positive integer/],
    [[{ kind: 'local-llama', id: 'x', modelPath: '/m.gguf' }, { kind: 'local-llama', id: 'x', modelPath: '/n.gguf' }], /#2: duplicate provider id "x"/],
  ];
  for (const [providers, message] of bad) {
    assert.throws(() => createProvidersFromConfig({ providers }), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'BAD_INPUT');
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /sk-secret/);
      return true;
    });
  }
  assert.throws(() => createProvidersFromConfig({ providers: [], defaultProviderId: 'x' }), /default provider "x" is not configured/);
});
