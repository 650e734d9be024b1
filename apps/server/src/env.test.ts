import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from './env.ts';

const dir = mkdtempSync(join(tmpdir(), 'tandem-env-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const load = (vars: Record<string, string>, argv: string[] = []) => loadEnv({ TANDEM_DATA_DIR: dir, TANDEM_SECRET: 'x'.repeat(32), ...vars }, argv);

test('no AI variables: no providers, and the server still starts', () => {
  assert.deepEqual(load({}).ai, { providers: [] });
});

test('OPENAI_* make one OpenAI-compatible provider', () => {
  const env = load({ OPENAI_BASE_URL: 'https://api.groq.com/openai/v1', OPENAI_API_KEY: 'gsk_1', OPENAI_MODEL: 'llama-3.1-8b-instant', OPENAI_LABEL: 'Groq' });
  assert.deepEqual(env.ai.providers, [{ kind: 'openai-compatible', id: 'openai', label: 'Groq', baseUrl: 'https://api.groq.com/openai/v1', model: 'llama-3.1-8b-instant', apiKey: 'gsk_1', fim: false }]);
  const fim = load({ OPENAI_BASE_URL: 'http://localhost:8080/v1', OPENAI_MODEL: 'local', OPENAI_FIM: 'true', OPENAI_FIM_FORMAT: 'qwen' });
  assert.deepEqual(fim.ai.providers[0], { kind: 'openai-compatible', id: 'openai', label: 'local at localhost:8080', baseUrl: 'http://localhost:8080/v1', model: 'local', fim: true, fimFormat: 'qwen' });
  assert.throws(() => load({ OPENAI_BASE_URL: 'http://localhost:8080/v1' }), /OPENAI_MODEL: required/);
  assert.throws(() => load({ OPENAI_BASE_URL: 'http://x/v1', OPENAI_MODEL: 'm', OPENAI_FIM_FORMAT: 'nope' }), /OPENAI_FIM_FORMAT/);
});

test('TANDEM_AI_PROVIDERS, a local model and a default provider combine', () => {
  const model = join(dir, 'tiny.gguf');
  writeFileSync(model, 'x');
  const env = load({
    TANDEM_AI_PROVIDERS: JSON.stringify([{ kind: 'openai-compatible', id: 'cerebras', baseUrl: 'https://api.cerebras.ai/v1', apiKey: 'k', model: 'gpt-oss-120b' }]),
    TANDEM_LOCAL_MODEL_PATH: model,
    TANDEM_AI_DEFAULT_PROVIDER: 'local',
  });
  assert.deepEqual(env.ai.providers.map((p) => [p.kind, p.id]), [['openai-compatible', 'cerebras'], ['local-llama', 'local']]);
  assert.equal(env.ai.defaultProviderId, 'local');
  assert.throws(() => load({ TANDEM_AI_PROVIDERS: '{not json' }), /TANDEM_AI_PROVIDERS: must be a JSON array/);
  assert.throws(() => load({ TANDEM_LOCAL_MODEL_PATH: join(dir, 'missing.gguf') }), /TANDEM_LOCAL_MODEL_PATH: no file/);
});

test('--no-web serves the API and sync only', () => {
  assert.equal(load({}).web, true);
  assert.equal(load({}, ['--no-web']).web, false);
});

test('REDIS_URL (several nodes) requires a PostgreSQL DATABASE_URL', () => {
  assert.throws(() => load({ REDIS_URL: 'redis://127.0.0.1:6379' }), /REDIS_URL: several nodes need a shared PostgreSQL DATABASE_URL/);
  assert.throws(() => loadEnv({ TANDEM_DATA_DIR: dir, REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://h/db' }, []), /REDIS_URL: several nodes need the same TANDEM_SECRET/);
  const env = load({ REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://postgres@127.0.0.1/tandem' });
  assert.equal(env.TANDEM_REDIS_PREFIX, 'tandem:');
  assert.throws(() => load({ TANDEM_NODE_ID: 'a b' }), /TANDEM_NODE_ID/);
});

test('TANDEM_ACP_AGENTS: external agents validated at start-up, none by default', () => {
  assert.deepEqual(load({}).acpAgents, []);
  const [agent] = load({ TANDEM_ACP_AGENTS: '[{"id":"gemini","label":"Gemini CLI","command":"gemini","args":["--experimental-acp"]}]' }).acpAgents;
  assert.equal(agent?.label, 'Gemini CLI');
  assert.deepEqual(agent?.args, ['--experimental-acp']);
  assert.throws(() => load({ TANDEM_ACP_AGENTS: '[{"id":"x"}]' }), /Invalid configuration:\n {2}TANDEM_ACP_AGENTS\[0\]: command must be/);
});
