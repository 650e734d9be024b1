import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentRunView } from '@tandem/protocol';
import { EventHub, projectChannel } from '../EventHub.ts';
import type { AgentWorkspace } from './AgentWorkspace.ts';
import { LiveAgentRun } from './LiveAgentRun.ts';

function setup() {
  const hub = new EventHub();
  const view: AgentRunView = {
    id: 'r1', projectId: 'p1', task: 't', status: 'running', startedBy: { id: 'u1', name: 'Ann' }, provider: 'x', model: 'm',
    createdAt: new Date().toISOString(), endedAt: null, steps: 0, tokens: 0, error: null, lastCheck: null, pendingPermission: null,
  };
  const run = new LiveAgentRun(hub, view, {} as AgentWorkspace);
  const seen: string[] = [];
  const abort = new AbortController();
  const events = hub.subscribe([projectChannel('p1')], { projectId: 'p1', userId: 'u1', signal: abort.signal });
  void (async () => {
    for await (const e of events) seen.push(e.type === 'agent.run' ? `run:${(e.data as AgentRunView).status}` : `item:${(e.data as { item: { text: string } }).item.text}`);
  })();
  const settle = () => new Promise((r) => setImmediate(r));
  return { run, seen, settle, stop: () => abort.abort() };
}

test('events held between a turn and the next request go out in order on release, and a status change releases them first', async () => {
  const { run, seen, settle, stop } = setup();
  run.hold();
  run.notice('one');
  run.notice('two');
  await settle();
  assert.deepEqual(seen, [], 'held');
  run.release();
  await settle();
  assert.deepEqual(seen, ['item:one', 'item:two']);
  run.hold();
  run.notice('three');
  run.setStatus('stopped');
  run.notice('four');
  await settle();
  assert.deepEqual(seen, ['item:one', 'item:two', 'item:three', 'run:stopped', 'item:four'], 'Stop is not held back');
  stop();
});

test('events are never held for long: a slow tool shows while it runs', async () => {
  const { run, seen, settle, stop } = setup();
  run.hold(5);
  run.notice('slow tool started');
  await new Promise((r) => setTimeout(r, 30));
  await settle();
  assert.deepEqual(seen, ['item:slow tool started']);
  run.notice('not held any more');
  await settle();
  assert.deepEqual(seen, ['item:slow tool started', 'item:not held any more']);
  stop();
});
