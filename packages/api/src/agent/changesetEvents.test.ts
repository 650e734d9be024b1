import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_EVENTS, type AgentRunView, type ProjectStreamEventName, type ProjectStreamEvents } from '@tandem/protocol';
import { EventHub } from '../EventHub.ts';
import type { AgentWorkspace } from './AgentWorkspace.ts';
import { CHANGESET_EVENT_MS, LiveAgentRun } from './LiveAgentRun.ts';

/** A hub that also records what was published. */
class RecordingHub extends EventHub {
  readonly types: string[] = [];
  override publish<K extends ProjectStreamEventName>(channel: string, type: K, data: ProjectStreamEvents[K]): void {
    this.types.push(type);
    super.publish(channel, type, data);
  }
}

test('a burst of changeset changes sends one event at once and one at the end of the interval; a turn end sends it at once', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const hub = new RecordingHub();
    const run = new LiveAgentRun(hub, { id: 'r1', projectId: 'p1' } as AgentRunView, {} as AgentWorkspace);
    const sent = () => hub.types.filter((t) => t === AGENT_EVENTS.changeset).length;
    run.changesetChanged();
    assert.equal(sent(), 1, 'the first change is sent at once');
    for (let i = 0; i < 50; i++) run.changesetChanged();
    assert.equal(sent(), 1, 'the burst waits');
    mock.timers.tick(CHANGESET_EVENT_MS);
    assert.equal(sent(), 2, 'the last state follows at the end of the interval');
    mock.timers.tick(CHANGESET_EVENT_MS * 10);
    assert.equal(sent(), 2, 'nothing more without changes');
    run.changesetChanged();
    assert.equal(sent(), 3, 'after a quiet interval a change is sent at once again');
    run.changesetChanged();
    run.changesetChanged(true);
    assert.equal(sent(), 4, 'a turn end sends it at once');
    mock.timers.tick(CHANGESET_EVENT_MS * 10);
    assert.equal(sent(), 4, 'and the pending one is not sent after it');
  } finally {
    mock.timers.reset();
  }
});
