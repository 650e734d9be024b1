import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAcpAgents } from './acpAgents.ts';

test('the deployment list of external agents: defaults filled, every field checked with a message naming it', () => {
  assert.deepEqual(parseAcpAgents(undefined), []);
  assert.deepEqual(parseAcpAgents(' '), []);
  const [claude] = parseAcpAgents(JSON.stringify([{
    id: 'claude', label: 'Claude Code', command: 'claude-code-acp', env: { ANTHROPIC_API_KEY: 'k' }, egressHosts: ['api.anthropic.com', '*.example.com:8443'],
  }]));
  assert.deepEqual({ ...claude, egressHosts: claude!.egressHosts.length }, {
    id: 'claude', label: 'Claude Code', command: 'claude-code-acp', args: [], env: { ANTHROPIC_API_KEY: 'k' }, egressHosts: 2, mounts: [],
  });
  const bad: Array<[unknown, RegExp]> = [
    ['{', /not valid JSON/],
    [{ id: 'x' }, /JSON array/],
    [[{ id: 'Bad Id', command: 'x' }], /\[0\]: id must be/],
    [[{ id: 'a', command: 'x' }, { id: 'a', command: 'y' }], /\[1\]: id "a" is used twice/],
    [[{ id: 'a', command: '' }], /command must be/],
    [[{ id: 'a', command: 'x', args: [1] }], /args must be/],
    [[{ id: 'a', command: 'x', env: { 'BAD-NAME': 'v' } }], /env\.BAD-NAME/],
    [[{ id: 'a', command: 'x', egressHosts: ['http://x/'] }], /egressHosts entry "http:\/\/x\/"/],
    [[{ id: 'a', command: 'x', mounts: [{ host: '/srv/agent', sandbox: '/project/agent' }] }], /under \/opt\//],
    [[{ id: 'a', command: 'x', mounts: [{ host: 'relative', sandbox: '/opt/agent' }] }], /absolute path/],
    [[{ id: 'a', command: 'x', mounts: [{ host: '/srv', sandbox: '/opt/../etc' }] }], /under \/opt\//],
  ];
  for (const [value, message] of bad) {
    assert.throws(() => parseAcpAgents(typeof value === 'string' ? value : JSON.stringify(value)), message, JSON.stringify(value));
  }
});
