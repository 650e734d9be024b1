import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EgressProxy } from './EgressProxy.ts';
import { parseAllowList } from './EgressAllowlist.ts';

// Name resolution is a double (no DNS here); the decision logic is the real proxy's.
const resolve = async () => [{ address: '93.184.216.34', family: 4 }];

test('a session\'s own hosts (an external agent\'s API) are allowed for that session only', async () => {
  const proxy = new EgressProxy({ allow: parseAllowList(['registry.npmjs.org']), deniedPorts: [5432], resolve });
  const agentHosts = parseAllowList(['api.anthropic.com']);
  assert.deepEqual(await proxy.decide('p1', 'api.anthropic.com', 443, agentHosts), { ok: true, address: '93.184.216.34' });
  const other = await proxy.decide('p1', 'api.anthropic.com', 443);
  assert.equal(other.ok, false, 'a session without them is refused');
  assert.match(!other.ok ? other.message : '', /not on this project's allowlist/);
  assert.equal((await proxy.decide('p1', 'evil.example.com', 443, agentHosts)).ok, false, 'nothing else opens up');
  assert.equal((await proxy.decide('p1', 'registry.npmjs.org', 443, agentHosts)).ok, true, 'the registries stay reachable');
});
