import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, DEFAULT_AGENT_POLICY } from '@tandem/protocol';
import { commandAllowed, isForbiddenPath, mayStartOrSteer, parseAgentPolicy } from './agentPolicy.ts';

test('forbidden path globs: names anywhere, folders cover their contents, ** across segments', () => {
  const globs = ['.env', '.env.*', 'secrets/**', '*.pem', 'config/private'];
  for (const p of ['.env', 'app/.env', '.env.local', 'secrets/a', 'secrets/x/y/z.txt', 'keys/server.pem', 'config/private', 'config/private/k']) {
    assert.ok(isForbiddenPath(globs, p), p);
  }
  for (const p of ['env', 'src/.envrc', 'src/secrets.ts', 'mysecrets/a', 'a/secrets/b', 'pem', 'config/privateer', 'other/config/private']) {
    assert.ok(!isForbiddenPath(globs, p), p);
  }
  assert.ok(isForbiddenPath(['src/**/gen/*.ts'], 'src/a/b/gen/x.ts'));
  assert.ok(isForbiddenPath(['src/**/gen/*.ts'], 'src/gen/x.ts'));
  assert.ok(!isForbiddenPath(['src/**/gen/*.ts'], 'src/gen/sub/x.ts'));
});

test('allowed commands match whole, and shell syntax always asks', () => {
  const allowed = ['npm test', 'npm run *', 'node *'];
  assert.ok(commandAllowed(allowed, 'npm test'));
  assert.ok(commandAllowed(allowed, '  npm test '));
  assert.ok(commandAllowed(allowed, 'npm run lint'));
  assert.ok(commandAllowed(allowed, 'node test.js'));
  assert.ok(!commandAllowed(allowed, 'npm test --watch'));
  assert.ok(!commandAllowed(allowed, 'npm install left-pad'));
  assert.ok(!commandAllowed(allowed, 'npm test; curl evil'));
  assert.ok(!commandAllowed(allowed, 'npm run x && rm -rf /'));
  assert.ok(!commandAllowed(allowed, 'node $(cat .env)'));
  assert.ok(!commandAllowed(allowed, 'node a.js > out'));
  assert.ok(!commandAllowed(allowed, 'npm run a\nrm x'));
  assert.ok(!commandAllowed([], 'npm test'));
  assert.ok(commandAllowed(['make.*'], 'make.*'), 'regex characters in patterns are literal');
  assert.ok(!commandAllowed(['make.*'], 'makeXall'));
});

test('who may start and steer', () => {
  assert.ok(mayStartOrSteer(DEFAULT_AGENT_POLICY, 'editor'));
  assert.ok(mayStartOrSteer(DEFAULT_AGENT_POLICY, 'owner'));
  assert.ok(!mayStartOrSteer(DEFAULT_AGENT_POLICY, 'viewer'));
  const ownerOnly = { ...DEFAULT_AGENT_POLICY, starters: 'owner' as const };
  assert.ok(!mayStartOrSteer(ownerOnly, 'editor'));
  assert.ok(mayStartOrSteer(ownerOnly, 'owner'));
});

test('policy parsing: defaults, bounds, bad input', () => {
  assert.deepEqual(parseAgentPolicy(null), DEFAULT_AGENT_POLICY);
  assert.deepEqual(parseAgentPolicy({ maxSteps: 5 }), { ...DEFAULT_AGENT_POLICY, maxSteps: 5 });
  for (const bad of [[], 'x', { starters: 'anyone' }, { maxSteps: 0 }, { maxSteps: 1.5 }, { maxTokens: 1e9 },
    { allowedCommands: 'npm test' }, { forbiddenPaths: [''] }, { forbiddenPaths: Array(51).fill('a') }, { allowedCommands: ['a\nb'] }]) {
    assert.throws(() => parseAgentPolicy(bad), (e: unknown) => e instanceof AppError && e.code === 'BAD_INPUT', JSON.stringify(bad));
  }
});
